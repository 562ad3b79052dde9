"""Prometheus metrics of one server, in a registry of its own (tests run several
servers in one process), served on --metrics-port."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
PAIR_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512)
TOKEN_BUCKETS = (64, 256, 1024, 4096, 8192, 16384, 32768, 65536, 131072)


class Metrics:
    def __init__(self) -> None:
        self.registry = registry = CollectorRegistry()
        self.requests = Counter(
            "rerank_requests", "Requests by protocol, method and final status.",
            ["protocol", "method", "status"], registry=registry,
        )
        self.request_seconds = Histogram(
            "rerank_request_duration_seconds", "Time to answer a request, by protocol and method.",
            ["protocol", "method"], buckets=LATENCY_BUCKETS, registry=registry,
        )
        self.stage_seconds = Histogram(
            "rerank_stage_duration_seconds",
            "Where a rerank request's time goes: tokenization, queue (until its first pair is in a forward "
            "pass) and inference (forward passes holding its pairs).",
            ["model", "stage"], buckets=LATENCY_BUCKETS, registry=registry,
        )
        self.batch_pairs = Histogram(
            "rerank_batch_pairs", "Pairs in a forward pass.", ["model"], buckets=PAIR_BUCKETS, registry=registry
        )
        self.batch_tokens = Histogram(
            "rerank_batch_padded_tokens", "Padded tokens in a forward pass (pairs x longest pair).",
            ["model"], buckets=TOKEN_BUCKETS, registry=registry,
        )
        self.batch_seconds = Histogram(
            "rerank_batch_duration_seconds", "Time of a forward pass.", ["model"],
            buckets=LATENCY_BUCKETS, registry=registry,
        )
        self.batches_failed = Counter(
            "rerank_batches_failed", "Forward passes that raised.", ["model"], registry=registry
        )
        self.queue_pairs = Gauge("rerank_queue_pairs", "Pairs waiting for a forward pass.", ["model"], registry=registry)
        self.cache_lookups = Counter(
            "rerank_cache_lookups", "Score cache lookups by result (hit or miss).", ["model", "result"],
            registry=registry,
        )
        self.pairs_dropped = Counter(
            "rerank_pairs_dropped",
            "Queued pairs never scored because their request's deadline passed or its client cancelled.",
            ["model"], registry=registry,
        )
        self.requests_rejected = Counter(
            "rerank_requests_rejected", "Requests refused because the queue was full.", ["model"], registry=registry
        )

    def for_model(self, name: str) -> ModelMetrics:
        return ModelMetrics(self, name)

    def serve(self, host: str, port: int):
        """Starts the /metrics HTTP endpoint on its own thread; returns (server, thread)."""
        return start_http_server(port, addr=host, registry=self.registry)


class ModelMetrics:
    """One model's metrics: the batcher's observer, and the engine's stage and cache counts."""

    def __init__(self, metrics: Metrics, model: str) -> None:
        self._metrics = metrics
        self._model = model

    def bind_queue(self, depth) -> None:
        """depth() is read at each scrape, so nothing updates the gauge on the hot path."""
        self._metrics.queue_pairs.labels(self._model).set_function(depth)

    def batch_scored(self, pairs: int, padded_tokens: int, seconds: float) -> None:
        self._metrics.batch_pairs.labels(self._model).observe(pairs)
        self._metrics.batch_tokens.labels(self._model).observe(padded_tokens)
        self._metrics.batch_seconds.labels(self._model).observe(seconds)

    def batch_failed(self) -> None:
        self._metrics.batches_failed.labels(self._model).inc()

    def queue_waited(self, seconds: float) -> None:
        self._metrics.stage_seconds.labels(self._model, "queue").observe(seconds)

    def pairs_dropped(self, pairs: int) -> None:
        self._metrics.pairs_dropped.labels(self._model).inc(pairs)

    def request_rejected(self) -> None:
        self._metrics.requests_rejected.labels(self._model).inc()

    def stage(self, stage: str, seconds: float) -> None:
        self._metrics.stage_seconds.labels(self._model, stage).observe(seconds)

    def cache_lookups(self, hits: int, misses: int) -> None:
        if hits:
            self._metrics.cache_lookups.labels(self._model, "hit").inc(hits)
        if misses:
            self._metrics.cache_lookups.labels(self._model, "miss").inc(misses)
