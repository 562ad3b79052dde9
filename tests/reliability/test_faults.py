"""Faults: a model that fails on some batches fails only the requests in them;
a server killed with SIGKILL and started again on its port is found again by
the sync and asyncio clients on their own."""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter

import grpc
import pytest
from rerank_client import AsyncRerankClient, RerankClient, RerankError

from tests.gated_scorer import GatedScorer
from tests.reliability.support import QUERY, ServerProcess, record, serving

POISON = "this passage breaks the model"


class PoisonedScorer(GatedScorer):
    """Fails every forward pass that holds one of the poisoned sequences, and
    remembers the sequences of each failed batch."""

    def __init__(self, scorer, poisoned: set[tuple[int, ...]]) -> None:
        super().__init__(scorer)
        self.poisoned = poisoned
        self.failed: set[tuple[int, ...]] = set()

    def forward(self, sequences):
        batch = {tuple(s) for s in sequences}
        if batch & self.poisoned:
            self.failed |= batch
            raise RuntimeError("simulated failure on a poisoned passage")
        return super().forward(sequences)


def test_a_failing_batch_fails_only_its_own_requests_under_concurrency(tiny_model_dir, tiny_scorer):
    requests = []
    for i in range(40):
        documents = [f"passage {i}-{j} about bears" for j in range(1 + i % 3)]
        if i % 5 == 0:
            documents.insert(i % 2, POISON)
        requests.append((f"query {i}", documents))
    sequences = [[tuple(s) for s in tiny_scorer.encode(q, docs, 1024, None)] for q, docs in requests]
    poisoned = {s for (_, docs), seqs in zip(requests, sequences) for doc, s in zip(docs, seqs) if doc == POISON}
    scorer = PoisonedScorer(tiny_scorer, poisoned)
    with serving(tiny_model_dir, scorer, batch_size=4) as served:

        async def everything():
            async with AsyncRerankClient(served.address, timeout=120) as client:
                alone = [None if POISON in docs else await client.rerank(q, docs, raw_scores=True) for q, docs in requests]
                scorer.failed.clear()
                together = await asyncio.gather(
                    *(client.rerank(q, docs, raw_scores=True) for q, docs in requests), return_exceptions=True
                )
                return alone, together

        alone, together = asyncio.run(everything())
        outcomes = Counter()
        for (_, documents), seqs, single, outcome in zip(requests, sequences, alone, together):
            shared_a_failed_batch = bool(set(seqs) & scorer.failed)
            if POISON in documents or shared_a_failed_batch:
                assert isinstance(outcome, RerankError) and outcome.code == grpc.StatusCode.INTERNAL, outcome
                assert "simulated failure on a poisoned passage" in outcome.details
                outcomes["poisoned" if POISON in documents else "failed_with_a_poisoned_batch"] += 1
            else:
                assert not isinstance(outcome, Exception), outcome
                assert [r.index for r in outcome.results] == [r.index for r in single.results]
                assert [r.score for r in outcome.results] == pytest.approx([r.score for r in single.results], abs=1e-5)
                outcomes["ok"] += 1
        assert outcomes["ok"] >= len(requests) // 2  # most requests never met a poisoned pair
        with RerankClient(served.address) as client:
            assert len(client.rerank(QUERY, ["after the failures"]).results) == 1
        record("faults_failing_batches", requests=len(requests), **outcomes)


class Caller(threading.Thread):
    """Calls the server over and over, counting what comes back, until stopped."""

    def __init__(self, address: str, asynchronous: bool) -> None:
        super().__init__(daemon=True, name=f"caller-{'async' if asynchronous else 'sync'}")
        self.address, self.asynchronous = address, asynchronous
        self.outcomes: Counter = Counter()
        self.unexpected: list[BaseException] = []
        self.results: list = []
        self.stop = threading.Event()
        self._watch: tuple[str, int, threading.Event] | None = None
        self._lock = threading.Lock()

    def wait_for(self, outcome: str, more: int, timeout: float = 180.0) -> float:
        """Blocks until `more` further outcomes of that kind came; returns the seconds it took."""
        started = time.monotonic()
        reached = threading.Event()
        with self._lock:
            self._watch = (outcome, self.outcomes[outcome] + more, reached)
        assert reached.wait(timeout), f"{self.name}: no {more} more {outcome} within {timeout:.0f} s ({self.outcomes})"
        return time.monotonic() - started

    def _count(self, outcome: str) -> None:
        with self._lock:
            self.outcomes[outcome] += 1
            if self._watch and self._watch[0] == outcome and self.outcomes[outcome] >= self._watch[1]:
                self._watch[2].set()

    def _judge(self, response) -> None:
        self.results.append([(r.index, r.score) for r in response.results])
        self._count("ok")

    def _failed(self, error: BaseException) -> None:
        if isinstance(error, RerankError) and error.code == grpc.StatusCode.UNAVAILABLE:
            self._count("unavailable")
        else:
            self.unexpected.append(error)
            self._count("unexpected")

    def run(self) -> None:
        documents = ["a bear from China", "a car", ""]
        if not self.asynchronous:
            with RerankClient(self.address, timeout=30) as client:
                while not self.stop.is_set():
                    try:
                        self._judge(client.rerank(QUERY, documents))
                    except Exception as error:  # counted, judged by the test
                        self._failed(error)
            return

        async def calls():
            async with AsyncRerankClient(self.address, timeout=30) as client:
                while not self.stop.is_set():
                    try:
                        self._judge(await client.rerank(QUERY, documents))
                    except Exception as error:  # counted, judged by the test
                        self._failed(error)

        asyncio.run(calls())


def test_clients_reconnect_by_themselves_after_the_server_is_killed_and_restarted(tiny_model_dir):
    server = ServerProcess(str(tiny_model_dir)).start()
    callers = [Caller(server.address, asynchronous=False), Caller(server.address, asynchronous=True)]
    try:
        for caller in callers:
            caller.start()
        for caller in callers:
            caller.wait_for("ok", 3)
        assert server.kill() == -9
        for caller in callers:
            caller.wait_for("unavailable", 1)
        server.start()  # same port, new process
        reconnect_seconds = [caller.wait_for("ok", 3) for caller in callers]
    finally:
        for caller in callers:
            caller.stop.set()
        for caller in callers:
            caller.join(60)
        server.kill()
    for caller in callers:
        assert not caller.unexpected, caller.unexpected[:3]
        first = caller.results[0]
        for result in caller.results:  # the restarted server answers as the first one did
            assert [index for index, _ in result] == [index for index, _ in first]
            assert [score for _, score in result] == pytest.approx([score for _, score in first], abs=1e-5)
    record(
        "faults_sigkill_restart",
        ok=sum(c.outcomes["ok"] for c in callers), unavailable=sum(c.outcomes["unavailable"] for c in callers),
        unexpected=0, **{f"{c.name}_seconds_to_3_ok_after_restart": round(s, 1) for c, s in zip(callers, reconnect_seconds)},
    )
