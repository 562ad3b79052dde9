"""The Cohere-shaped HTTP API, called by the official cohere SDK and by raw HTTP."""

from __future__ import annotations

import json
import threading

import cohere
import httpx
import pytest
from rerank_client import RerankClient
from rerank_server.config import Settings
from rerank_server.testing.harness import free_port, running_server, wait_until_serving

from tests.gated_scorer import GatedScorer

QUERY = "what is a panda?"
DOCUMENTS = ["hi", "The giant panda is a bear species endemic to China.", "", "팬더는 포유류다."]


@pytest.fixture(scope="module")
def http_server(tiny_model_dir, tiny_scorer):
    scorer = GatedScorer(tiny_scorer)
    http_port = free_port()
    settings = Settings(
        model=str(tiny_model_dir), served_model_name="tiny-gemma", port=0, http_port=http_port,
        max_documents=20, max_queued_pairs=24, batch_size=4, max_message_bytes=64 * 1024,
    )
    with running_server(settings, lambda: scorer) as handle:
        wait_until_serving(handle.address)
        yield scorer, f"http://127.0.0.1:{http_port}", handle.address


@pytest.fixture
def base_url(http_server):
    return http_server[1]


def post(base_url: str, path: str, body) -> httpx.Response:
    content = body if isinstance(body, (bytes, str)) else json.dumps(body)
    return httpx.post(base_url + path, content=content, headers={"content-type": "application/json"}, timeout=30)


def test_the_cohere_v2_sdk_reranks_with_the_grpc_scores(http_server):
    _, base_url, grpc_address = http_server
    client = cohere.ClientV2(api_key="unused", base_url=base_url)
    response = client.rerank(model="tiny-gemma", query=QUERY, documents=DOCUMENTS, top_n=3)
    assert len(response.results) == 3
    with RerankClient(grpc_address) as grpc_client:
        expected = grpc_client.rerank(QUERY, DOCUMENTS, top_n=3).results
    assert [r.index for r in response.results] == [r.index for r in expected]
    assert [r.relevance_score for r in response.results] == pytest.approx([r.score for r in expected], abs=1e-9)


def test_the_cohere_v1_sdk_gets_documents_back_when_asked(base_url):
    client = cohere.Client(api_key="unused", base_url=base_url)
    documents = [{"text": text} for text in DOCUMENTS]
    response = client.rerank(model="tiny-gemma", query=QUERY, documents=documents, return_documents=True)
    assert sorted(r.index for r in response.results) == [0, 1, 2, 3]
    assert {r.document.text for r in response.results} == set(DOCUMENTS)


def test_relevance_scores_are_json_floats_sorted_best_first(base_url):
    body = post(base_url, "/v1/rerank", {"query": QUERY, "documents": DOCUMENTS}).json()
    scores = [item["relevance_score"] for item in body["results"]]
    assert all(isinstance(score, float) for score in scores)
    assert scores == sorted(scores, reverse=True)
    assert body["model"] == "tiny-gemma" and body["id"] and body["meta"]["api_version"]["version"] == "1"


def test_max_tokens_per_doc_is_the_pair_token_budget(http_server):
    _, base_url, grpc_address = http_server
    long_document = "the giant panda eats bamboo " * 100
    body = post(base_url, "/v2/rerank", {"query": QUERY, "documents": [long_document], "max_tokens_per_doc": 32}).json()
    with RerankClient(grpc_address) as grpc_client:
        expected = grpc_client.rerank(QUERY, [long_document], max_length=32).results[0].score
    assert body["results"][0]["relevance_score"] == pytest.approx(expected, abs=1e-9)


@pytest.mark.parametrize(
    "body, status, message",
    [
        ({"query": "", "documents": ["x"]}, 400, "query is empty"),
        ({"query": "q", "documents": []}, 400, "documents is empty"),
        ({"query": "q"}, 400, "documents: Field required"),
        ({"query": "q", "documents": [{"title": "no text"}]}, 400, "documents.0"),
        ({"query": "q", "documents": ["x"], "top_n": 0}, 400, "top_n"),
        ({"query": "q", "documents": ["x"] * 21}, 413, "limit of 20 per request"),
        ({"query": "q", "documents": ["x"], "model": "nope"}, 404, "this server serves tiny-gemma"),
        ({"query": "q", "documents": ["x"], "max_tokens_per_doc": 99999}, 400, "max_length 99999 is outside"),
        ("{not json", 400, "not JSON"),
        ({"query": "q", "documents": ["x" * 70_000]}, 413, "over the limit of 65536"),
    ],
    ids=lambda value: str(value)[:30],
)
def test_bad_requests_get_a_json_error_with_the_right_status(base_url, body, status, message):
    response = post(base_url, "/v1/rerank", body)
    assert response.status_code == status, response.text
    assert message in response.json()["message"]
    assert post(base_url, "/v1/rerank", {"query": QUERY, "documents": ["ok"]}).status_code == 200


def test_the_cohere_sdk_raises_its_own_errors_for_our_statuses(base_url):
    client = cohere.ClientV2(api_key="unused", base_url=base_url)
    with pytest.raises(cohere.errors.NotFoundError):
        client.rerank(model="nope", query=QUERY, documents=["x"])
    with pytest.raises(cohere.errors.BadRequestError):
        client.rerank(model="tiny-gemma", query="", documents=["x"])


def test_a_full_queue_answers_429(http_server):
    scorer, base_url, _ = http_server
    scorer.gate.clear()
    scorer.entered.clear()
    waiting = threading.Thread(target=post, args=(base_url, "/v1/rerank", {"query": QUERY, "documents": ["d"] * 20}))
    waiting.start()
    try:
        assert scorer.entered.wait(30)  # 4 pairs in the model, 16 queued
        response = post(base_url, "/v1/rerank", {"query": QUERY, "documents": ["e"] * 10})
        assert response.status_code == 429
        assert "--max-queued-pairs" in response.json()["message"]
    finally:
        scorer.gate.set()
        waiting.join(30)


def test_health_is_200_when_serving(base_url):
    response = httpx.get(base_url + "/health")
    assert response.status_code == 200 and response.json() == {"status": "serving", "models": ["tiny-gemma"]}


def test_health_is_503_until_the_model_is_loaded(tiny_model_dir, tiny_scorer):
    loaded = threading.Event()
    http_port = free_port()
    settings = Settings(model=str(tiny_model_dir), served_model_name="tiny-gemma", port=0, http_port=http_port)
    with running_server(settings, lambda: loaded.wait(60) and tiny_scorer) as handle:
        base_url = f"http://127.0.0.1:{http_port}"
        assert httpx.get(base_url + "/health").status_code == 503
        response = post(base_url, "/v1/rerank", {"query": QUERY, "documents": ["x"]})
        assert response.status_code == 503 and "still loading" in response.json()["message"]
        loaded.set()
        wait_until_serving(handle.address)
        assert httpx.get(base_url + "/health").status_code == 200
