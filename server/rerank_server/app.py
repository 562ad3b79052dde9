"""Assembles the gRPC server and runs its life: bind, load, serve, drain."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from rerank.v1 import rerank_pb2, rerank_pb2_grpc

from .batching import Batcher, BatchingLimits
from .cache import ScoreCache
from .config import ModelSpec, Settings
from .engine import RequestLimits, RerankEngine, ServedModel
from .http_api import create_http_app
from .http_server import EmbeddedHttpServer
from .scoring.base import Scorer
from .scoring.registry import load_scorer
from .service import RerankServicer

log = logging.getLogger(__name__)

SERVICE_NAME = rerank_pb2.DESCRIPTOR.services_by_name["Reranker"].full_name
# Pairs scored once after loading, so the first request pays no warm-up cost.
WARMUP_QUERY = "warm-up"
WARMUP_DOCUMENTS = ["a short passage", ""]


def create_engine(settings: Settings) -> RerankEngine:
    return RerankEngine(RequestLimits(max_documents=settings.max_documents, max_prompt_chars=settings.max_prompt_chars))


def create_server(settings: Settings, engine: RerankEngine) -> tuple[grpc.aio.Server, int, health.aio.HealthServicer]:
    """Builds the server with its services and binds it; port 0 picks a free port."""
    server = grpc.aio.server(
        options=[
            ("grpc.max_receive_message_length", settings.max_message_bytes),
            ("grpc.max_send_message_length", settings.max_message_bytes),
        ]
    )
    rerank_pb2_grpc.add_RerankerServicer_to_server(RerankServicer(engine, settings.batch_size), server)
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    reflection.enable_server_reflection(
        (SERVICE_NAME, health_pb2.DESCRIPTOR.services_by_name["Health"].full_name, reflection.SERVICE_NAME),
        server,
    )
    port = server.add_insecure_port(f"{settings.host}:{settings.port}")
    return server, port, health_servicer


async def set_health(health_servicer: health.aio.HealthServicer, status: int) -> None:
    for service in ("", SERVICE_NAME):
        await health_servicer.set(service, status)


LoadModel = Callable[[ModelSpec], Scorer]


def model_loader(settings: Settings) -> LoadModel:
    """Loads a served model with the server-wide device, dtype and max_length."""

    def load(spec: ModelSpec) -> Scorer:
        return load_scorer(
            spec.source,
            name=spec.served_name,
            kind=spec.kind,
            device=settings.device,
            dtype=settings.dtype,
            default_max_length=settings.default_max_length(spec),
        )

    return load


def serve_model(scorer: Scorer, settings: Settings, executor: ThreadPoolExecutor) -> ServedModel:
    limits = BatchingLimits(
        max_batch_tokens=settings.max_batch_tokens,
        max_batch_pairs=settings.batch_size,
        max_wait_ms=settings.max_wait_ms,
        max_queued_pairs=settings.max_queued_pairs,
    )
    cache = ScoreCache(settings.cache_size) if settings.cache_size else None
    return ServedModel(scorer=scorer, batcher=Batcher(scorer.forward, executor, limits), cache=cache)


async def run(
    settings: Settings,
    load_model: LoadModel | None = None,
    *,
    on_bound: Callable[[int], None] | None = None,
    stop: asyncio.Event | None = None,
    handle_signals: bool = True,
) -> None:
    """Binds (health NOT_SERVING), loads and warms the models on the inference
    thread, turns SERVING, and on SIGTERM/SIGINT (or `stop`) refuses new calls and lets calls
    in flight finish within settings.shutdown_grace."""
    stop = stop or asyncio.Event()
    engine = create_engine(settings)
    server, port, health_servicer = create_server(settings, engine)
    http_server = None
    if settings.http_port:
        http_app = create_http_app(engine, lambda: engine.ready and not stop.is_set(), settings.max_message_bytes)
        http_server = EmbeddedHttpServer(http_app, settings.host, settings.http_port, settings.shutdown_grace)
    executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="inference")
    try:
        await set_health(health_servicer, health_pb2.HealthCheckResponse.NOT_SERVING)
        await server.start()
        if http_server:
            await http_server.start()
        log.info(
            "listening on %s:%d (gRPC)%s; loading %s",
            settings.host,
            port,
            f" and :{settings.http_port} (HTTP)" if http_server else "",
            ", ".join(spec.source for spec in settings.models),
        )
        if on_bound:
            on_bound(port)
        with _stop_on_signals(stop, handle_signals):
            loading = asyncio.ensure_future(
                _load(settings, load_model or model_loader(settings), executor, engine, health_servicer)
            )
            stopping = asyncio.ensure_future(stop.wait())
            await asyncio.wait({loading, stopping}, return_when=asyncio.FIRST_COMPLETED)
            if loading.done():
                loading.result()  # a failed load ends the server with its error
                await stopping
            else:
                loading.cancel()
            log.info("stopping: refusing new calls, finishing calls in flight (up to %.0f s)", settings.shutdown_grace)
            await health_servicer.enter_graceful_shutdown()
            await asyncio.gather(server.stop(settings.shutdown_grace), *([http_server.stop()] if http_server else []))
    finally:
        await engine.close()
        await server.stop(None)
        executor.shutdown(wait=False, cancel_futures=True)
        log.info("stopped")


@contextlib.contextmanager
def _stop_on_signals(stop: asyncio.Event, enabled: bool):
    signals = (signal.SIGTERM, signal.SIGINT) if enabled else ()
    loop = asyncio.get_running_loop()
    for signum in signals:
        loop.add_signal_handler(signum, stop.set)
    try:
        yield
    finally:
        for signum in signals:
            loop.remove_signal_handler(signum)


async def _load(
    settings: Settings,
    load_model: LoadModel,
    executor: ThreadPoolExecutor,
    engine: RerankEngine,
    health_servicer: health.aio.HealthServicer,
) -> None:
    """Models share the one inference thread, so their forward passes never
    run at once on the device and corrupt nothing of each other's."""
    loop = asyncio.get_running_loop()
    for spec in settings.models:
        scorer = await loop.run_in_executor(executor, load_model, spec)
        warmup = scorer.encode(WARMUP_QUERY, WARMUP_DOCUMENTS, scorer.description.default_max_length, None)
        await loop.run_in_executor(executor, scorer.forward, warmup)
        engine.add(serve_model(scorer, settings, executor))
        log.info("loaded %s as %r (%s)", spec.source, scorer.description.name, scorer.description.kind)
    await set_health(health_servicer, health_pb2.HealthCheckResponse.SERVING)
    log.info("serving %s", ", ".join(served.description.name for served in engine.models))
