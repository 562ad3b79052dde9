"""The gateway's log lines: one per request (method, path, status, time), never a query.

Query text can sit in a body, in ext.rerank and in URL parameters (q=...). Neither the
access line nor the engine clients' request lines (opensearch-py's and elasticsearch-py's, which
hold the URL they called) carry the query string, and their body dumps (DEBUG, and opensearch-py's
curl trace) are dropped; uvicorn's own access log, which prints the query string, is turned off
where the gateway starts uvicorn.
"""

from __future__ import annotations

import logging
import re
import time
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

access_log = logging.getLogger("rerank_client.gateway.access")


class AccessLog:
    """Logs 'METHOD /path STATUS 12.3ms' once each request is answered."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started, status = time.perf_counter(), 500

        async def remember_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, remember_status)
        finally:
            milliseconds = (time.perf_counter() - started) * 1000
            access_log.info("%s %s %d %.1fms", scope["method"], _logged_path(scope), status, milliseconds)


def _logged_path(scope: Scope) -> str:
    """The path as sent, still percent-encoded (a decoded %0A would start a forged log line),
    without its query string, and cut short."""
    raw = scope.get("raw_path") or scope["path"].encode("utf-8")
    path = raw.decode("latin-1").partition("?")[0]
    return path if len(path) <= _MAX_LOGGED_PATH else path[:_MAX_LOGGED_PATH] + "..."


_MAX_LOGGED_PATH = 200


class _WithoutQueryText(logging.Filter):
    """For the engine clients' loggers: URLs lose their query string; DEBUG body dumps go."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.INFO:
            return False
        if isinstance(record.args, tuple):
            record.args = tuple(_without_query(arg) for arg in record.args)
        if isinstance(record.msg, str):  # elasticsearch-py's transport formats the URL into the message
            record.msg = _QUERY_IN_URL.sub(r"\1", record.msg)
        return True


_QUERY_IN_URL = re.compile(r"(https?://[^\s?]*)\?\S*")


def _without_query(arg: object) -> object:
    """A URL (a str, or aiohttp's yarl.URL) without its query string; anything else as it is."""
    if isinstance(arg, (int, float)):
        return arg
    text = str(arg)
    if "?" not in text or not text.startswith(("http://", "https://")):
        return arg
    return urlsplit(text)._replace(query="").geturl()


_FILTER = _WithoutQueryText()


def _drop(record: logging.LogRecord) -> bool:
    return False


def keep_query_text_out_of_library_logs() -> None:
    """Idempotent. opensearch-py logs each call on "opensearch", and on "opensearchpy.trace"
    (when that logger has a handler) writes every call as a curl command with its body;
    elasticsearch-py logs each call on "elastic_transport.transport", and dumps requests with
    their bodies at DEBUG on "elastic_transport.node" (a logger's filters see only its own records)."""
    for name in ("opensearch", "elastic_transport.transport", "elastic_transport.node"):
        logging.getLogger(name).addFilter(_FILTER)
    logging.getLogger("opensearchpy.trace").addFilter(_drop)


def configure_logging(level: str) -> None:
    logging.basicConfig(level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    keep_query_text_out_of_library_logs()
