"""Runs a real server in a background thread, for tests and benchmarks.

    with running_server(Settings(model=str(model_dir), port=0)) as server:
        RerankClient(server.address).rerank(...)

The server is the one rerank-server runs (app.run), bound to 127.0.0.1 on a
free port; only signal handling is left to the caller's process.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from ..config import ModelSpec, Settings
from ..scoring.base import Scorer


@dataclass
class ServerHandle:
    settings: Settings
    port: int = 0
    loop: asyncio.AbstractEventLoop | None = None
    stop_event: asyncio.Event | None = None
    thread: threading.Thread | None = None
    error: BaseException | None = field(default=None, repr=False)

    @property
    def address(self) -> str:
        return f"{self.settings.host}:{self.port}"

    def stop(self, timeout: float = 60.0) -> None:
        if self.loop is not None and self.stop_event is not None and self.thread and self.thread.is_alive():
            self.loop.call_soon_threadsafe(self.stop_event.set)
            self.thread.join(timeout)


@contextlib.contextmanager
def running_server(
    settings: Settings,
    load_scorer: Callable[[], Scorer] | None = None,
    *,
    load_model: Callable[[ModelSpec], Scorer] | None = None,
    bind_timeout: float = 30.0,
) -> Iterator[ServerHandle]:
    """Starts the server and yields once it is bound (it may still be loading:
    wait for SERVING with the health service before scoring). load_scorer
    serves one already-built scorer; load_model maps each of settings.models to
    its scorer; with neither, the models load as rerank-server loads them."""
    from ..app import run

    if load_model is None and load_scorer is not None:
        load_model = lambda spec: load_scorer()  # noqa: E731
    handle = ServerHandle(settings)
    bound = threading.Event()

    def on_bound(port: int) -> None:
        handle.port = port
        bound.set()

    def main() -> None:
        async def serve() -> None:
            handle.loop = asyncio.get_running_loop()
            handle.stop_event = asyncio.Event()
            await run(settings, load_model, on_bound=on_bound, stop=handle.stop_event, handle_signals=False)

        try:
            asyncio.run(serve())
        except BaseException as error:  # reported to the test that started it
            handle.error = error
        finally:
            bound.set()

    handle.thread = threading.Thread(target=main, name="rerank-server", daemon=True)
    handle.thread.start()
    if not bound.wait(bind_timeout) or handle.error is not None:
        raise RuntimeError(f"the server did not start: {handle.error!r}")
    try:
        yield handle
    finally:
        handle.stop()
        if handle.error is not None:
            raise handle.error


def free_port() -> int:
    """A loopback port free now (another process could take it before it is bound)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_serving(address: str, timeout: float = 120.0, credentials=None) -> None:
    """Blocks until the standard health service reports SERVING; credentials
    (grpc.ssl_channel_credentials) for a TLS server."""
    import time

    import grpc
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    deadline = time.monotonic() + timeout
    channel = grpc.secure_channel(address, credentials) if credentials else grpc.insecure_channel(address)
    with channel:
        stub = health_pb2_grpc.HealthStub(channel)
        while True:
            try:
                status = stub.Check(health_pb2.HealthCheckRequest(service=""), timeout=2).status
                if status == health_pb2.HealthCheckResponse.SERVING:
                    return
            except grpc.RpcError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"{address} did not report SERVING within {timeout:.0f} s")
            time.sleep(0.1)
