"""rerank-gateway in front of a real OpenSearch and a real reranker: reranked
searches, everything else proxied unchanged (with --passthrough all), health, and
failing open when the reranker is slow, broken or stopped mid-test."""

from __future__ import annotations

import json

import pytest
import urllib3
from opensearchpy import OpenSearch, TransportError
from rerank_client.gateway.settings import GatewaySettings
from rerank_client.gateway.testing import running_gateway
from rerank_client.merge import RerankOptions
from rerank_client.opensearch import search_and_rerank

QUERY = "giant panda bear bamboo china"
RERANK = {"query_context": {"query_text": QUERY}, "document_fields": ["title", "body"]}


def reranked_search(size: int = 5, **rerank) -> dict:
    return {"query": {"match": {"body": QUERY}}, "size": size, "ext": {"rerank": {**RERANK, **rerank}}}


def ids(response: dict) -> list[str]:
    return [hit["_id"] for hit in response["hits"]["hits"]]


@pytest.fixture
def via_gateway(gateway_url):
    """opensearch-py pointed at the gateway, as an application would use it."""
    client = OpenSearch(gateway_url, timeout=60)
    yield client
    client.close()


def test_a_reranked_search_matches_the_library(via_gateway, opensearch, articles, client):
    response = via_gateway.search(index=articles, body=reranked_search(size=6, mode="rrf", window_size=4))
    options = RerankOptions(document_fields=("title", "body"), mode="rrf", window_size=4)
    expected = search_and_rerank(
        opensearch, articles, {"query": {"match": {"body": QUERY}}, "size": 6}, QUERY, reranker=client, options=options
    )
    assert [(h["_id"], h["_score"]) for h in response["hits"]["hits"]] == [
        (h["_id"], h["_score"]) for h in expected["hits"]["hits"]
    ]
    assert response["ext"]["rerank"]["status"] == "ok"


def test_the_query_text_can_come_from_the_query(via_gateway, articles):
    body = reranked_search(query_context={"query_text_path": "query.match.body"})
    assert via_gateway.search(index=articles, body=body)["ext"]["rerank"]["status"] == "ok"


def test_pages_come_from_url_parameters_too(via_gateway, articles):
    whole = via_gateway.search(index=articles, body=reranked_search(size=6, window_size=6))
    body = reranked_search(size=6, window_size=6)
    second = via_gateway.search(index=articles, body=body, params={"from": 3, "size": 3})
    assert ids(second) == ids(whole)[3:6]


def test_a_search_without_ext_rerank_is_opensearchs_own(via_gateway, opensearch, articles):
    body = {"query": {"match": {"body": QUERY}}, "size": 5}
    assert via_gateway.search(index=articles, body=body)["hits"] == opensearch.search(index=articles, body=body)["hits"]


def test_opensearch_errors_pass_through_with_their_status(via_gateway):
    with pytest.raises(TransportError) as raised:
        via_gateway.search(index="no-such-index", body=reranked_search())
    assert raised.value.status_code == 404
    assert raised.value.error == "index_not_found_exception"


@pytest.fixture(scope="module")
def gateway_of_everything(opensearch_url, rerank_address, articles):
    """A gateway with --passthrough all."""
    settings = GatewaySettings(
        opensearch_url=opensearch_url, reranker_address=rerank_address, port=0, passthrough="all"
    )
    with running_gateway(settings) as url:
        yield url


def test_with_passthrough_all_other_requests_are_proxied_unchanged(gateway_of_everything, opensearch, articles):
    gateway_url = gateway_of_everything
    created = urllib3.request("PUT", f"{gateway_url}/scratch", json={"settings": {"number_of_replicas": 0}})
    assert created.status == 200 and opensearch.indices.exists(index="scratch")
    assert urllib3.request("HEAD", f"{gateway_url}/scratch").status == 200
    assert urllib3.request("DELETE", f"{gateway_url}/scratch").status == 200
    assert urllib3.request("HEAD", f"{gateway_url}/scratch").status == 404

    count = urllib3.request("GET", f"{gateway_url}/{articles}/_count")
    assert json.loads(count.data) == opensearch.count(index=articles)
    assert count.headers["content-type"].startswith("application/json")

    cat = urllib3.request("GET", f"{gateway_url}/_cat/indices", fields={"v": "true", "h": "index"})
    assert cat.headers["content-type"].startswith("text/plain")
    assert articles in cat.data.decode().split()

    missing = urllib3.request("GET", f"{gateway_url}/no-such-index/_doc/1")
    assert missing.status == 404 and json.loads(missing.data)["error"]["type"] == "index_not_found_exception"


def test_health_reports_both_backends(gateway_url):
    response = urllib3.request("GET", f"{gateway_url}/_rerank/health")
    body = json.loads(response.data)
    assert response.status == 200 and body["status"] == "ok"
    assert body["opensearch"]["status"] in ("green", "yellow")
    assert body["reranker"] == {"status": "serving", "default_model": "tiny-gemma", "models": ["tiny-gemma"]}


# --- failing open -------------------------------------------------------------------------------


def bm25_ids(opensearch, articles, size: int = 5) -> list[str]:
    return ids(opensearch.search(index=articles, body={"query": {"match": {"body": QUERY}}, "size": size}))


def search_via(gateway_url: str, articles: str, **rerank) -> tuple[int, dict]:
    response = urllib3.request("POST", f"{gateway_url}/{articles}/_search", json=reranked_search(**rerank), timeout=60)
    return response.status, json.loads(response.data)


def test_a_reranker_over_its_deadline_leaves_bm25_order(
    gateway_of_gated_reranker, gated_reranker, opensearch, articles
):
    _, scorer = gated_reranker
    scorer.gate.clear()  # the model is busy until the test opens the gate
    status, response = search_via(gateway_of_gated_reranker, articles, timeout_ms=300)
    scorer.gate.set()
    assert status == 200
    assert response["ext"]["rerank"]["status"] == "skipped: deadline exceeded"
    assert ids(response) == bm25_ids(opensearch, articles)


def test_a_failing_reranker_leaves_bm25_order(gateway_of_gated_reranker, gated_reranker, opensearch, articles):
    _, scorer = gated_reranker
    scorer.fail = True
    status, response = search_via(gateway_of_gated_reranker, articles)
    assert status == 200
    assert response["ext"]["rerank"]["status"].startswith("skipped: reranker error")
    assert ids(response) == bm25_ids(opensearch, articles)


def test_a_reranker_stopped_mid_test_leaves_bm25_order(gateway_of_gated_reranker, gated_reranker, opensearch, articles):
    handle, _ = gated_reranker
    assert search_via(gateway_of_gated_reranker, articles)[1]["ext"]["rerank"]["status"] == "ok"

    handle.stop()

    status, response = search_via(gateway_of_gated_reranker, articles)
    assert status == 200
    assert response["ext"]["rerank"]["status"] == "skipped: reranker unavailable"
    assert ids(response) == bm25_ids(opensearch, articles)
    health = json.loads(urllib3.request("GET", f"{gateway_of_gated_reranker}/_rerank/health").data)
    assert (health["status"], health["reranker"]["status"]) == ("degraded", "unavailable")
    status, strict = search_via(gateway_of_gated_reranker, articles, strict=True)
    assert status == 502 and strict["error"]["type"] == "rerank_failed"
