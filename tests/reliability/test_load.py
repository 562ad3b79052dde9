"""Many concurrent clients on one server: every answer is its own request's
(scores as when scored alone, within 1e-5), memory stays bounded, and a full
queue refuses at once (RESOURCE_EXHAUSTED / 429) without harming anything."""

from __future__ import annotations

import asyncio
import time

import grpc
import httpx
import pytest
from rerank.v1 import rerank_pb2
from rerank_client import AsyncRerankClient, OverloadedError, RerankClient
from rerank_client.client import build_request

from tests.gated_scorer import GatedScorer
from tests.reliability.support import QUERY, check_cohere_response, check_response, percentiles, record, rss_mib, serving

GRPC_CLIENTS = 32
HTTP_CLIENTS = 4
WARM_UP_SECONDS = 3.0
LOAD_SECONDS = 10.0
MAX_REQUESTS_PER_CLIENT = 500  # a bound on a fast machine; the time bounds a slow one
RSS_GROWTH_LIMIT_MIB = 150
WORDS = "the giant panda eats bamboo in the misty mountains of sichuan while bears sleep".split()


def distinct_requests(count: int = 40) -> list[tuple[str, list[tuple[str, str]]]]:
    """Queries with 1..4 documents of different lengths; some texts recur across
    requests, so the same pair is scored in many batches."""
    requests = []
    for i in range(count):
        documents = []
        for j in range(1 + i % 4):
            words = WORDS[(i + j) % len(WORDS):] + WORDS[: (i * j) % 7]
            documents.append((f"r{i}-d{j}", " ".join(words) if (i + j) % 5 else ("a shared passage" if j else "")))
        requests.append((f"query {i}: " + " ".join(WORDS[i % 5: i % 5 + 1 + i % 4]), documents))
    return requests


def assert_same_scores(response_scores: dict[int, tuple[str, float]], alone: dict[int, tuple[str, float]]) -> None:
    assert response_scores.keys() == alone.keys()
    for index, (doc_id, score) in alone.items():
        assert response_scores[index][0] == doc_id
        assert response_scores[index][1] == pytest.approx(score, abs=1e-5), index


@pytest.fixture(scope="module")
def loaded_server(tiny_model_dir, tiny_scorer):
    with serving(tiny_model_dir, tiny_scorer, http=True, batch_size=16, max_wait_ms=5) as served:
        yield served


def test_concurrent_clients_each_get_their_own_answer_and_memory_stays_bounded(loaded_server):
    pool = distinct_requests()
    with RerankClient(loaded_server.address, timeout=120) as client:
        alone = [
            {r.index: (r.id, r.score) for r in client.rerank(query, documents, raw_scores=True).results}
            for query, documents in pool
        ]
    latencies: list[float] = []
    answered = {"grpc": 0, "http": 0, "pairs": 0}

    async def grpc_client(number: int, client: AsyncRerankClient, until: float) -> None:
        for k in range(MAX_REQUESTS_PER_CLIENT):
            if time.perf_counter() > until:
                return
            i = (number * 7 + k) % len(pool)
            query, documents = pool[i]
            started = time.perf_counter()
            response = await client.rerank(query, documents, raw_scores=True, top_n=0)
            latencies.append(time.perf_counter() - started)
            request = build_request(query, documents, raw_scores=True)
            check_response(request, rerank_pb2.RerankResponse(
                results=[rerank_pb2.RerankResult(index=r.index, id=r.id, score=r.score) for r in response.results],
                model=response.model, usage=rerank_pb2.Usage(pairs=response.pairs),
            ))
            assert_same_scores({r.index: (r.id, r.score) for r in response.results}, alone[i])
            answered["grpc"] += 1
            answered["pairs"] += len(documents)

    async def http_client(number: int, http: httpx.AsyncClient, until: float) -> None:
        for k in range(MAX_REQUESTS_PER_CLIENT):
            if time.perf_counter() > until:
                return
            i = (number * 11 + k + 3) % len(pool)
            query, documents = pool[i]
            body = {"query": query, "documents": [text for _, text in documents], "raw_scores": True}
            started = time.perf_counter()
            response = await http.post(loaded_server.http_url + "/v2/rerank", json=body)
            latencies.append(time.perf_counter() - started)
            assert response.status_code == 200, response.text
            check_cohere_response(response.json(), body["documents"], None, False, raw=True)
            results = response.json()["results"]
            assert_same_scores({r["index"]: (documents[r["index"]][0], r["relevance_score"]) for r in results}, alone[i])
            answered["http"] += 1
            answered["pairs"] += len(documents)

    async def one_round(seconds: float) -> float:
        """Every client calls until `seconds` have passed; returns how long the round took."""
        clients = [AsyncRerankClient(loaded_server.address, timeout=300) for _ in range(GRPC_CLIENTS)]
        async with httpx.AsyncClient(timeout=300) as http:
            started = time.perf_counter()
            try:
                await asyncio.gather(
                    *(grpc_client(n, c, started + seconds) for n, c in enumerate(clients)),
                    *(http_client(n, http, started + seconds) for n in range(HTTP_CLIENTS)),
                )
            finally:
                await asyncio.gather(*(c.close() for c in clients))
            return time.perf_counter() - started

    rss_before = rss_mib()
    asyncio.run(one_round(WARM_UP_SECONDS))
    rss_warm = rss_mib()
    latencies.clear()
    answered.update(grpc=0, http=0, pairs=0)
    seconds = asyncio.run(one_round(LOAD_SECONDS))
    rss_after = rss_mib()

    assert answered["grpc"] >= GRPC_CLIENTS and answered["http"] >= HTTP_CLIENTS  # every client was answered
    record(
        "load",
        grpc_clients=GRPC_CLIENTS, http_clients=HTTP_CLIENTS, distinct_requests=len(pool),
        grpc_requests=answered["grpc"], http_requests=answered["http"], pairs=answered["pairs"], mismatches=0,
        seconds=round(seconds, 1), requests_per_second=round(len(latencies) / seconds, 1),
        pairs_per_second=round(answered["pairs"] / seconds, 1), **percentiles(latencies),
        rss_before_mib=round(rss_before), rss_after_warm_up_mib=round(rss_warm), rss_after_mib=round(rss_after),
        rss_growth_after_warm_up_mib=round(rss_after - rss_warm, 1),
    )
    # The second round repeats the first: memory it keeps is a leak, not a cache warming up.
    assert rss_after - rss_warm < RSS_GROWTH_LIMIT_MIB
    with RerankClient(loaded_server.address) as client:  # nothing queued is left behind
        assert len(client.rerank(QUERY, ["after the load"]).results) == 1


def test_a_flood_past_max_queued_pairs_is_refused_at_once_and_the_rest_is_answered(tiny_model_dir, tiny_scorer):
    """The model is held busy, so every refusal must come while it still is."""
    scorer = GatedScorer(tiny_scorer)
    with serving(tiny_model_dir, scorer, http=True, max_documents=4, max_queued_pairs=8, batch_size=4) as served:
        documents = [f"flood passage {j}" for j in range(4)]
        with RerankClient(served.address, timeout=120) as client:
            alone = {r.index: (r.id, r.score) for r in client.rerank(QUERY, documents, raw_scores=True).results}
        scorer.gate.clear()
        scorer.entered.clear()

        async def flood() -> tuple[list, list, list[float]]:
            refusal_seconds: list[float] = []

            async def grpc_call(client: AsyncRerankClient):
                started = time.perf_counter()
                try:
                    return await client.rerank(QUERY, documents, raw_scores=True)
                except OverloadedError as error:
                    refusal_seconds.append(time.perf_counter() - started)
                    return error

            async def http_call(http: httpx.AsyncClient):
                started = time.perf_counter()
                response = await http.post(served.http_url + "/v1/rerank",
                                           json={"query": QUERY, "documents": documents, "raw_scores": True})
                if response.status_code == 429:
                    refusal_seconds.append(time.perf_counter() - started)
                return response

            async with AsyncRerankClient(served.address, timeout=120) as client, httpx.AsyncClient(timeout=120) as http:
                busy = asyncio.ensure_future(grpc_call(client))  # its 4 pairs fill the model's one batch
                assert await asyncio.to_thread(scorer.entered.wait, 60)
                calls = [asyncio.ensure_future(grpc_call(client)) for _ in range(20)]
                calls += [asyncio.ensure_future(http_call(http)) for _ in range(10)]
                # The queue has room for 8 pairs: two of the 30 requests wait, 28 are refused.
                refused = []
                pending = set(calls)
                while len(refused) < 28:
                    done, pending = await asyncio.wait(pending, timeout=60, return_when=asyncio.FIRST_COMPLETED)
                    assert done, "a refusal waited for the model"
                    refused += [task.result() for task in done]
                assert not scorer.gate.is_set() and len(pending) == 2
                scorer.gate.set()
                answered = [await busy] + [await task for task in pending]
                return refused, answered, refusal_seconds

        refused, answered, refusal_seconds = asyncio.run(flood())
        for outcome in refused:
            if isinstance(outcome, httpx.Response):
                assert outcome.status_code == 429 and "--max-queued-pairs" in outcome.json()["message"]
            else:
                assert outcome.code == grpc.StatusCode.RESOURCE_EXHAUSTED and "retry with backoff" in outcome.details
        for outcome in answered:
            if isinstance(outcome, httpx.Response):
                assert outcome.status_code == 200
                scores = {r["index"]: (str(r["index"]), r["relevance_score"]) for r in outcome.json()["results"]}
            else:
                scores = {r.index: (r.id, r.score) for r in outcome.results}
            assert_same_scores(scores, alone)
        with RerankClient(served.address) as client:
            assert len(client.rerank(QUERY, documents).results) == 4
        record("overload", flood_requests=30, refused=len(refused), answered=len(answered),
               refusal_p50_ms=percentiles(refusal_seconds)["p50_ms"], refusal_p99_ms=percentiles(refusal_seconds)["p99_ms"])
