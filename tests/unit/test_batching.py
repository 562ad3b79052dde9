"""The batcher, driven with a fake forward pass that records every batch."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from rerank_server.batching import Batcher, BatchingLimits, grow_batch
from rerank_server.errors import DeadlineExceeded, Overloaded, ScoringFailed

FAIL_TOKEN = -1


class RecordingForward:
    """Scores a sequence as the sum of its ids; fails on a batch holding FAIL_TOKEN."""

    def __init__(self) -> None:
        self.batches: list[list[list[int]]] = []
        self.gate: threading.Event | None = None

    def __call__(self, sequences):
        if self.gate is not None:
            assert self.gate.wait(30), "the test never opened the gate"
        batch = [list(sequence) for sequence in sequences]
        self.batches.append(batch)
        if any(FAIL_TOKEN in sequence for sequence in batch):
            raise RuntimeError("boom")
        return [float(sum(sequence)) for sequence in batch]

    @property
    def scored(self) -> list[list[int]]:
        return [sequence for batch in self.batches for sequence in batch]


@pytest.fixture
def forward():
    return RecordingForward()


@pytest.fixture
def executor():
    with ThreadPoolExecutor(max_workers=1) as pool:
        yield pool


def make_batcher(forward, executor, **limits) -> Batcher:
    batcher = Batcher(forward, executor, BatchingLimits(**{"max_wait_ms": 0, **limits}))
    batcher.start()
    return batcher


def request(seed: int, count: int, length_of=lambda i: 1 + i % 7) -> list[list[int]]:
    return [[seed * 1000 + i] * length_of(i) for i in range(count)]


async def test_each_request_gets_its_own_scores_in_its_own_order(forward, executor):
    batcher = make_batcher(forward, executor, max_batch_pairs=16, max_batch_tokens=256, max_wait_ms=5)
    requests = [request(seed, 5 + seed % 9) for seed in range(21)]
    results = await asyncio.gather(*(batcher.score(r) for r in requests))
    for sequences, scores in zip(requests, results):
        assert scores == [float(sum(s)) for s in sequences]
    assert len(forward.batches) < sum(map(len, requests))  # pairs of many requests shared batches
    await batcher.close()


async def test_batches_respect_the_pair_cap_and_the_padded_token_budget(forward, executor):
    batcher = make_batcher(forward, executor, max_batch_pairs=6, max_batch_tokens=40)
    lengths = [3, 9, 1, 12, 5, 5, 7, 2, 10, 4, 8, 6, 11, 1]
    await batcher.score([[1] * n for n in lengths])
    for batch in forward.batches:
        assert len(batch) <= 6
        assert len(batch) * max(map(len, batch)) <= 40
    assert sorted(map(len, forward.scored)) == sorted(lengths)
    assert batcher.stats.padded_tokens <= 40 * len(forward.batches)
    await batcher.close()


async def test_a_pair_longer_than_the_budget_is_scored_alone(forward, executor):
    batcher = make_batcher(forward, executor, max_batch_pairs=8, max_batch_tokens=64)
    scores = await batcher.score([[1] * 100, [2] * 3, [3] * 3])
    assert scores == [100.0, 6.0, 9.0]
    assert [len(batch) for batch in forward.batches if len(batch[0]) == 100] == [1]
    await batcher.close()


async def test_pairs_of_similar_length_share_a_batch(forward, executor):
    batcher = make_batcher(forward, executor, max_batch_pairs=3, max_batch_tokens=10_000)
    lengths = [2, 50, 2, 50, 2, 50]
    await batcher.score([[1] * n for n in lengths])
    assert sorted(sorted(map(len, batch)) for batch in forward.batches) == [[2, 2, 2], [50, 50, 50]]
    await batcher.close()


async def test_the_oldest_pair_is_always_in_the_next_batch(forward, executor):
    """A long pair is not starved by a stream of short ones queued after it."""
    forward.gate = threading.Event()
    batcher = make_batcher(forward, executor, max_batch_pairs=2, max_batch_tokens=10_000)
    first = asyncio.ensure_future(batcher.score([[5] * 3]))  # occupies the model
    await asyncio.sleep(0)
    long_one = asyncio.ensure_future(batcher.score([[7] * 40]))
    shorts = [asyncio.ensure_future(batcher.score([[1] * 2, [1] * 2])) for _ in range(5)]
    await asyncio.sleep(0)
    forward.gate.set()
    await asyncio.gather(first, long_one, *shorts)
    assert any(len(s) == 40 for s in forward.batches[1]), "the long pair waited behind newer short ones"
    await batcher.close()


async def test_a_request_past_the_queue_limit_is_refused_at_once(forward, executor):
    forward.gate = threading.Event()
    batcher = make_batcher(forward, executor, max_queued_pairs=10, max_batch_pairs=4)
    queued = asyncio.ensure_future(batcher.score(request(1, 8)))
    await asyncio.sleep(0)
    with pytest.raises(Overloaded, match="--max-queued-pairs"):
        await batcher.score(request(2, 3))
    assert batcher.stats.requests_rejected == 1
    forward.gate.set()
    assert len(await queued) == 8
    assert batcher.queued_pairs == 0
    await batcher.close()


async def test_a_request_whose_deadline_passes_in_the_queue_is_never_scored(forward, executor):
    forward.gate = threading.Event()
    batcher = make_batcher(forward, executor, max_batch_pairs=2)
    busy = asyncio.ensure_future(batcher.score([[1], [1]]))
    await asyncio.sleep(0.01)  # the worker has taken the busy batch
    late = asyncio.ensure_future(batcher.score([[99, 99]] * 3, timeout=0.01))
    await asyncio.sleep(0.05)  # past the late request's deadline, the model still busy
    forward.gate.set()
    await busy
    with pytest.raises(DeadlineExceeded, match="deadline"):
        await late
    assert [99, 99] not in forward.scored
    assert batcher.stats.pairs_dropped == 3
    assert batcher.queued_pairs == 0
    await batcher.close()


async def test_a_cancelled_request_is_dropped_from_the_queue(forward, executor):
    forward.gate = threading.Event()
    batcher = make_batcher(forward, executor, max_batch_pairs=2)
    busy = asyncio.ensure_future(batcher.score([[1], [1]]))
    await asyncio.sleep(0.01)
    cancelled = asyncio.ensure_future(batcher.score([[42]] * 4))
    await asyncio.sleep(0)
    cancelled.cancel()
    await asyncio.sleep(0)
    assert batcher.queued_pairs == 0
    forward.gate.set()
    await busy
    assert await batcher.score([[3]]) == [3.0]
    assert [42] not in forward.scored
    assert batcher.stats.pairs_dropped == 4
    await batcher.close()


async def test_a_failing_batch_fails_only_its_requests(forward, executor):
    forward.gate = threading.Event()
    batcher = make_batcher(forward, executor, max_batch_pairs=2, max_batch_tokens=10_000)
    busy = asyncio.ensure_future(batcher.score([[1] * 9]))
    await asyncio.sleep(0.01)
    # Lengths keep these apart: the poisoned pairs (length 3) batch together.
    poisoned = asyncio.ensure_future(batcher.score([[FAIL_TOKEN, 0, 0], [FAIL_TOKEN, 0, 0], [5] * 20]))
    healthy = asyncio.ensure_future(batcher.score([[2] * 20, [2] * 20]))
    await asyncio.sleep(0)
    forward.gate.set()
    await busy
    with pytest.raises(ScoringFailed, match="RuntimeError: boom"):
        await poisoned
    assert await healthy == [40.0, 40.0]
    assert await batcher.score([[4]]) == [4.0]  # still serving
    assert batcher.stats.batches_failed == 1
    assert batcher.queued_pairs == 0
    await batcher.close()


async def test_the_event_loop_runs_during_a_forward_pass(forward, executor):
    """The forward pass blocks until a coroutine on the loop releases it: were
    the forward pass on the loop, this would never finish."""
    forward.gate = threading.Event()
    batcher = make_batcher(forward, executor)
    scoring = asyncio.ensure_future(batcher.score([[1, 2]]))

    async def release():
        forward.gate.set()

    await asyncio.gather(release(), scoring)
    assert scoring.result() == [3.0]
    await batcher.close()


async def test_an_idle_model_waits_for_more_work_to_fill_a_batch(forward, executor):
    batcher = make_batcher(forward, executor, max_wait_ms=300, max_batch_pairs=8)
    first = asyncio.ensure_future(batcher.score([[1]]))
    await asyncio.sleep(0.01)
    second = asyncio.ensure_future(batcher.score([[2]]))
    await asyncio.gather(first, second)
    assert len(forward.batches) == 1
    await batcher.close()


def test_a_padding_bound_splits_pairs_of_different_lengths(forward, executor):
    limits = BatchingLimits(max_batch_pairs=64, max_batch_tokens=10_000, max_padding_ratio=0.1)
    lengths = [10, 10, 11, 30, 31, 31, 100]
    assert grow_batch(lengths, 0, limits) == (0, 2)  # 33 padded for 31 real: within 10 %
    assert grow_batch(lengths, 4, limits) == (3, 5)
    assert grow_batch(lengths, 6, limits) == (6, 6)
    unbounded = BatchingLimits(max_batch_pairs=64, max_batch_tokens=10_000)
    assert grow_batch(lengths, 0, unbounded) == (0, 6)


def test_the_batch_grows_toward_the_neighbour_that_adds_less_padding():
    limits = BatchingLimits(max_batch_pairs=3, max_batch_tokens=10_000)
    assert grow_batch([5, 9, 10, 11, 40], 2, limits) == (1, 3)
    assert grow_batch([1, 10, 11, 12], 1, limits) == (1, 3)
