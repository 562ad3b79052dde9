"""Prometheus metrics, request ids, timing metadata and limits reported by GetModelInfo."""

from __future__ import annotations

import threading

import grpc
import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from rerank.v1 import rerank_pb2, rerank_pb2_grpc
from rerank_client import DeadlineExceededError, InvalidArgumentError, RerankClient
from rerank_server.config import Settings
from rerank_server.testing.harness import free_port, running_server, wait_until_serving

from tests.gated_scorer import GatedScorer

QUERY = "what is a panda?"


@pytest.fixture(scope="module")
def observed(tiny_model_dir, tiny_scorer):
    scorer = GatedScorer(tiny_scorer)
    metrics_port, http_port = free_port(), free_port()
    settings = Settings(
        model=str(tiny_model_dir), served_model_name="tiny-gemma", port=0, metrics_port=metrics_port,
        http_port=http_port, cache_size=10, batch_size=1, max_query_chars=50, max_document_chars=100,
        max_request_tokens=500,
    )
    with running_server(settings, lambda: scorer) as handle:
        wait_until_serving(handle.address)
        yield scorer, handle.address, f"http://127.0.0.1:{metrics_port}/metrics", f"http://127.0.0.1:{http_port}"


def scrape(url: str) -> dict[tuple[str, tuple], float]:
    samples = {}
    for family in text_string_to_metric_families(httpx.get(url).text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples, name: str, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_metrics_count_requests_batches_cache_and_stages(observed):
    _, address, metrics_url, _ = observed
    before = scrape(metrics_url)
    with RerankClient(address) as client:
        client.rerank(QUERY, ["a", "b", "c"])
        client.rerank(QUERY, ["a", "b", "c"])  # all cached
        with pytest.raises(InvalidArgumentError):
            client.rerank("", ["a"])
    after = scrape(metrics_url)

    def grew(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    assert grew("rerank_requests_total", protocol="grpc", method="Rerank", status="OK") == 2
    assert grew("rerank_requests_total", protocol="grpc", method="Rerank", status="INVALID_ARGUMENT") == 1
    assert grew("rerank_cache_lookups_total", model="tiny-gemma", result="hit") == 3
    assert grew("rerank_cache_lookups_total", model="tiny-gemma", result="miss") == 3
    assert grew("rerank_batch_pairs_count", model="tiny-gemma") == 3  # batch_size 1
    assert grew("rerank_batch_pairs_sum", model="tiny-gemma") == 3
    assert grew("rerank_batch_padded_tokens_sum", model="tiny-gemma") > 0
    for stage in ("tokenize", "queue", "inference"):
        assert grew("rerank_stage_duration_seconds_count", model="tiny-gemma", stage=stage) == 1
    assert ("rerank_queue_pairs", (("model", "tiny-gemma"),)) in after


def test_pairs_dropped_by_a_deadline_are_counted_and_the_queue_gauge_moves(observed):
    scorer, address, metrics_url, _ = observed
    before = scrape(metrics_url)
    scorer.gate.clear()
    scorer.entered.clear()
    with RerankClient(address) as client:
        busy = threading.Thread(target=client.rerank, args=(QUERY, ["occupy", "queued"]))
        busy.start()
        try:
            assert scorer.entered.wait(30)
            assert value(scrape(metrics_url), "rerank_queue_pairs", model="tiny-gemma") == 1
            with pytest.raises(DeadlineExceededError):
                client.rerank(QUERY, ["late-1", "late-2"], timeout=0.3)
        finally:
            scorer.gate.set()
            busy.join(30)
        client.rerank(QUERY, ["after"])
    after = scrape(metrics_url)
    assert value(after, "rerank_pairs_dropped_total", model="tiny-gemma") - value(
        before, "rerank_pairs_dropped_total", model="tiny-gemma"
    ) == 2


def test_the_request_id_is_echoed_and_made_when_missing(observed):
    _, address, _, _ = observed
    with RerankClient(address) as client:
        assert client.rerank(QUERY, ["x"], request_id="req-42").request_id == "req-42"
        made = client.rerank(QUERY, ["y"]).request_id
        assert len(made) == 32
    with grpc.insecure_channel(address) as channel:
        stub = rerank_pb2_grpc.RerankerStub(channel)
        with pytest.raises(grpc.RpcError) as error:
            stub.Rerank(rerank_pb2.RerankRequest(query=""), metadata=[("x-request-id", "bad-one")])
        assert ("x-request-id", "bad-one") in error.value.trailing_metadata()


def test_server_timing_splits_tokenize_queue_and_inference(observed):
    _, address, _, base_url = observed
    with RerankClient(address) as client:
        timing = client.rerank(QUERY, ["fresh text for timing"]).server_timing
    stages = dict(part.strip().split(";dur=") for part in timing.split(","))
    assert set(stages) == {"tokenize", "queue", "inference"}
    assert all(float(ms) >= 0 for ms in stages.values()) and float(stages["inference"]) > 0
    response = httpx.post(base_url + "/v1/rerank", json={"query": QUERY, "documents": ["http timing"]},
                          headers={"x-request-id": "http-7"})
    assert response.headers["x-request-id"] == "http-7"
    assert "inference;dur=" in response.headers["server-timing"]


def test_limits_are_enforced_and_reported(observed):
    _, address, _, base_url = observed
    with RerankClient(address) as client:
        limits = client.model_info()
        with pytest.raises(InvalidArgumentError, match="query has 51 characters, over the limit of 50"):
            client.rerank("q" * 51, ["a"])
        with pytest.raises(InvalidArgumentError, match="document 1 has 101 characters, over the limit of 100"):
            client.rerank(QUERY, ["a", "d" * 101])
        with pytest.raises(InvalidArgumentError, match="over the limit of 500 \\(--max-request-tokens\\)"):
            client.rerank(QUERY, [f"document {i} " + "x y " * 20 for i in range(20)])
    assert limits.max_documents == 1000
    with grpc.insecure_channel(address) as channel:
        reported = rerank_pb2_grpc.RerankerStub(channel).GetModelInfo(rerank_pb2.GetModelInfoRequest()).limits
    assert (reported.max_query_chars, reported.max_document_chars, reported.max_request_tokens) == (50, 100, 500)
    assert reported.max_message_bytes == 16 * 1024 * 1024 and reported.max_queued_pairs == 20000
    too_long = httpx.post(base_url + "/v1/rerank", json={"query": QUERY, "documents": ["d" * 101]})
    assert too_long.status_code == 413
