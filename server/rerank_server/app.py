"""Assembles the gRPC server and runs its life: bind, load, serve, drain."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import grpc
from grpc_health.v1 import health, health_pb2

from .batching import Batcher, BatchingLimits
from .cache import ScoreCache
from .config import ModelSpec, Settings
from .engine import RequestLimits, RerankEngine, ServedModel
from .grpc_server import create_grpc_server, set_health
from .http_api import create_http_app
from .http_server import EmbeddedHttpServer
from .metrics import Metrics
from .scoring.base import Scorer
from .scoring.registry import load_scorer

log = logging.getLogger(__name__)

# On a CPU, compute grows with padded tokens and small batches cost little.
CPU_MAX_PADDING_RATIO = 0.1
# How long a draining server keeps refusing new calls itself before it closes its
# listeners, and the grace grpc.aio then gets (nothing is being scored by then).
REFUSAL_WINDOW_S = 1.0
STOP_GRACE_S = 1.0
# Pairs scored once after loading, so the first request pays no warm-up cost.
WARMUP_QUERY = "warm-up"
WARMUP_DOCUMENTS = ["a short passage", ""]


def create_engine(settings: Settings) -> RerankEngine:
    return RerankEngine(
        RequestLimits(
            max_documents=settings.max_documents,
            max_prompt_chars=settings.max_prompt_chars,
            max_query_chars=settings.max_query_chars,
            max_document_chars=settings.max_document_chars,
            max_request_tokens=settings.max_request_tokens,
        )
    )


def create_http_server(settings: Settings, engine: RerankEngine, metrics: Metrics, is_serving) -> EmbeddedHttpServer:
    app = create_http_app(engine, is_serving, settings, metrics)
    return EmbeddedHttpServer(app, settings)


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


def serve_model(scorer: Scorer, settings: Settings, executor: ThreadPoolExecutor, metrics: Metrics) -> ServedModel:
    on_cpu = scorer.description.device == "cpu"
    limits = BatchingLimits(
        max_batch_tokens=settings.max_batch_tokens,
        max_batch_pairs=settings.batch_size,
        max_wait_ms=settings.max_wait_ms,
        max_queued_pairs=settings.max_queued_pairs,
        max_padding_ratio=settings.max_padding_ratio
        if settings.max_padding_ratio is not None
        else (CPU_MAX_PADDING_RATIO if on_cpu else None),
    )
    cache = ScoreCache(settings.cache_size) if settings.cache_size else None
    model_metrics = metrics.for_model(scorer.description.name)
    batcher = Batcher(scorer.forward, executor, limits, observer=model_metrics)
    model_metrics.bind_queue(lambda: batcher.queued_pairs)
    return ServedModel(scorer=scorer, batcher=batcher, cache=cache, metrics=model_metrics)


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
    metrics = Metrics()
    server, port, health_servicer = create_grpc_server(settings, engine, metrics)
    http_server = None
    if settings.http_port:
        http_server = create_http_server(settings, engine, metrics, lambda: engine.ready and not stop.is_set())
    metrics_server = None
    executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="inference")
    try:
        await set_health(health_servicer, health_pb2.HealthCheckResponse.NOT_SERVING)
        await server.start()
        if http_server:
            await http_server.start()
        if settings.metrics_port:
            metrics_server, _ = metrics.serve(settings.host, settings.metrics_port)
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
                _load(settings, load_model or model_loader(settings), executor, engine, health_servicer, metrics)
            )
            stopping = asyncio.ensure_future(stop.wait())
            await asyncio.wait({loading, stopping}, return_when=asyncio.FIRST_COMPLETED)
            if loading.done():
                loading.result()  # a failed load ends the server with its error
                await stopping
            else:
                loading.cancel()
            await _drain(settings, engine, health_servicer, server, http_server)
    finally:
        await engine.close()
        await server.stop(None)
        if metrics_server:
            metrics_server.shutdown()
        executor.shutdown(wait=False, cancel_futures=True)
        log.info("stopped")


async def _drain(
    settings: Settings,
    engine: RerankEngine,
    health_servicer: health.aio.HealthServicer,
    server: grpc.aio.Server,
    http_server: EmbeddedHttpServer | None,
) -> None:
    """NOT_SERVING, refuse new calls, let calls in flight finish within the grace, stop the servers."""
    log.info("stopping: refusing new calls, finishing calls in flight (up to %.0f s)", settings.shutdown_grace)
    await health_servicer.enter_graceful_shutdown()
    engine.begin_drain()
    grace_ends = loop_time() + settings.shutdown_grace
    try:
        await asyncio.wait_for(engine.wait_idle(), settings.shutdown_grace)
        log.info("no call is being scored any more")
    except TimeoutError:
        log.warning("calls still in flight after the %.0f s grace are cancelled", settings.shutdown_grace)
    # Calls already on the wire get a clean UNAVAILABLE from the draining engine
    # for a moment more; once grpc.aio stops, a call arriving is neither
    # dispatched nor refused until its grace ends, then CANCELLED.
    await asyncio.sleep(max(0.0, min(REFUSAL_WINDOW_S, grace_ends - loop_time())))
    stop_grace = max(0.0, min(STOP_GRACE_S, grace_ends - loop_time()))
    await asyncio.gather(server.stop(stop_grace), *([http_server.stop()] if http_server else []))
    log.info("the servers are stopped")


def loop_time() -> float:
    return asyncio.get_running_loop().time()


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
    metrics: Metrics,
) -> None:
    """Models share the one inference thread, so their forward passes never
    run at once on the device and corrupt nothing of each other's."""
    loop = asyncio.get_running_loop()
    for spec in settings.models:
        scorer = await loop.run_in_executor(executor, load_model, spec)
        warmup = scorer.encode(WARMUP_QUERY, WARMUP_DOCUMENTS, scorer.description.default_max_length, None)
        await loop.run_in_executor(executor, scorer.forward, warmup)
        engine.add(serve_model(scorer, settings, executor, metrics))
        log.info("loaded %s as %r (%s)", spec.source, scorer.description.name, scorer.description.kind)
    await set_health(health_servicer, health_pb2.HealthCheckResponse.SERVING)
    log.info("serving %s", ", ".join(served.description.name for served in engine.models))
