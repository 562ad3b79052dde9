"""The protocol-free core of a rerank call: validate, look up the cache, encode,
batch, score, sort. The gRPC servicer (and any other front end) only converts
its wire types to and from the dataclasses here."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from .batching import Batcher
from .cache import ScoreCache, cache_key
from .errors import InvalidRequest, ModelNotFound, NotReady, RequestTooLarge
from .metrics import ModelMetrics
from .scoring.base import ModelDescription, Scorer, sigmoid


MAX_ECHOED_CHARS = 100
"""Longest piece of a caller's text an error message repeats."""


@dataclass(frozen=True)
class RerankQuery:
    query: str
    documents: Sequence[tuple[str, str]]
    """(id, text) pairs, in request order."""
    top_n: int = 0
    raw_scores: bool = False
    return_text: bool = False
    max_length: int = 0
    prompt: str = ""
    model: str = ""


@dataclass(frozen=True)
class ScoredDocument:
    index: int
    id: str
    score: float
    text: str | None


@dataclass(frozen=True)
class StageTimes:
    tokenize_seconds: float = 0.0
    queue_seconds: float = 0.0
    inference_seconds: float = 0.0

    def server_timing(self) -> str:
        """The W3C Server-Timing form, in milliseconds."""
        return ", ".join(
            f"{name};dur={seconds * 1000:.2f}"
            for name, seconds in (
                ("tokenize", self.tokenize_seconds),
                ("queue", self.queue_seconds),
                ("inference", self.inference_seconds),
            )
        )


@dataclass(frozen=True)
class RerankOutcome:
    results: list[ScoredDocument]
    model: str
    pairs: int
    tokens: int
    cached_pairs: int
    times: StageTimes = field(default_factory=StageTimes)


@dataclass(frozen=True)
class RequestLimits:
    """Bounds on one request; 0 turns a bound off."""

    max_documents: int = 1000
    max_prompt_chars: int = 4096
    max_query_chars: int = 16384
    max_document_chars: int = 200_000
    max_request_tokens: int = 0


@dataclass
class ServedModel:
    scorer: Scorer
    batcher: Batcher
    cache: ScoreCache | None = None
    metrics: ModelMetrics | None = None

    @property
    def description(self) -> ModelDescription:
        return self.scorer.description


class RerankEngine:
    """Serves the models it is given; not ready until the first one is added."""

    def __init__(self, limits: RequestLimits) -> None:
        self.limits = limits
        self._models: dict[str, ServedModel] = {}
        self._default: str | None = None
        self._draining = False
        self._in_flight = 0
        self._idle = asyncio.Event()
        self._idle.set()

    @property
    def ready(self) -> bool:
        return self._default is not None

    @property
    def default_model(self) -> str:
        return self._default or ""

    @property
    def models(self) -> list[ServedModel]:
        return list(self._models.values())

    def add(self, served: ServedModel) -> None:
        name = served.description.name
        if name in self._models:
            raise ValueError(f"two models are named {name!r}; give each a distinct name")
        self._models[name] = served
        served.batcher.start()
        if self._default is None:
            self._default = name

    def begin_drain(self) -> None:
        """From now on new calls get NotReady (UNAVAILABLE, which clients retry
        elsewhere) from the engine itself, while the servers still accept
        connections: a call racing a closing listener could see CANCELLED."""
        self._draining = True

    async def wait_idle(self) -> None:
        """Returns once no call is being scored."""
        await self._idle.wait()

    async def close(self) -> None:
        for served in self._models.values():
            await served.batcher.close()

    def require_ready(self) -> None:
        if not self.ready:
            raise NotReady("the model is still loading; retry when the health check says SERVING")

    def model(self, name: str) -> ServedModel:
        self.require_ready()
        served = self._models.get(name or self._default)
        if served is None:
            known = ", ".join(sorted(self._models))
            # The name is the caller's: cut it, or a long one would push the message past grpc's header limit.
            shown = name if len(name) <= MAX_ECHOED_CHARS else name[:MAX_ECHOED_CHARS] + "..."
            raise ModelNotFound(f"unknown model {shown!r}: this server serves {known}")
        return served

    async def rerank(self, request: RerankQuery, timeout: float | None = None) -> RerankOutcome:
        if self._draining:
            raise NotReady("the server is shutting down; retry on another replica")
        self._in_flight += 1
        self._idle.clear()
        try:
            return await self._rerank(request, timeout)
        finally:
            self._in_flight -= 1
            if self._in_flight == 0:
                self._idle.set()

    async def _rerank(self, request: RerankQuery, timeout: float | None) -> RerankOutcome:
        served = self.model(request.model)
        max_length = self._validate(request, served)
        texts = [text for _, text in request.documents]
        keys, raw = self._cached(served, request, max_length, texts)
        missing = [i for i, score in enumerate(raw) if score is None]
        tokens, times = 0, StageTimes()
        if missing:
            scores, tokens, times = await self._score(served, request, max_length, [texts[i] for i in missing], timeout)
            for i, score in zip(missing, scores, strict=True):
                raw[i] = score
                if served.cache is not None:
                    served.cache.put(keys[i], score)
        return RerankOutcome(
            results=_ranked(request, raw),
            model=served.description.name,
            pairs=len(texts),
            tokens=tokens,
            cached_pairs=len(texts) - len(missing),
            times=times,
        )

    @staticmethod
    def _cached(
        served: ServedModel, request: RerankQuery, max_length: int, texts: list[str]
    ) -> tuple[list[bytes], list[float | None]]:
        """Cache keys and the cached raw scores (None where the model must score)."""
        if served.cache is None:
            return [], [None] * len(texts)
        name = served.description.name
        keys = [cache_key(name, request.prompt, max_length, request.query, text) for text in texts]
        raw = [served.cache.get(key) for key in keys]
        if served.metrics:
            misses = raw.count(None)
            served.metrics.cache_lookups(hits=len(raw) - misses, misses=misses)
        return keys, raw

    async def _score(
        self, served: ServedModel, request: RerankQuery, max_length: int, texts: list[str], timeout: float | None
    ) -> tuple[list[float], int, StageTimes]:
        """Raw scores of texts, the tokens fed to the model, and where the time went."""
        started = time.perf_counter()
        sequences = await asyncio.to_thread(
            served.scorer.encode, request.query, texts, max_length, request.prompt or None
        )
        tokenize_seconds = time.perf_counter() - started
        tokens = sum(map(len, sequences))
        limit = self.limits.max_request_tokens
        if limit and tokens > limit:
            raise RequestTooLarge(
                f"the request feeds {tokens} tokens to the model, over the limit of {limit} "
                "(--max-request-tokens): send fewer or shorter documents, or a lower max_length"
            )
        scores, timing = await served.batcher.score_timed(sequences, timeout)
        if served.metrics:
            served.metrics.stage("tokenize", tokenize_seconds)
            served.metrics.stage("inference", timing.inference_seconds)
        return scores, tokens, StageTimes(tokenize_seconds, timing.queue_seconds, timing.inference_seconds)

    def _validate(self, request: RerankQuery, served: ServedModel) -> int:
        """Checks the request against the limits; returns the max_length to use."""
        description = served.description
        if not request.query.strip():
            raise InvalidRequest("query is empty: send the text to rank the documents against")
        if not request.documents:
            raise InvalidRequest("documents is empty: send at least one document to rank")
        if len(request.documents) > self.limits.max_documents:
            raise RequestTooLarge(
                f"{len(request.documents)} documents exceed this server's limit of "
                f"{self.limits.max_documents} per request (--max-documents): send fewer or split the request"
            )
        limits = self.limits
        if limits.max_query_chars and len(request.query) > limits.max_query_chars:
            raise RequestTooLarge(
                f"query has {len(request.query)} characters, over the limit of {limits.max_query_chars} "
                "(--max-query-chars): shorten it"
            )
        if limits.max_document_chars:
            for index, (_, text) in enumerate(request.documents):
                if len(text) > limits.max_document_chars:
                    raise RequestTooLarge(
                        f"document {index} has {len(text)} characters, over the limit of "
                        f"{limits.max_document_chars} (--max-document-chars): cut it, only the first "
                        "max_length tokens are scored anyway"
                    )
        if len(request.prompt) > self.limits.max_prompt_chars:
            raise RequestTooLarge(
                f"prompt has {len(request.prompt)} characters, over the limit of {self.limits.max_prompt_chars}: "
                "shorten it, or leave it empty for the model's own instruction"
            )
        max_length = request.max_length or description.default_max_length
        if not description.min_max_length <= max_length <= description.max_max_length:
            raise InvalidRequest(
                f"max_length {max_length} is outside {description.min_max_length}..{description.max_max_length} "
                f"for model {description.name!r}: pick a value in that range, or 0 for the default "
                f"({description.default_max_length})"
            )
        if request.prompt and not description.default_prompt:
            raise InvalidRequest(
                f"model {description.name!r} is a {description.kind} and takes no prompt: leave prompt empty"
            )
        if request.prompt and not served.scorer.fits_position_limit(max_length, request.prompt):
            raise InvalidRequest(
                f"max_length {max_length} plus the custom prompt pass model {description.name!r}'s "
                "position limit: shorten the prompt or lower max_length"
            )
        return max_length


def _ranked(request: RerankQuery, raw: list[float]) -> list[ScoredDocument]:
    """Best first, equal scores in request order, cut to top_n."""
    results = [
        ScoredDocument(
            index=i,
            id=doc_id,
            score=score if request.raw_scores else sigmoid(score),
            text=text if request.return_text else None,
        )
        for i, ((doc_id, text), score) in enumerate(zip(request.documents, raw, strict=True))
    ]
    results.sort(key=lambda r: (-r.score, r.index))
    return results[: request.top_n] if request.top_n else results
