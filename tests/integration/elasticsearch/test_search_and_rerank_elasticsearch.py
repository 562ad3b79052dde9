"""search_and_rerank with elasticsearch-py's clients against the real Elasticsearch node and a
real reranker (tiny model): each mode checked against scores asked of the reranker directly,
the window, pages, URL parameters, the asyncio variant, Elasticsearch's errors, and fail-open."""

from __future__ import annotations

import pytest
from elasticsearch import AsyncElasticsearch, NotFoundError
from rerank_client import AsyncRerankClient, RerankClient, UnavailableError, async_search_and_rerank, search_and_rerank
from rerank_client.gateway.testing import unused_port
from rerank_client.merge import RerankOptions, passage_text

from tests.integration.elasticsearch.search_side_fixtures import (  # noqa: F401 (fixtures)
    FIELDS,
    MATCH,
    QUERY,
    bm25,
    es,
    es_articles,
    ids,
    scored,
)

BODY = {"query": MATCH}


def rerank_scores(client: RerankClient, hits: list[dict], options: RerankOptions) -> list[float]:
    """The reranker's score of each hit, asked directly, in hit order."""
    response = client.rerank(QUERY, [passage_text(hit["_source"], options) for hit in hits])
    return [score for _, score in sorted((r.index, r.score) for r in response.results)]


def test_the_query_matches_enough_documents_for_these_tests(es, es_articles):
    assert len(bm25(es, es_articles, 20)) >= 9


@pytest.mark.parametrize(
    ("mode_options", "combine"),
    [
        ({"mode": "replace"}, lambda bm25, rerank, ranks: rerank),
        ({"mode": "combine"}, lambda bm25, rerank, ranks: bm25 + rerank),
        (
            {"mode": "combine", "score_mode": "multiply", "query_weight": 0.5, "rerank_weight": 2.0},
            lambda bm25, rerank, ranks: 0.5 * bm25 * 2.0 * rerank,
        ),
        ({"mode": "rrf", "rank_constant": 10}, lambda bm25, rerank, ranks: 1 / (10 + ranks[0]) + 1 / (10 + ranks[1])),
    ],
    ids=["replace", "combine-total", "combine-multiply", "rrf"],
)
def test_each_mode_merges_the_rerankers_scores(es, es_articles, client, mode_options, combine):
    options = RerankOptions(document_fields=FIELDS, **mode_options)
    hits = bm25(es, es_articles, 6)
    scores = rerank_scores(client, hits, options)
    rerank_rank = {index: rank for rank, index in enumerate(sorted(range(6), key=lambda i: (-scores[i], i)), 1)}
    new_scores = [combine(hit["_score"], scores[i], (i + 1, rerank_rank[i])) for i, hit in enumerate(hits)]
    ranked = sorted(range(6), key=lambda i: (-new_scores[i], i))

    response = search_and_rerank(es, es_articles, {**BODY, "size": 6}, QUERY, reranker=client, options=options)

    assert type(response) is dict
    assert ids(response) == [hits[i]["_id"] for i in ranked]
    assert [score for _, score in scored(response)] == pytest.approx([new_scores[i] for i in ranked])
    assert response["ext"]["rerank"]["status"] == "ok"
    assert response["ext"]["rerank"]["model"] == "tiny-gemma"
    assert response["ext"]["rerank"]["window_size"] == 6


def test_hits_after_the_window_keep_bm25_order_below_it(es, es_articles, client):
    options = RerankOptions(document_fields=FIELDS, window_size=3)
    bm25_ids = [hit["_id"] for hit in bm25(es, es_articles, 8)]
    response = search_and_rerank(es, es_articles, {**BODY, "size": 8}, QUERY, reranker=client, options=options)
    assert sorted(ids(response)[:3]) == sorted(bm25_ids[:3])
    assert ids(response)[3:] == bm25_ids[3:]
    assert [hit["_rerank"]["reranked"] for hit in response["hits"]["hits"]] == [True] * 3 + [False] * 5
    scores = [hit["_score"] for hit in response["hits"]["hits"]]
    assert scores == sorted(scores, reverse=True)


def test_pages_of_a_fixed_window_add_up_to_the_whole_window(es, es_articles, client):
    options = RerankOptions(document_fields=FIELDS, window_size=9)
    whole = search_and_rerank(es, es_articles, {**BODY, "size": 9}, QUERY, reranker=client, options=options)
    pages = [
        search_and_rerank(es, es_articles, {**BODY, "from": start, "size": 3}, QUERY, reranker=client, options=options)
        for start in (0, 3, 6)
    ]
    assert [hit_id for page in pages for hit_id in ids(page)] == ids(whole)
    assert all(page["hits"]["max_score"] == whole["hits"]["max_score"] for page in pages)


def test_url_parameters_go_with_the_search(es, es_articles, client):
    on_one_shard = es.search(index=es_articles, query=MATCH, size=20, preference="_shards:0")
    options = RerankOptions(document_fields=FIELDS)
    response = search_and_rerank(
        es, es_articles, {**BODY, "size": 20}, QUERY, reranker=client, options=options,
        params={"preference": "_shards:0"},
    )
    assert 0 < len(ids(response)) < len(bm25(es, es_articles, 20))
    assert sorted(ids(response)) == sorted(ids(on_one_shard))


async def test_the_asyncio_variant_gives_the_same_answer(elasticsearch_node, es, es_articles, rerank_address, client):
    options = RerankOptions(document_template="{title}\n{body}", mode="rrf")
    expected = search_and_rerank(es, es_articles, {**BODY, "size": 5}, QUERY, reranker=client, options=options)
    async with AsyncRerankClient(rerank_address, timeout=60) as reranker, AsyncElasticsearch(
        elasticsearch_node.url, request_timeout=60
    ) as async_es:
        response = await async_search_and_rerank(
            async_es, es_articles, {**BODY, "size": 5}, QUERY, reranker=reranker, options=options
        )
    assert scored(response) == scored(expected)


def test_elasticsearchs_errors_are_raised_as_elasticsearch_py_raises_them(es, client):
    options = RerankOptions(document_fields=FIELDS)
    with pytest.raises(NotFoundError) as raised:
        search_and_rerank(es, "no-such-index", {**BODY, "size": 5}, QUERY, reranker=client, options=options)
    assert raised.value.meta.status == 404 and raised.value.error == "index_not_found_exception"


def test_an_unreachable_reranker_leaves_bm25_order_and_says_so(es, es_articles, caplog):
    options = RerankOptions(document_fields=FIELDS)
    expected = bm25(es, es_articles, 5)
    with RerankClient(f"127.0.0.1:{unused_port()}", timeout=5) as unreachable:
        response = search_and_rerank(es, es_articles, {**BODY, "size": 5}, QUERY, reranker=unreachable, options=options)
    assert response["hits"]["hits"] == expected
    assert response["ext"]["rerank"]["status"] == "skipped: reranker unavailable"
    assert "reranking skipped" in caplog.text


def test_strict_raises_instead_of_failing_open(es, es_articles):
    options = RerankOptions(document_fields=FIELDS)
    with RerankClient(f"127.0.0.1:{unused_port()}", timeout=5) as unreachable, pytest.raises(UnavailableError):
        search_and_rerank(
            es, es_articles, {**BODY, "size": 5}, QUERY, reranker=unreachable, options=options, strict=True
        )
