"""search_and_rerank against a real OpenSearch and a real reranker (tiny model):
each mode checked against scores asked of the reranker directly, the window,
pages, the asyncio variant, and fail-open."""

from __future__ import annotations

import pytest
from opensearchpy import AsyncOpenSearch
from rerank_client import AsyncRerankClient, RerankClient, UnavailableError
from rerank_client.gateway.testing import unused_port
from rerank_client.merge import RerankOptions, passage_text
from rerank_client.opensearch import async_search_and_rerank, search_and_rerank

QUERY = "giant panda bear bamboo china"
BODY = {"query": {"match": {"body": QUERY}}}
FIELDS = ("title", "body")


def ids(response: dict) -> list[str]:
    return [hit["_id"] for hit in response["hits"]["hits"]]


def bm25_hits(opensearch, index: str, size: int) -> list[dict]:
    return opensearch.search(index=index, body={**BODY, "size": size})["hits"]["hits"]


def rerank_scores(client: RerankClient, hits: list[dict], options: RerankOptions) -> list[float]:
    """The reranker's score of each hit, asked directly, in hit order."""
    response = client.rerank(QUERY, [passage_text(hit["_source"], options) for hit in hits])
    return [score for _, score in sorted((r.index, r.score) for r in response.results)]


def expected_order(hits: list[dict], new_scores: list[float]) -> list[tuple[str, float]]:
    ranked = sorted(range(len(hits)), key=lambda i: (-new_scores[i], i))
    return [(hits[i]["_id"], new_scores[i]) for i in ranked]


def merged_order(response: dict) -> list[tuple[str, float]]:
    return [(hit["_id"], hit["_score"]) for hit in response["hits"]["hits"]]


def test_the_query_matches_enough_documents_for_these_tests(opensearch, articles):
    assert len(bm25_hits(opensearch, articles, 20)) >= 9


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
def test_each_mode_merges_the_rerankers_scores(opensearch, articles, client, mode_options, combine):
    options = RerankOptions(document_fields=FIELDS, **mode_options)
    hits = bm25_hits(opensearch, articles, 6)
    scores = rerank_scores(client, hits, options)
    rerank_rank = {index: rank for rank, index in enumerate(sorted(range(6), key=lambda i: (-scores[i], i)), 1)}
    new_scores = [combine(hit["_score"], scores[i], (i + 1, rerank_rank[i])) for i, hit in enumerate(hits)]

    response = search_and_rerank(opensearch, articles, {**BODY, "size": 6}, QUERY, reranker=client, options=options)

    expected = expected_order(hits, new_scores)
    assert [hit_id for hit_id, _ in merged_order(response)] == [hit_id for hit_id, _ in expected]
    assert [score for _, score in merged_order(response)] == pytest.approx([score for _, score in expected])
    assert response["ext"]["rerank"]["status"] == "ok"
    assert response["ext"]["rerank"]["model"] == "tiny-gemma"
    assert response["ext"]["rerank"]["window_size"] == 6


def test_hits_after_the_window_keep_bm25_order_below_it(opensearch, articles, client):
    options = RerankOptions(document_fields=FIELDS, window_size=3)
    bm25_ids = [hit["_id"] for hit in bm25_hits(opensearch, articles, 8)]
    response = search_and_rerank(opensearch, articles, {**BODY, "size": 8}, QUERY, reranker=client, options=options)
    assert sorted(ids(response)[:3]) == sorted(bm25_ids[:3])
    assert ids(response)[3:] == bm25_ids[3:]
    assert [hit["_rerank"]["reranked"] for hit in response["hits"]["hits"]] == [True] * 3 + [False] * 5
    scores = [hit["_score"] for hit in response["hits"]["hits"]]
    assert scores == sorted(scores, reverse=True)


def test_pages_of_a_fixed_window_add_up_to_the_whole_window(opensearch, articles, client):
    options = RerankOptions(document_fields=FIELDS, window_size=9)
    whole = search_and_rerank(opensearch, articles, {**BODY, "size": 9}, QUERY, reranker=client, options=options)
    pages = [
        search_and_rerank(
            opensearch, articles, {**BODY, "from": start, "size": 3}, QUERY, reranker=client, options=options
        )
        for start in (0, 3, 6)
    ]
    assert [hit_id for page in pages for hit_id in ids(page)] == ids(whole)
    assert all(page["hits"]["max_score"] == whole["hits"]["max_score"] for page in pages)


@pytest.mark.asyncio  # explicit, so it runs under asyncio_mode strict too
async def test_the_asyncio_variant_gives_the_same_answer(opensearch_url, opensearch, articles, rerank_address, client):
    options = RerankOptions(document_template="{title}\n{body}", mode="rrf")
    expected = search_and_rerank(opensearch, articles, {**BODY, "size": 5}, QUERY, reranker=client, options=options)
    async with AsyncRerankClient(rerank_address, timeout=60) as reranker:
        async_client = AsyncOpenSearch(opensearch_url)
        try:
            response = await async_search_and_rerank(
                async_client, articles, {**BODY, "size": 5}, QUERY, reranker=reranker, options=options
            )
        finally:
            await async_client.close()
    assert merged_order(response) == merged_order(expected)


def test_an_unreachable_reranker_leaves_bm25_order_and_says_so(opensearch, articles, caplog):
    options = RerankOptions(document_fields=FIELDS)
    bm25 = bm25_hits(opensearch, articles, 5)
    with RerankClient(f"127.0.0.1:{unused_port()}", timeout=5) as unreachable:
        response = search_and_rerank(
            opensearch, articles, {**BODY, "size": 5}, QUERY, reranker=unreachable, options=options
        )
    assert response["hits"]["hits"] == bm25
    assert response["ext"]["rerank"]["status"] == "skipped: reranker unavailable"
    assert "reranking skipped" in caplog.text


def test_strict_raises_instead_of_failing_open(opensearch, articles):
    options = RerankOptions(document_fields=FIELDS)
    with RerankClient(f"127.0.0.1:{unused_port()}", timeout=5) as unreachable, pytest.raises(UnavailableError):
        search_and_rerank(
            opensearch, articles, {**BODY, "size": 5}, QUERY, reranker=unreachable, options=options, strict=True
        )
