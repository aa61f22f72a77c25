"""Production's log lines: JSON, one object a line, with the request id."""

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from portal.logs import JsonFormatter, current_request_id
from portal.signednote import Signer


def record(message: str = "sent %s", *args, exc_info=None, **extra) -> logging.LogRecord:
    made = logging.LogRecord("portal.test", logging.WARNING, __file__, 1, message, args or ("it",), exc_info)
    for key, value in extra.items():
        setattr(made, key, value)
    return made


def test_a_line_is_one_json_object_with_level_logger_and_message():
    line = JsonFormatter().format(record())
    assert "\n" not in line
    entry = json.loads(line)
    assert (entry["level"], entry["logger"], entry["message"]) == ("WARNING", "portal.test", "sent it")
    assert entry["time"].endswith("+00:00")
    assert "request_id" not in entry


def test_a_line_written_while_serving_a_request_carries_its_id():
    token = current_request_id.set("4b0c2f")
    try:
        entry = json.loads(JsonFormatter().format(record()))
    finally:
        current_request_id.reset(token)
    assert entry["request_id"] == "4b0c2f"


def test_extra_fields_and_the_exception_are_kept():
    try:
        raise ValueError("boom")
    except ValueError:
        exc_info = sys.exc_info()
    entry = json.loads(JsonFormatter().format(record(exc_info=exc_info, status=503, peer=object())))
    assert entry["status"] == 503
    assert entry["peer"].startswith("<object object")
    assert "ValueError: boom" in entry["exception"]


@pytest.mark.parametrize("env,expected", [("production", "json"), ("development", "text")])
def test_production_logs_json_and_development_plain_text(env, expected):
    # A fresh interpreter: settings are read once per process.
    variables = {
        "DJANGO_ENV": env,
        "DJANGO_SECRET_KEY": "x" * 60,
        "DJANGO_ALLOWED_HOSTS": "fuldmagt.example",
        "REDIS_URL": "redis://127.0.0.1:6379/0",  # production refuses to start without it
        # ... and without the audit log's own signing key
        "AUDIT_LOG_SIGNING_KEY": str(Signer.generate("fuldmagt.example/audit-log")),
        "AUDIT_LOG_ORIGIN": "fuldmagt.example/audit-log",
    }
    shown = subprocess.run(
        [
            sys.executable,
            "-c",
            "from portal import settings as s; print(s.LOG_FORMAT, s.LOGGING['handlers'])",
        ],
        env={"PATH": os.environ["PATH"], **variables},
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert shown.split()[0] == expected
    assert ("'formatter': 'json'" in shown) == (expected == "json")
