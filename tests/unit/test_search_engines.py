"""search_and_rerank with either engine's client, against a stand-in engine that records what
reaches it and a stand-in reranker: elasticsearch-py's clients (sync and asyncio) search with
their compatible-with=8 JSON and the caller's URL parameters and headers, and merge, fail open
and page exactly as opensearch-py's do."""

from __future__ import annotations

import json

import grpc
import pytest
from elasticsearch import AsyncElasticsearch, Elasticsearch
from opensearchpy import OpenSearch
from rerank_client import (
    RerankOptions,
    RerankResponse,
    RerankResult,
    UnavailableError,
    async_search_and_rerank,
    search_and_rerank,
)
from rerank_client import opensearch as legacy_module
from rerank_client.gateway.testing import fake_opensearch
from rerank_client.search import is_elasticsearch_client

QUERY = "giant panda"
BODY = {"query": {"match": {"title": QUERY}}, "size": 4}
OPTIONS = RerankOptions(document_fields=("title",))
# One score per passage, as the stand-in reranker gives them: "document 2" best, then 0, 3, 1.
SCORES = {"document 0": 0.6, "document 1": 0.1, "document 2": 0.9, "document 3": 0.3}
RERANKED_IDS = ["2", "0", "3", "1"]
COMPATIBLE_JSON = "application/vnd.elasticsearch+json; compatible-with=8"


class StubReranker:
    """Scores passages from SCORES, or raises `error`."""

    def __init__(self, error: Exception | None = None) -> None:
        self.error = error

    def rerank(self, query, passages, *, timeout=None, model=""):
        if self.error is not None:
            raise self.error
        ranked = sorted(range(len(passages)), key=lambda i: -SCORES[passages[i]])
        results = [RerankResult(index=i, id=str(i), score=SCORES[passages[i]]) for i in ranked]
        return RerankResponse(results=results, model="stub", pairs=len(passages), tokens=0, cached_pairs=0)


class AsyncStubReranker(StubReranker):
    async def rerank(self, query, passages, *, timeout=None, model=""):
        return StubReranker.rerank(self, query, passages, timeout=timeout, model=model)


@pytest.fixture(scope="module")
def fake_es():
    with fake_opensearch(elasticsearch=True) as fake:
        yield fake


@pytest.fixture(scope="module")
def fake_os():
    with fake_opensearch() as fake:
        yield fake


@pytest.fixture
def es(fake_es):
    fake_es.requests.clear()
    client = Elasticsearch(fake_es.url)
    yield client
    client.close()


def ids(response: dict) -> list[str]:
    return [hit["_id"] for hit in response["hits"]["hits"]]


def test_only_elasticsearch_pys_clients_are_taken_for_elasticsearch(es, fake_os):
    assert is_elasticsearch_client(es)
    assert is_elasticsearch_client(AsyncElasticsearch("http://127.0.0.1:9200"))
    assert not is_elasticsearch_client(OpenSearch(fake_os.url))


def test_an_elasticsearch_client_searches_and_its_answer_is_reranked(es, fake_es):
    response = search_and_rerank(es, "articles", BODY, QUERY, reranker=StubReranker(), options=OPTIONS)

    assert type(response) is dict  # not elasticsearch-py's ApiResponse
    assert ids(response) == RERANKED_IDS
    assert [hit["_score"] for hit in response["hits"]["hits"]] == [0.9, 0.6, 0.3, 0.1]
    assert response["ext"]["rerank"]["status"] == "ok" and response["ext"]["rerank"]["model"] == "stub"
    (request,) = fake_es.requests
    assert (request.method, request.path) == ("POST", "/articles/_search")
    assert request.headers["accept"] == request.headers["content-type"] == COMPATIBLE_JSON
    assert json.loads(request.body) == {**BODY, "from": 0}


def test_url_parameters_and_headers_reach_elasticsearch_as_given(es, fake_es):
    search_and_rerank(
        es, "articles", BODY, QUERY, reranker=StubReranker(), options=OPTIONS,
        params={"routing": "a,b", "preference": "_local", "request_cache": "true"},
        headers={"x-opaque-id": "trace-1"},
    )
    (request,) = fake_es.requests
    assert request.path == "/articles/_search?routing=a,b&preference=_local&request_cache=true"
    assert request.headers["x-opaque-id"] == "trace-1"


@pytest.mark.parametrize(
    ("index", "path"),
    [(None, "/_search"), ("art*", "/art*/_search"), (["a", "b"], "/a,b/_search"), ("a b", "/a%20b/_search")],
)
def test_the_index_expression_becomes_the_path(es, fake_es, index, path):
    search_and_rerank(es, index, BODY, QUERY, reranker=StubReranker(), options=OPTIONS)
    assert fake_es.requests[0].path == path


def test_both_engines_clients_give_the_same_answer(es, fake_os):
    options = RerankOptions(document_fields=("title",), window_size=3, mode="rrf")
    body = {**BODY, "from": 1, "size": 3}
    from_es = search_and_rerank(es, "articles", body, QUERY, reranker=StubReranker(), options=options)
    with OpenSearch(fake_os.url) as opensearch:
        from_opensearch = search_and_rerank(
            opensearch, "articles", body, QUERY, reranker=StubReranker(), options=options
        )
    assert from_es["hits"] == from_opensearch["hits"]
    assert {**from_es["ext"]["rerank"], "took": 0} == {**from_opensearch["ext"]["rerank"], "took": 0}


async def test_the_asyncio_elasticsearch_client_gives_the_same_answer(es, fake_es):
    expected = search_and_rerank(es, "articles", BODY, QUERY, reranker=StubReranker(), options=OPTIONS)
    async with AsyncElasticsearch(fake_es.url) as async_es:
        response = await async_search_and_rerank(
            async_es, "articles", BODY, QUERY, reranker=AsyncStubReranker(), options=OPTIONS
        )
    assert type(response) is dict and response["hits"] == expected["hits"]
    assert fake_es.requests[-1].headers["accept"] == COMPATIBLE_JSON


def test_with_elasticsearch_a_failing_reranker_leaves_its_order_and_says_so(es, caplog):
    unavailable = StubReranker(UnavailableError(grpc.StatusCode.UNAVAILABLE, "connection refused"))
    response = search_and_rerank(es, "articles", BODY, QUERY, reranker=unavailable, options=OPTIONS)
    assert ids(response) == ["0", "1", "2", "3"]
    assert response["ext"]["rerank"]["status"] == "skipped: reranker unavailable"
    assert "reranking skipped" in caplog.text
    with pytest.raises(UnavailableError):
        search_and_rerank(es, "articles", BODY, QUERY, reranker=unavailable, options=OPTIONS, strict=True)


def test_the_opensearch_modules_names_still_work():
    assert legacy_module.search_and_rerank is search_and_rerank
    assert legacy_module.async_search_and_rerank is async_search_and_rerank
