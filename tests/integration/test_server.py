"""The real server on a loopback port, called by the real client."""

from __future__ import annotations

import asyncio
import contextlib
import threading

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import ProtoReflectionDescriptorDatabase
from rerank.v1 import rerank_pb2, rerank_pb2_grpc
from rerank_client import (
    AsyncRerankClient,
    DeadlineExceededError,
    InvalidArgumentError,
    ModelNotFoundError,
    OverloadedError,
    RerankClient,
    RerankError,
    UnavailableError,
)
from rerank_server.config import Settings
from rerank_server.testing.harness import running_server, wait_until_serving

from tests.gated_scorer import GatedScorer

QUERY = "what is a panda?"
DOCUMENTS = ["hi", "The giant panda is a bear species endemic to China.", "", "팬더는 포유류다."]


@contextlib.contextmanager
def gated_server(tiny_model_dir, tiny_scorer, **settings):
    scorer = GatedScorer(tiny_scorer)
    config = Settings(model=str(tiny_model_dir), served_model_name="tiny-gemma", port=0, **settings)
    with running_server(config, lambda: scorer) as handle:
        wait_until_serving(handle.address)
        with RerankClient(handle.address, timeout=30) as client:
            yield scorer, client, handle


def health_status(address: str, service: str = "") -> int:
    with grpc.insecure_channel(address) as channel:
        return health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(service=service), timeout=5).status


# --- results -------------------------------------------------------------------------


def test_results_are_sorted_best_first_and_cover_every_document(client):
    response = client.rerank(QUERY, DOCUMENTS)
    scores = [r.score for r in response.results]
    assert scores == sorted(scores, reverse=True)
    assert sorted(r.index for r in response.results) == list(range(len(DOCUMENTS)))
    assert all(0.0 <= s <= 1.0 for s in scores)
    assert response.pairs == len(DOCUMENTS) and response.tokens > 0


def test_equal_scores_keep_request_order(client):
    response = client.rerank(QUERY, ["same text", "other", "same text", "same text"])
    same = [r.index for r in response.results if r.index != 1]
    assert same == [0, 2, 3]


def test_ids_are_echoed_and_text_is_returned_only_when_asked(client):
    documents = [("doc-a", "alpha"), ("doc-b", "beta")]
    plain = client.rerank(QUERY, documents)
    assert {r.id for r in plain.results} == {"doc-a", "doc-b"}
    assert all(r.text is None for r in plain.results)
    with_text = client.rerank(QUERY, documents, return_text=True)
    assert {(r.id, r.text) for r in with_text.results} == set(documents)


def test_top_n_keeps_the_best_and_a_large_top_n_keeps_all(client):
    everything = client.rerank(QUERY, DOCUMENTS)
    best_two = client.rerank(QUERY, DOCUMENTS, top_n=2)
    assert best_two.results == everything.results[:2]
    assert len(client.rerank(QUERY, DOCUMENTS, top_n=99).results) == len(DOCUMENTS)


def test_raw_scores_are_logits_whose_sigmoid_is_the_default_score(client):
    import math

    raw = {r.index: r.score for r in client.rerank(QUERY, DOCUMENTS, raw_scores=True).results}
    normalized = {r.index: r.score for r in client.rerank(QUERY, DOCUMENTS).results}
    for index, logit in raw.items():
        assert normalized[index] == pytest.approx(1 / (1 + math.exp(-logit)), abs=1e-12)


def test_model_info_describes_the_model_and_limits(client, tiny_model_dir):
    info = client.model_info()
    assert info.default_model == "tiny-gemma"
    (model,) = info.models
    assert (model.name, model.source, model.kind) == ("tiny-gemma", str(tiny_model_dir), "llm-yes-logit")
    assert (model.device, model.dtype) == ("cpu", "float32")
    assert model.default_max_length == 1024 and model.max_max_length > 1024
    assert "'Yes' or 'No'" in model.default_prompt
    assert info.max_documents == 1000 and info.batch_size == 8
    with pytest.raises(ModelNotFoundError, match="tiny-gemma"):
        client.model_info("nope")


def test_the_asyncio_client_gets_the_same_answer(client, rerank_address):
    async def call():
        async with AsyncRerankClient(rerank_address) as async_client:
            return await async_client.rerank(QUERY, DOCUMENTS, top_n=3)

    assert asyncio.run(call()).results == client.rerank(QUERY, DOCUMENTS, top_n=3).results


def test_concurrent_requests_get_the_scores_they_get_alone(client, rerank_address):
    requests = [(f"query {i} about pandas", [f"document {i}-{j} " * (1 + (i * j) % 13) for j in range(3 + i % 7)]) for i in range(21)]
    alone = [client.rerank(q, docs, raw_scores=True) for q, docs in requests]

    async def together():
        async with AsyncRerankClient(rerank_address, timeout=120) as async_client:
            return await asyncio.gather(*(async_client.rerank(q, docs, raw_scores=True) for q, docs in requests))

    for single, mixed in zip(alone, asyncio.run(together())):
        assert [r.index for r in mixed.results] == [r.index for r in single.results]
        assert [r.score for r in mixed.results] == pytest.approx([r.score for r in single.results], abs=1e-5)


# --- bad input ---------------------------------------------------------------------------

BAD_REQUESTS = [
    (dict(query="", documents=["x"]), InvalidArgumentError, "query is empty"),
    (dict(query="   \n", documents=["x"]), InvalidArgumentError, "query is empty"),
    (dict(query="q", documents=[]), InvalidArgumentError, "documents is empty"),
    (dict(query="q", documents=["x"] * 1001), InvalidArgumentError, "limit of 1000 per request"),
    (dict(query="q", documents=["x"], max_length=100_000), InvalidArgumentError, "max_length 100000 is outside"),
    (dict(query="q", documents=["x"], max_length=3), InvalidArgumentError, "max_length 3 is outside"),
    (dict(query="q", documents=["x"], prompt="p" * 5000), InvalidArgumentError, "prompt has 5000 characters"),
    (dict(query="q", documents=["x"], model="other-model"), ModelNotFoundError, "this server serves tiny-gemma"),
]


@pytest.mark.parametrize("kwargs, error, message", BAD_REQUESTS, ids=[m for _, _, m in BAD_REQUESTS])
def test_bad_input_gets_a_precise_status_and_the_server_keeps_serving(client, kwargs, error, message):
    with pytest.raises(error, match=message):
        client.rerank(**kwargs)
    assert len(client.rerank(QUERY, DOCUMENTS).results) == len(DOCUMENTS)


def test_an_empty_document_is_scored(client):
    (result,) = client.rerank(QUERY, [""]).results
    assert 0.0 < result.score < 1.0


# --- service plumbing ----------------------------------------------------------------------


def test_reflection_lists_and_describes_the_service(rerank_address):
    with grpc.insecure_channel(rerank_address) as channel:
        database = ProtoReflectionDescriptorDatabase(channel)
        services = set(database.get_services())
        assert {"rerank.v1.Reranker", "grpc.health.v1.Health"} <= services
        descriptor = database.FindFileContainingSymbol("rerank.v1.Reranker")
        assert descriptor.package == "rerank.v1"


def test_the_raw_stub_gets_the_same_contract(rerank_address):
    with grpc.insecure_channel(rerank_address) as channel:
        stub = rerank_pb2_grpc.RerankerStub(channel)
        response = stub.Rerank(rerank_pb2.RerankRequest(query=QUERY, documents=[rerank_pb2.Document(id="a", text="x")]))
        assert response.model == "tiny-gemma" and response.results[0].id == "a"
        with pytest.raises(grpc.RpcError) as error:
            stub.Rerank(rerank_pb2.RerankRequest(query=QUERY))
        assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_health_is_not_serving_until_the_model_is_loaded(tiny_model_dir, tiny_scorer):
    loaded = threading.Event()

    def slow_load():
        assert loaded.wait(60)
        return tiny_scorer

    settings = Settings(model=str(tiny_model_dir), served_model_name="tiny-gemma", port=0)
    with running_server(settings, slow_load) as handle:
        assert health_status(handle.address) == health_pb2.HealthCheckResponse.NOT_SERVING
        assert health_status(handle.address, "rerank.v1.Reranker") == health_pb2.HealthCheckResponse.NOT_SERVING
        with RerankClient(handle.address) as client, pytest.raises(UnavailableError, match="still loading"):
            client.rerank(QUERY, DOCUMENTS)
        loaded.set()
        wait_until_serving(handle.address)
        assert health_status(handle.address, "rerank.v1.Reranker") == health_pb2.HealthCheckResponse.SERVING


def test_health_answers_while_the_model_is_busy(tiny_model_dir, tiny_scorer):
    with gated_server(tiny_model_dir, tiny_scorer) as (scorer, client, handle):
        scorer.gate.clear()
        pending = threading.Thread(target=client.rerank, args=(QUERY, DOCUMENTS))
        pending.start()
        assert health_status(handle.address) == health_pb2.HealthCheckResponse.SERVING
        scorer.gate.set()
        pending.join(30)


# --- load, deadlines, failures ---------------------------------------------------------------


def test_a_full_queue_answers_resource_exhausted_at_once(tiny_model_dir, tiny_scorer):
    with gated_server(tiny_model_dir, tiny_scorer, max_documents=10, max_queued_pairs=12, batch_size=2) as (scorer, client, _):
        scorer.gate.clear()
        scorer.entered.clear()
        waiting = threading.Thread(target=client.rerank, args=(QUERY, ["d"] * 10))
        waiting.start()
        try:
            assert scorer.entered.wait(30)  # 2 pairs in the model, 8 queued
            with pytest.raises(OverloadedError, match="the queue holds 8 pairs .* limit of 12 \\(--max-queued-pairs\\)"):
                client.rerank(QUERY, ["e"] * 5, timeout=5)
        finally:
            scorer.gate.set()
            waiting.join(30)
        assert len(client.rerank(QUERY, ["f"]).results) == 1


def test_a_request_that_times_out_in_the_queue_is_never_scored(tiny_model_dir, tiny_scorer):
    with gated_server(tiny_model_dir, tiny_scorer, batch_size=1) as (scorer, client, _):
        scorer.gate.clear()
        scorer.entered.clear()
        busy = threading.Thread(target=client.rerank, args=(QUERY, ["occupies the model"]))
        busy.start()
        assert scorer.entered.wait(30)
        with pytest.raises(DeadlineExceededError):
            client.rerank(QUERY, ["never scored"] * 3, timeout=0.3)
        scorer.gate.set()
        busy.join(30)
        client.rerank(QUERY, ["after"])  # the queue has moved on
        never = scorer._scorer.encode(QUERY, ["never scored"], 1024, None)[0]
        assert never not in scorer.scored


def test_a_failing_model_gives_internal_for_that_request_only(tiny_model_dir, tiny_scorer):
    with gated_server(tiny_model_dir, tiny_scorer) as (scorer, client, _):
        scorer.fail = True
        with pytest.raises(RerankError) as error:
            client.rerank(QUERY, DOCUMENTS)
        assert error.value.code == grpc.StatusCode.INTERNAL
        assert "simulated CUDA error" in error.value.details
        scorer.fail = False
        assert len(client.rerank(QUERY, DOCUMENTS).results) == len(DOCUMENTS)


def test_the_score_cache_skips_the_model_for_repeated_pairs(tiny_model_dir, tiny_scorer):
    with gated_server(tiny_model_dir, tiny_scorer, cache_size=100) as (scorer, client, _):
        first = client.rerank(QUERY, DOCUMENTS, raw_scores=True)
        scored = len(scorer.scored)
        second = client.rerank(QUERY, DOCUMENTS, raw_scores=True)
        assert (first.cached_pairs, second.cached_pairs) == (0, len(DOCUMENTS))
        assert second.results == first.results and second.tokens == 0
        assert len(scorer.scored) == scored
        other = client.rerank(QUERY, DOCUMENTS, raw_scores=True, max_length=64)
        assert other.cached_pairs == 0  # max_length is part of the key
