"""Deadlines under load: requests whose deadline passes while they wait in the
queue are never scored, and their pairs are counted by rerank_pairs_dropped."""

from __future__ import annotations

import asyncio

import pytest
from rerank_client import AsyncRerankClient, DeadlineExceededError

from tests.gated_scorer import GatedScorer
from tests.reliability.support import QUERY, SERVED_NAME, metric, record, serving

LATE_REQUESTS = 24
PATIENT_REQUESTS = 8


def test_requests_that_time_out_in_the_queue_are_never_scored_and_are_counted(tiny_model_dir, tiny_scorer):
    scorer = GatedScorer(tiny_scorer)
    with serving(tiny_model_dir, scorer, metrics=True, batch_size=4) as served:
        late = [(f"late query {i}", [f"late {i}-{j}" for j in range(1 + i % 3)]) for i in range(LATE_REQUESTS)]
        patient = [(f"patient query {i}", [f"patient {i}-{j}" for j in range(1 + i % 4)]) for i in range(PATIENT_REQUESTS)]
        dropped_before = metric(served.metrics_url, "rerank_pairs_dropped_total", model=SERVED_NAME)

        async def scenario():
            async with AsyncRerankClient(served.address, timeout=120) as client:
                alone = [await client.rerank(q, docs, raw_scores=True) for q, docs in patient]
                scorer.gate.clear()
                scorer.entered.clear()
                busy = asyncio.ensure_future(client.rerank(QUERY, ["holds the model"] * 4))
                assert await asyncio.to_thread(scorer.entered.wait, 60)
                waiting = [asyncio.ensure_future(client.rerank(q, docs, raw_scores=True, timeout=120)) for q, docs in patient]
                expired = await asyncio.gather(
                    *(client.rerank(q, docs, timeout=0.2 + 0.05 * (i % 5)) for i, (q, docs) in enumerate(late)),
                    return_exceptions=True,
                )
                assert not scorer.gate.is_set()  # every late request ended while the model was still busy
                scorer.gate.set()
                return alone, expired, await asyncio.gather(busy, *waiting)

        alone, expired, answered = asyncio.run(scenario())
        assert all(isinstance(outcome, DeadlineExceededError) for outcome in expired), expired
        for single, mixed in zip(alone, answered[1:]):
            assert [r.index for r in mixed.results] == [r.index for r in single.results]
            assert [r.score for r in mixed.results] == pytest.approx([r.score for r in single.results], abs=1e-5)

        late_sequences = {tuple(s) for q, docs in late for s in tiny_scorer.encode(q, docs, 1024, None)}
        assert not late_sequences & {tuple(s) for s in scorer.scored}, "a late request's pair reached the model"
        late_pairs = sum(len(docs) for _, docs in late)
        dropped = metric(served.metrics_url, "rerank_pairs_dropped_total", model=SERVED_NAME) - dropped_before
        assert dropped == late_pairs
        record("deadlines", late_requests=LATE_REQUESTS, late_pairs=late_pairs, late_pairs_scored=0,
               pairs_dropped_metric=int(dropped), patient_requests_answered=len(answered) - 1)
