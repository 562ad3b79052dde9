"""rerank-gateway in front of the real Elasticsearch node and a real reranker, used through
elasticsearch-py as an application would: reranked searches, everything else proxied unchanged
(with --passthrough all), Elasticsearch's errors, health, --engine auto finding Elasticsearch,
and failing open when the reranker is slow, broken or stopped mid-test."""

from __future__ import annotations

import json

import pytest
import urllib3
from elasticsearch import Elasticsearch, NotFoundError
from rerank_client import RerankOptions, search_and_rerank

from tests.integration.elasticsearch.search_side_fixtures import (  # noqa: F401 (fixtures)
    FIELDS,
    MATCH,
    QUERY,
    bm25,
    es,
    es_articles,
    es_gateway_of_gated_reranker,
    es_gateway_url,
    ids,
    scored,
)

RERANK = {"query_context": {"query_text": QUERY}, "document_fields": list(FIELDS)}


def reranked_search(size: int = 5, **rerank) -> dict:
    return {"query": MATCH, "size": size, "ext": {"rerank": {**RERANK, **rerank}}}


def search_via(gateway_url: str, index: str, url_parameters: str = "", **rerank) -> tuple[int, dict]:
    url = f"{gateway_url}/{index}/_search{url_parameters}"
    response = urllib3.request("POST", url, json=reranked_search(**rerank), timeout=60)
    return response.status, json.loads(response.data)


@pytest.fixture
def via_gateway(es_gateway_url):
    """elasticsearch-py pointed at the gateway, as an application would use it."""
    client = Elasticsearch(es_gateway_url, request_timeout=60)
    yield client
    client.close()


def test_a_reranked_search_matches_the_library(via_gateway, es, es_articles, client):
    response = via_gateway.search(index=es_articles, body=reranked_search(size=6, mode="rrf", window_size=4))
    options = RerankOptions(document_fields=FIELDS, mode="rrf", window_size=4)
    expected = search_and_rerank(es, es_articles, {"query": MATCH, "size": 6}, QUERY, reranker=client, options=options)
    assert scored(response) == scored(expected)
    assert response["ext"]["rerank"]["status"] == "ok"
    assert response.meta.headers["x-elastic-product"] == "Elasticsearch"


def test_the_query_text_can_come_from_the_query(via_gateway, es_articles):
    body = reranked_search(query_context={"query_text_path": "query.match.body"})
    assert via_gateway.search(index=es_articles, body=body)["ext"]["rerank"]["status"] == "ok"


def test_pages_come_from_url_parameters_too(via_gateway, es_gateway_url, es_articles):
    whole = via_gateway.search(index=es_articles, body=reranked_search(size=6, window_size=6))
    status, second = search_via(es_gateway_url, es_articles, "?from=3&size=3", size=6, window_size=6)
    assert status == 200 and ids(second) == ids(whole)[3:6]


def test_a_search_without_ext_rerank_is_elasticsearchs_own(via_gateway, es, es_articles):
    assert via_gateway.search(index=es_articles, query=MATCH, size=5)["hits"] == es.search(
        index=es_articles, query=MATCH, size=5
    )["hits"]


def test_elasticsearchs_errors_pass_through_with_their_status(via_gateway):
    with pytest.raises(NotFoundError) as raised:
        via_gateway.search(index="no-such-index", body=reranked_search())
    assert raised.value.meta.status == 404 and raised.value.error == "index_not_found_exception"


def test_other_requests_are_proxied_unchanged(via_gateway, es_gateway_url, es, es_articles):
    assert via_gateway.indices.create(index="scratch-search-side", settings={"number_of_replicas": 0})["acknowledged"]
    assert es.indices.exists(index="scratch-search-side")
    assert via_gateway.indices.delete(index="scratch-search-side")["acknowledged"]
    assert not via_gateway.indices.exists(index="scratch-search-side")
    assert via_gateway.count(index=es_articles)["count"] == es.count(index=es_articles)["count"]

    cat = urllib3.request("GET", f"{es_gateway_url}/_cat/indices", fields={"v": "true", "h": "index"})
    assert cat.headers["content-type"].startswith("text/plain")
    assert cat.headers["x-elastic-product"] == "Elasticsearch"
    assert es_articles in cat.data.decode().split()
    missing = urllib3.request("GET", f"{es_gateway_url}/no-such-index/_doc/1")
    assert missing.status == 404 and json.loads(missing.data)["error"]["type"] == "index_not_found_exception"
    assert missing.headers["x-elastic-product"] == "Elasticsearch"  # on errors too: what --engine auto relies on
    # GET / (what --engine auto asks) says so even where it is missing: the integ-test zip has no
    # rest-root module, and answers 405.
    root = urllib3.request("GET", f"{es_gateway_url}/")
    assert root.status in (200, 405) and root.headers["x-elastic-product"] == "Elasticsearch"


def test_health_reports_both_backends(es_gateway_url):
    response = urllib3.request("GET", f"{es_gateway_url}/_rerank/health")
    body = json.loads(response.data)
    assert response.status == 200 and body["status"] == "ok"
    assert body["elasticsearch"]["status"] in ("green", "yellow")
    assert body["elasticsearch"]["cluster_name"] == "rerank-test"
    assert body["reranker"] == {"status": "serving", "default_model": "tiny-gemma", "models": ["tiny-gemma"]}


# --- failing open, behind a gateway that found Elasticsearch itself (--engine auto) --------------------


def test_auto_finds_elasticsearch(es_gateway_of_gated_reranker, es_articles):
    with Elasticsearch(es_gateway_of_gated_reranker, request_timeout=60) as via_auto:
        response = via_auto.search(index=es_articles, body=reranked_search())
    assert response["ext"]["rerank"]["status"] == "ok"
    health = json.loads(urllib3.request("GET", f"{es_gateway_of_gated_reranker}/_rerank/health").data)
    assert health["elasticsearch"]["cluster_name"] == "rerank-test"


def test_a_reranker_over_its_deadline_leaves_bm25_order(es_gateway_of_gated_reranker, gated_reranker, es, es_articles):
    _, scorer = gated_reranker
    scorer.gate.clear()  # the model is busy until the test opens the gate
    status, response = search_via(es_gateway_of_gated_reranker, es_articles, timeout_ms=300)
    scorer.gate.set()
    assert status == 200
    assert response["ext"]["rerank"]["status"] == "skipped: deadline exceeded"
    assert ids(response) == [hit["_id"] for hit in bm25(es, es_articles, 5)]


def test_a_failing_reranker_leaves_bm25_order(es_gateway_of_gated_reranker, gated_reranker, es, es_articles):
    _, scorer = gated_reranker
    scorer.fail = True
    status, response = search_via(es_gateway_of_gated_reranker, es_articles)
    assert status == 200
    assert response["ext"]["rerank"]["status"].startswith("skipped: reranker error")
    assert ids(response) == [hit["_id"] for hit in bm25(es, es_articles, 5)]


def test_a_reranker_stopped_mid_test_leaves_bm25_order(es_gateway_of_gated_reranker, gated_reranker, es, es_articles):
    handle, _ = gated_reranker
    assert search_via(es_gateway_of_gated_reranker, es_articles)[1]["ext"]["rerank"]["status"] == "ok"

    handle.stop()

    status, response = search_via(es_gateway_of_gated_reranker, es_articles)
    assert status == 200
    assert response["ext"]["rerank"]["status"] == "skipped: reranker unavailable"
    assert ids(response) == [hit["_id"] for hit in bm25(es, es_articles, 5)]
    health = json.loads(urllib3.request("GET", f"{es_gateway_of_gated_reranker}/_rerank/health").data)
    assert (health["status"], health["reranker"]["status"]) == ("degraded", "unavailable")
    status, strict = search_via(es_gateway_of_gated_reranker, es_articles, strict=True)
    assert status == 502 and strict["error"]["type"] == "rerank_failed"
