"""JSON logs, one object a line, carrying the request id of the call being served.

Queries and documents never go into a log line: callers' text can be private.
"""

from __future__ import annotations

import json
import logging
import sys
import uuid
from contextvars import ContextVar

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)

MAX_REQUEST_ID_CHARS = 128


def request_id_from(value: str | None) -> str:
    """The caller's id when it sent a sane one, else a fresh one."""
    if value and len(value) <= MAX_REQUEST_ID_CHARS and value.isprintable():
        return value
    return uuid.uuid4().hex


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = request_id_var.get()
        if request_id:
            entry["request_id"] = request_id
        entry.update(getattr(record, "fields", {}))
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(level: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    logging.basicConfig(level=level.upper(), handlers=[handler], force=True)
