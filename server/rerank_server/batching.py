"""Batches pairs from concurrent requests into shared forward passes.

Requests put their encoded pairs in one queue per model. A worker task forms
each batch around the oldest waiting pair (so every pair is scored in time,
whatever arrives later) from the pairs nearest to it in length (so little
padding is computed), under a budget of padded tokens and a cap on pairs, and
runs the forward pass on the device's inference thread so the event loop keeps
answering health checks and new requests meanwhile.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Protocol

from .errors import DeadlineExceeded, NotReady, Overloaded, ScoringFailed

log = logging.getLogger(__name__)

Forward = Callable[[Sequence[Sequence[int]]], list[float]]


@dataclass(frozen=True)
class BatchingLimits:
    max_batch_tokens: int = 16384
    """Padded tokens in one forward pass (pairs x longest pair)."""
    max_batch_pairs: int = 64
    """Pairs in one forward pass."""
    max_wait_ms: float = 2.0
    """How long an idle model waits for more work before it starts a batch."""
    max_queued_pairs: int = 20000
    """Pairs waiting at once; a request that would pass it is refused at once."""
    max_padding_ratio: float | None = None
    """A batch stops growing once its padding would pass this share of its real
    tokens. On a CPU compute grows with padded tokens and small batches cost
    little, so padding is pure waste (0.1); a GPU wants full batches (None)."""


@dataclass
class BatcherStats:
    """Counters read by metrics and tests."""

    batches: int = 0
    pairs_scored: int = 0
    real_tokens: int = 0
    padded_tokens: int = 0
    pairs_dropped: int = 0
    requests_rejected: int = 0
    batches_failed: int = 0


class BatchObserver(Protocol):
    """Receives what metrics need; every method is called on the event loop."""

    def batch_scored(self, pairs: int, padded_tokens: int, seconds: float) -> None: ...

    def batch_failed(self) -> None: ...

    def queue_waited(self, seconds: float) -> None: ...

    def pairs_dropped(self, pairs: int) -> None: ...

    def request_rejected(self) -> None: ...


@dataclass(frozen=True)
class JobTiming:
    queue_seconds: float
    """From submission until the request's first pair entered a forward pass."""
    inference_seconds: float
    """Forward passes that held the request's pairs (shared with other requests)."""


@dataclass(eq=False)
class _Job:
    """One request's pairs and where their scores go."""

    sequences: Sequence[Sequence[int]]
    future: asyncio.Future
    deadline: float | None
    submitted: float = field(default_factory=time.perf_counter)
    queue_seconds: float | None = None
    inference_seconds: float = 0.0
    scores: list[float | None] = field(init=False)
    remaining: int = field(init=False)
    queued: int = field(init=False)

    def __post_init__(self) -> None:
        self.scores = [None] * len(self.sequences)
        self.remaining = len(self.sequences)
        self.queued = len(self.sequences)

    @property
    def done(self) -> bool:
        return self.future.done()


@dataclass(eq=False)
class _Pair:
    job: _Job
    index: int
    order: int

    @property
    def length(self) -> int:
        return len(self.job.sequences[self.index])


def grow_batch(lengths: Sequence[int], anchor: int, limits: BatchingLimits) -> tuple[int, int]:
    """The batch [low, high] of the ascending lengths that holds anchor: it grows
    by the neighbour that adds the least padding while the limits allow."""
    low = high = anchor
    width = real = lengths[anchor]
    while high - low + 1 < limits.max_batch_pairs:
        count = high - low + 1
        # A shorter pair pads itself up to the width; a longer one widens the whole batch.
        shorter = width - lengths[low - 1] if low > 0 else None
        longer = count * (lengths[high + 1] - width) if high + 1 < len(lengths) else None
        take_shorter = shorter is not None and (longer is None or shorter <= longer)
        if not take_shorter and longer is None:
            break
        added = lengths[low - 1 if take_shorter else high + 1]
        new_width = max(width, added)
        padded = (count + 1) * new_width
        if padded > limits.max_batch_tokens:
            break
        if limits.max_padding_ratio is not None and padded > (1 + limits.max_padding_ratio) * (real + added):
            break
        if take_shorter:
            low -= 1
        else:
            high += 1
        width, real = new_width, real + added
    return low, high


class Batcher:
    """Queue and batch former of one model; see the module docstring."""

    def __init__(
        self, forward: Forward, executor: Executor, limits: BatchingLimits, observer: BatchObserver | None = None
    ) -> None:
        self._forward = forward
        self._executor = executor
        self.limits = limits
        self._observer = observer
        self.stats = BatcherStats()
        self._pending: list[_Pair] = []
        self._queued_pairs = 0
        self._order = itertools.count()
        self._work = asyncio.Event()
        self._full = asyncio.Event()
        self._worker: asyncio.Task | None = None
        self._closed = False

    @property
    def queued_pairs(self) -> int:
        return self._queued_pairs

    def start(self) -> None:
        if self._worker is None:
            self._worker = asyncio.get_running_loop().create_task(self._run(), name="batcher")

    async def close(self) -> None:
        """Stops the worker; requests still queued fail with NotReady."""
        self._closed = True
        if self._worker is not None:
            self._worker.cancel()
            try:
                await self._worker
            except asyncio.CancelledError:
                pass
        for pair in self._pending:
            if not pair.job.done:
                pair.job.future.set_exception(NotReady("the server is shutting down; retry on another replica"))
        self._pending.clear()
        self._queued_pairs = 0

    async def score(self, sequences: Sequence[Sequence[int]], timeout: float | None = None) -> list[float]:
        """Raw scores of sequences, in their order. Raises Overloaded at once when
        the queue has no room, DeadlineExceeded when timeout passes first."""
        scores, _ = await self.score_timed(sequences, timeout)
        return scores

    async def score_timed(
        self, sequences: Sequence[Sequence[int]], timeout: float | None = None
    ) -> tuple[list[float], JobTiming]:
        """score(), and where the request's time went."""
        if self._closed:
            raise NotReady("the server is shutting down; retry on another replica")
        if not sequences:
            return [], JobTiming(0.0, 0.0)
        if self._queued_pairs + len(sequences) > self.limits.max_queued_pairs:
            self.stats.requests_rejected += 1
            if self._observer:
                self._observer.request_rejected()
            raise Overloaded(
                f"the queue holds {self._queued_pairs} pairs and this request's {len(sequences)} would pass "
                f"the limit of {self.limits.max_queued_pairs} (--max-queued-pairs): retry with backoff"
            )
        loop = asyncio.get_running_loop()
        job = _Job(sequences, loop.create_future(), None if timeout is None else loop.time() + timeout)
        self._pending.extend(_Pair(job, index, next(self._order)) for index in range(len(sequences)))
        self._queued_pairs += len(sequences)
        self._work.set()
        if self._queued_pairs >= self.limits.max_batch_pairs:
            self._full.set()
        try:
            scores = await job.future
        except asyncio.CancelledError:
            self._drop(job)
            raise
        return scores, JobTiming(job.queue_seconds or 0.0, job.inference_seconds)

    def _drop(self, job: _Job) -> None:
        """Forgets a job's queued pairs; the worker skips them."""
        if job.queued:
            self.stats.pairs_dropped += job.queued
            if self._observer:
                self._observer.pairs_dropped(job.queued)
            self._queued_pairs -= job.queued
            job.queued = 0
        if not job.done:
            job.future.cancel()

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        idle = True
        while True:
            await self._work.wait()
            if idle:
                await self._wait_for_more()
            batch = self._take_batch(loop.time())
            if not batch:
                self._work.clear()
                self._full.clear()
                idle = True
                continue
            idle = False
            await self._score_batch(loop, batch)

    async def _wait_for_more(self) -> None:
        if self.limits.max_wait_ms <= 0 or self._full.is_set():
            return
        try:
            await asyncio.wait_for(self._full.wait(), self.limits.max_wait_ms / 1000)
        except TimeoutError:
            pass

    def _take_batch(self, now: float) -> list[_Pair]:
        """Removes and returns the next batch; fails jobs whose deadline passed."""
        live: list[_Pair] = []
        for pair in self._pending:
            job = pair.job
            if not job.done and job.deadline is not None and now >= job.deadline:
                job.future.set_exception(
                    DeadlineExceeded("the deadline passed while the request waited in the queue: "
                                     "raise the timeout or send fewer documents")
                )
                self._drop(job)
            if not job.done:
                live.append(pair)
        self._pending = live
        if not live:
            return []
        by_length = sorted(live, key=lambda pair: (pair.length, pair.order))
        anchor = min(range(len(by_length)), key=lambda i: by_length[i].order)
        low, high = grow_batch([pair.length for pair in by_length], anchor, self.limits)
        batch = by_length[low : high + 1]
        chosen = set(map(id, batch))
        self._pending = [pair for pair in live if id(pair) not in chosen]
        started = time.perf_counter()
        for pair in batch:
            job = pair.job
            job.queued -= 1
            if job.queue_seconds is None:
                job.queue_seconds = started - job.submitted
                if self._observer:
                    self._observer.queue_waited(job.queue_seconds)
        self._queued_pairs -= len(batch)
        if self._queued_pairs < self.limits.max_batch_pairs:
            self._full.clear()
        return batch

    async def _score_batch(self, loop: asyncio.AbstractEventLoop, batch: list[_Pair]) -> None:
        sequences = [pair.job.sequences[pair.index] for pair in batch]
        started = time.perf_counter()
        try:
            scores = await loop.run_in_executor(self._executor, self._forward, sequences)
        except Exception as error:  # the model failed: only this batch's requests fail
            log.exception("forward pass over %d pairs failed", len(batch))
            self.stats.batches_failed += 1
            if self._observer:
                self._observer.batch_failed()
            failure = ScoringFailed(f"the model failed on a batch holding this request: {type(error).__name__}: {error}")
            for pair in batch:
                if not pair.job.done:
                    pair.job.future.set_exception(failure)
                    self._drop(pair.job)
            return
        seconds = time.perf_counter() - started
        padded_tokens = len(batch) * max(map(len, sequences))
        self.stats.batches += 1
        self.stats.pairs_scored += len(batch)
        self.stats.real_tokens += sum(map(len, sequences))
        self.stats.padded_tokens += padded_tokens
        if self._observer:
            self._observer.batch_scored(len(batch), padded_tokens, seconds)
        for job in {id(pair.job): pair.job for pair in batch}.values():
            job.inference_seconds += seconds
        for pair, score in zip(batch, scores, strict=True):
            job = pair.job
            if job.done:
                continue
            job.scores[pair.index] = score
            job.remaining -= 1
            if job.remaining == 0:
                job.future.set_result(job.scores)
