"""Runs the gateway in a background thread, for tests and benchmarks.

    with running_gateway(GatewaySettings(opensearch_url=..., reranker_address=..., port=0)) as url:
        OpenSearch(url).search(index="articles", body={..., "ext": {"rerank": {...}}})

The socket is bound and listening before the server thread starts, so the URL
takes connections at once: the first request waits in the backlog until the
app has opened its clients.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator

import uvicorn

from .app import create_app
from .settings import GatewaySettings


@contextlib.contextmanager
def running_gateway(settings: GatewaySettings, *, stop_timeout: float = 30.0) -> Iterator[str]:
    """Yields the gateway's base URL, http://host:port (port 0 picks a free one)."""
    listener = socket.create_server((settings.host, settings.port))
    host, port = listener.getsockname()[:2]
    server = uvicorn.Server(uvicorn.Config(create_app(settings), lifespan="on", log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, name="rerank-gateway", daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(stop_timeout)
        listener.close()


def unused_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on (until someone binds it), for unreachable-backend tests."""
    with socket.socket() as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]
