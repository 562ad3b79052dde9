"""Runs the gateway in a background thread, for tests and benchmarks; and a stand-in
OpenSearch (or Elasticsearch) that records what reaches it.

    with running_gateway(GatewaySettings(opensearch_url=..., reranker_address=..., port=0)) as url:
        OpenSearch(url).search(index="articles", body={..., "ext": {"rerank": {...}}})

The socket is bound and listening before the server thread starts, so the URL
takes connections at once: the first request waits in the backlog until the
app has opened its clients.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import uvicorn

from .app import create_app
from .settings import GatewaySettings, listener_tls_args


@contextlib.contextmanager
def running_gateway(settings: GatewaySettings, *, stop_timeout: float = 30.0) -> Iterator[str]:
    """Yields the gateway's base URL, http(s)://host:port (port 0 picks a free one)."""
    listener = socket.create_server((settings.host, settings.port))
    host, port = listener.getsockname()[:2]
    config = uvicorn.Config(
        create_app(settings), lifespan="on", log_level="warning", access_log=False, **listener_tls_args(settings)
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, name="rerank-gateway", daemon=True)
    thread.start()
    try:
        yield f"{settings.url_scheme}://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(stop_timeout)
        listener.close()


def unused_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on (until someone binds it), for unreachable-backend tests."""
    with socket.socket() as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


@dataclass(frozen=True)
class ReceivedRequest:
    method: str
    path: str
    """As sent, with the query string."""
    headers: dict[str, str]
    """Lower-case names."""
    body: bytes


@dataclass
class FakeOpenSearch:
    url: str
    requests: list[ReceivedRequest] = field(default_factory=list)


class _FakeOpenSearchHandler(BaseHTTPRequestHandler):
    """Answers like a small OpenSearch: /_search with `size` hits (their _source has a title),
    or a 400 parse error for a search body that is not JSON; cluster info and health; and
    {"acknowledged": true} for anything else. As Elasticsearch, it says so as Elasticsearch
    does: X-Elastic-Product on every answer, and no version.distribution."""

    protocol_version = "HTTP/1.1"
    fake: FakeOpenSearch
    elasticsearch: bool = False

    def _answer(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length") or 0))
        self.fake.requests.append(
            ReceivedRequest(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body)
        )
        status, answer = self._response(self.path.partition("?")[0], body)
        data = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json; charset=UTF-8")
        self.send_header("content-length", str(len(data)))
        if self.elasticsearch:
            self.send_header("X-Elastic-Product", "Elasticsearch")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _response(self, path: str, body: bytes) -> tuple[int, dict]:
        if path in ("", "/"):
            if self.elasticsearch:
                return 200, {"name": "fake", "cluster_name": "fake-elasticsearch", "version": {"number": "8.19.0"},
                             "tagline": "You Know, for Search"}
            version = {"distribution": "opensearch", "number": "2.19.0"}
            return 200, {"name": "fake", "cluster_name": "fake-opensearch", "version": version}
        if path == "/_cluster/health":
            return 200, {"status": "green", "cluster_name": "fake-opensearch"}
        if path.endswith("/_search"):
            try:
                request = json.loads(body) if body.strip() else {}
            except (ValueError, RecursionError):
                return 400, {"error": {"type": "parse_exception", "reason": "not JSON"}, "status": 400}
            size = request.get("size", 10) if isinstance(request, dict) else 10
            hits = [
                {"_index": "fake", "_id": str(i), "_score": float(100 - i), "_source": {"title": f"document {i}"}}
                for i in range(min(size, 100) if isinstance(size, int) else 0)
            ]
            return 200, {"took": 1, "hits": {"total": {"value": len(hits), "relation": "eq"}, "max_score": 100.0,
                                             "hits": hits}}
        return 200, {"acknowledged": True}

    do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _answer

    def log_message(self, *args) -> None:
        pass


@contextlib.contextmanager
def fake_opensearch(*, elasticsearch: bool = False) -> Iterator[FakeOpenSearch]:
    """A stand-in OpenSearch (Elasticsearch with elasticsearch=True) on a free loopback port
    that records every request it gets."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FakeOpenSearchHandler)
    fake = FakeOpenSearch(f"http://127.0.0.1:{server.server_address[1]}")
    server.RequestHandlerClass = type(
        "Handler", (_FakeOpenSearchHandler,), {"fake": fake, "elasticsearch": elasticsearch}
    )
    thread = threading.Thread(target=server.serve_forever, name="fake-search-engine", daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
