"""Serves the HTTP API with uvicorn inside the gRPC server's event loop, so both
front ends share one engine, one batcher queue per model and one shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import ssl

import uvicorn

from .config import Settings


class _EmbeddedServer(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self):
        # app.run owns SIGTERM/SIGINT and stops this server as part of its drain.
        yield


class EmbeddedHttpServer:
    def __init__(self, app, settings: Settings) -> None:
        config = uvicorn.Config(
            app,
            host=settings.host,
            port=settings.http_port,
            log_config=None,  # the process's JSON logging applies
            access_log=False,  # the app logs each call as JSON itself
            lifespan="off",
            timeout_graceful_shutdown=settings.shutdown_grace,
            ssl_certfile=settings.tls_cert,
            ssl_keyfile=settings.tls_key,
            ssl_ca_certs=settings.tls_client_ca,
            ssl_cert_reqs=ssl.CERT_REQUIRED if settings.tls_client_ca else ssl.CERT_NONE,
        )
        self._server = _EmbeddedServer(config)
        self._task: asyncio.Task | None = None

    async def start(self, timeout: float = 30.0) -> None:
        self._task = asyncio.create_task(self._server.serve(), name="http-server")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        # uvicorn sets `started` (or ends the task when the port is taken) without an event to await.
        while not self._server.started:
            if self._task.done():
                self._task.result()
                raise RuntimeError("the HTTP server stopped while starting")
            if loop.time() > deadline:
                raise TimeoutError(f"the HTTP server did not start within {timeout:.0f} s")
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        """Stops accepting connections and lets requests in flight finish."""
        if self._task is None:
            return
        self._server.should_exit = True
        await self._task
        self._task = None
