# gunicorn reads this file from the working directory (the Procfile's web line runs there).
# In production its own and its access log are JSON lines with the request id, like the portal's.
import os

from gunicorn.glogging import Logger

from portal.logs import JsonFormatter


class JsonLogger(Logger):
    """gunicorn's error and access logs as JSON; an access line has the request id of the response."""

    def setup(self, cfg) -> None:
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                if getattr(handler, "_gunicorn", False):
                    handler.setFormatter(JsonFormatter())

    def access(self, resp, req, environ, request_time) -> None:
        if not self.access_log_enabled:
            return
        headers = {name.lower(): value for name, value in (resp.headers or [])}
        self.access_log.info(
            "%s %s %s",
            req.method,
            req.path,
            resp.status_code,
            extra={
                "request_id": headers.get("x-request-id", ""),
                "method": req.method,
                "path": req.path,
                "status": resp.status_code,
                "duration_ms": round(request_time.total_seconds() * 1000, 1),
                "bytes": getattr(resp, "sent", None),
                "remote_addr": environ.get("HTTP_X_FORWARDED_FOR", environ.get("REMOTE_ADDR", "")),
                "user_agent": environ.get("HTTP_USER_AGENT", ""),
            },
        )


if os.environ.get("LOG_FORMAT", "json" if os.environ.get("DJANGO_ENV") == "production" else "text") == "json":
    logger_class = JsonLogger
