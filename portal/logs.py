"""Structured logs: one JSON object per line, each carrying the request id (or the Celery task id).

``portal/settings.py`` uses ``JsonFormatter`` in production (``LOG_FORMAT=json``), gunicorn uses it
for its own and its access log (``gunicorn.conf.py``): a request can be followed from the access
log through the portal's log lines to its audit events by one id.
"""

from __future__ import annotations

import contextvars
import datetime
import json
import logging

#: The id of the request being served (portal.middleware.RequestIdMiddleware sets it); audit events
#: and log lines carry it. Here, free of Django imports, so logging can use it before apps load.
current_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("current_request_id", default="")

# Attributes every LogRecord has; anything else on a record came in through ``extra=``.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime", "taskName"}


def _current_task() -> tuple[str, str]:
    from celery import current_task

    # A proxy: false outside a task.
    if not current_task or current_task.request.id is None:
        return "", ""
    return current_task.request.id, current_task.name


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.datetime.fromtimestamp(record.created, datetime.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "process": record.process,
        }
        request_id = getattr(record, "request_id", None) or current_request_id.get()
        if request_id:
            entry["request_id"] = request_id
        task_id, task_name = _current_task()
        if task_id:
            entry["task_id"], entry["task"] = task_id, task_name
        for key, value in vars(record).items():
            if key not in _STANDARD and key not in entry:
                entry[key] = value if isinstance(value, str | int | float | bool | None) else repr(value)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False)
