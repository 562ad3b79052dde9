"""merge.py: passages, every mode with exact numbers, the window, skips, pages."""

from __future__ import annotations

import copy

import pytest
from rerank_client.merge import (
    OUTSIDE_WINDOW_GAP,
    Page,
    RerankOptions,
    mark_skipped,
    merge_scores,
    paginate,
    passage_text,
    plan_page,
    window_passages,
)

FIELDS = RerankOptions(document_fields=("title",))


def response_with_scores(*scores: float | None) -> dict:
    """Hits a, b, c, ... with these _scores, in this order."""
    hits = [
        {"_index": "articles", "_id": chr(ord("a") + i), "_score": score, "_source": {"title": f"title {i}"}}
        for i, score in enumerate(scores)
    ]
    return {
        "took": 3,
        "timed_out": False,
        "hits": {"total": {"value": len(hits), "relation": "eq"}, "max_score": 4.0, "hits": hits},
    }


def ids(response: dict) -> list[str]:
    return [hit["_id"] for hit in response["hits"]["hits"]]


def scores(response: dict) -> list[float | None]:
    return [hit["_score"] for hit in response["hits"]["hits"]]


# Four hits, BM25 scores 4, 3, 2, 1; a window of three whose rerank scores are 0.2, 0.9, 0.5.
BM25 = (4.0, 3.0, 2.0, 1.0)
RERANK = [0.2, 0.9, 0.5]


def merged(**options) -> dict:
    return merge_scores(
        response_with_scores(*BM25), RERANK, RerankOptions(document_fields=("title",), window_size=3, **options)
    )


# --- passages -------------------------------------------------------------------------


def test_fields_are_joined_by_newlines_and_missing_ones_skipped():
    options = RerankOptions(document_fields=("title", "subtitle", "body"))
    assert passage_text({"title": "Pandas", "body": "They eat bamboo."}, options) == "Pandas\nThey eat bamboo."


def test_list_values_are_joined_by_newlines():
    options = RerankOptions(document_fields=("tags",))
    assert passage_text({"tags": ["animals", "china"]}, options) == "animals\nchina"


def test_dotted_fields_reach_into_objects_and_lists_of_objects():
    options = RerankOptions(document_fields=("meta.author", "sections.text"))
    source = {"meta": {"author": "Lee"}, "sections": [{"text": "one"}, {"text": "two"}, {"other": 1}]}
    assert passage_text(source, options) == "Lee\none\ntwo"


def test_a_template_formats_fields_and_a_missing_one_as_empty():
    options = RerankOptions(document_template="Title: {title}\n{meta.author} {missing}")
    assert passage_text({"title": "Pandas", "meta": {"author": "Lee"}}, options) == "Title: Pandas\nLee"


def test_passages_are_cut_to_max_passage_chars():
    options = RerankOptions(document_fields=("body",), max_passage_chars=5)
    assert passage_text({"body": "abcdefgh"}, options) == "abcde"


def test_a_hit_without_source_gives_an_empty_passage():
    assert passage_text(None, FIELDS) == ""


def test_window_passages_are_the_window_hits_in_hit_order():
    options = RerankOptions(document_fields=("title",), window_size=2)
    assert window_passages(response_with_scores(*BM25), options) == ["title 0", "title 1"]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({}, "either document_fields"),
        ({"document_fields": ("a",), "document_template": "{a}"}, "either document_fields"),
        ({"document_fields": "title"}, "must be a list of field names"),
        ({"document_template": "no fields"}, "names no field"),
        ({"document_template": "{}"}, "must be named"),
        ({"document_template": "{title"}, "not a valid format string"),
        ({"document_fields": ("a",), "window_size": 0}, "window_size must be a positive integer"),
        ({"document_fields": ("a",), "mode": "sum"}, "mode must be one of replace, combine, rrf"),
        ({"document_fields": ("a",), "score_mode": "sum"}, "score_mode must be one of total"),
        ({"document_fields": ("a",), "query_weight": float("nan")}, "query_weight must be a finite number"),
        ({"document_fields": ("a",), "rank_constant": 0}, "rank_constant must be a positive integer"),
        ({"document_fields": ("a",), "max_passage_chars": -1}, "max_passage_chars must be a positive integer"),
    ],
)
def test_bad_options_say_what_to_fix(options, message):
    with pytest.raises(ValueError, match=message):
        RerankOptions(**options)


# --- modes ------------------------------------------------------------------------------


def test_replace_takes_the_rerank_scores():
    response = merged(mode="replace")
    assert ids(response)[:3] == ["b", "c", "a"]
    assert scores(response)[:3] == [0.9, 0.5, 0.2]
    assert response["hits"]["max_score"] == 0.9


@pytest.mark.parametrize(
    ("score_mode", "query_weight", "rerank_weight", "expected_ids", "expected_scores"),
    [
        ("total", 1.0, 1.0, ["a", "b", "c"], [4.2, 3.9, 2.5]),
        ("total", 0.5, 2.0, ["b", "a", "c"], [3.3, 2.4, 2.0]),
        ("multiply", 1.0, 1.0, ["b", "c", "a"], [2.7, 1.0, 0.8]),
        ("avg", 1.0, 1.0, ["a", "b", "c"], [2.1, 1.95, 1.25]),
        ("max", 1.0, 1.0, ["a", "b", "c"], [4.0, 3.0, 2.0]),
        ("min", 1.0, 1.0, ["b", "c", "a"], [0.9, 0.5, 0.2]),
    ],
)
def test_combine_follows_rescore_score_modes(score_mode, query_weight, rerank_weight, expected_ids, expected_scores):
    response = merged(mode="combine", score_mode=score_mode, query_weight=query_weight, rerank_weight=rerank_weight)
    assert ids(response)[:3] == expected_ids
    assert scores(response)[:3] == pytest.approx(expected_scores)


def test_combine_can_min_max_normalize_the_original_scores_within_the_window():
    # window BM25 4, 3, 2 -> 1, 0.5, 0; plus rerank 0.2, 0.9, 0.5
    response = merged(mode="combine", normalize=True)
    assert ids(response)[:3] == ["b", "a", "c"]
    assert scores(response)[:3] == pytest.approx([1.4, 1.2, 0.5])


def test_normalizing_equal_scores_gives_one():
    options = RerankOptions(document_fields=("title",), mode="combine", normalize=True)
    response = merge_scores(response_with_scores(2.0, 2.0), [0.1, 0.3], options)
    assert scores(response) == pytest.approx([1.3, 1.1])


def test_rrf_sums_reciprocal_ranks():
    # original ranks a1 b2 c3; rerank ranks b1 c2 a3
    response = merged(mode="rrf")
    assert ids(response)[:3] == ["b", "a", "c"]
    assert scores(response)[:3] == pytest.approx([1 / 62 + 1 / 61, 1 / 61 + 1 / 63, 1 / 63 + 1 / 62])


def test_rrf_rank_constant_is_configurable():
    response = merged(mode="rrf", rank_constant=1)
    assert scores(response)[:3] == pytest.approx([1 / 3 + 1 / 2, 1 / 2 + 1 / 4, 1 / 4 + 1 / 3])


def test_combine_without_scores_says_to_use_another_mode():
    with pytest.raises(ValueError, match="use mode 'replace' or 'rrf'"):
        options = RerankOptions(document_fields=("t",), mode="combine")
        merge_scores(response_with_scores(None, None), [0.1, 0.2], options)


def test_equal_new_scores_keep_the_original_order():
    response = merge_scores(response_with_scores(3.0, 2.0, 1.0), [0.5, 0.7, 0.5], FIELDS)
    assert ids(response) == ["b", "a", "c"]


# --- window, annotations, status ----------------------------------------------------------


def test_hits_after_the_window_stay_below_it_in_their_order_with_shifted_scores():
    response = merged(mode="replace")  # d's BM25 1.0 would outrank the window's 0.2
    assert ids(response) == ["b", "c", "a", "d"]
    assert scores(response)[3] == pytest.approx(0.2 - OUTSIDE_WINDOW_GAP)


def test_hits_after_the_window_keep_their_score_when_already_below():
    response = merged(mode="combine")  # window 4.2, 3.9, 2.5 > 1.0
    assert scores(response)[3] == 1.0


def test_shifting_keeps_the_gaps_between_hits_after_the_window():
    response = merge_scores(
        response_with_scores(4.0, 3.0, 2.5), [0.1], RerankOptions(document_fields=("title",), window_size=1)
    )
    assert ids(response) == ["a", "b", "c"]
    shifted = scores(response)[1:]
    assert shifted[0] == pytest.approx(0.1 - OUTSIDE_WINDOW_GAP)
    assert shifted[0] - shifted[1] == pytest.approx(0.5)


def test_every_hit_keeps_its_original_score_and_rank():
    response = merged(mode="replace")
    annotations = {hit["_id"]: hit["_rerank"] for hit in response["hits"]["hits"]}
    assert annotations == {
        "a": {"original_score": 4.0, "original_rank": 1, "reranked": True},
        "b": {"original_score": 3.0, "original_rank": 2, "reranked": True},
        "c": {"original_score": 2.0, "original_rank": 3, "reranked": True},
        "d": {"original_score": 1.0, "original_rank": 4, "reranked": False},
    }


def test_the_response_says_what_was_done():
    options = RerankOptions(document_fields=("t",), window_size=3)
    response = merge_scores(response_with_scores(*BM25), RERANK, options, model="tiny-gemma", took_ms=12)
    assert response["ext"]["rerank"] == {
        "status": "ok", "mode": "replace", "model": "tiny-gemma", "window_size": 3, "took": 12,
    }
    assert response["took"] == 3 and response["hits"]["total"] == {"value": 4, "relation": "eq"}


def test_merging_leaves_the_input_response_alone():
    response = response_with_scores(*BM25)
    before = copy.deepcopy(response)
    merge_scores(response, RERANK, RerankOptions(document_fields=("title",), window_size=3))
    assert response == before


def test_a_wrong_number_of_scores_is_an_error():
    with pytest.raises(ValueError, match="got 2 rerank scores for a window of 4 hits"):
        merge_scores(response_with_scores(*BM25), [0.1, 0.2], FIELDS)


def test_no_hits_merge_to_no_hits():
    response = merge_scores(response_with_scores(), [], FIELDS)
    assert response["hits"]["hits"] == [] and response["ext"]["rerank"]["window_size"] == 0


def test_a_skipped_rerank_keeps_the_hits_and_says_why():
    response = response_with_scores(*BM25)
    skipped = mark_skipped(response, "deadline exceeded", FIELDS, took_ms=5)
    assert skipped["hits"] == response["hits"]
    assert skipped["ext"]["rerank"]["status"] == "skipped: deadline exceeded"
    assert skipped["ext"]["rerank"]["took"] == 5


# --- pages ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "window_size", "fetched", "page"),
    [
        ({}, None, 10, Page(0, 10)),
        ({"from": 2, "size": 3}, None, 5, Page(2, 3)),
        ({"from": 2, "size": 3}, 10, 10, Page(2, 3)),
        ({"from": 2, "size": 3}, 2, 5, Page(2, 3)),
    ],
)
def test_the_search_fetches_the_window_or_the_page_whichever_is_larger(body, window_size, fetched, page):
    options = RerankOptions(document_fields=("t",), window_size=window_size)
    search_body, planned = plan_page({"query": {"match_all": {}}, **body}, options)
    assert search_body == {"query": {"match_all": {}}, "from": 0, "size": fetched}
    assert planned == page


def test_a_negative_from_is_an_error():
    with pytest.raises(ValueError, match="from must be a non-negative integer"):
        plan_page({"from": -1}, FIELDS)


def test_paginate_slices_the_merged_hits():
    response = merged(mode="replace")
    page = paginate(response, Page(start=1, size=2))
    assert ids(page) == ["c", "a"]
    assert page["hits"]["max_score"] == 0.9  # of the whole result, as OpenSearch reports it


def test_a_lone_surrogate_in_a_hit_becomes_a_question_mark_as_protobuf_java_writes_it():
    options = RerankOptions(document_fields=("title",))

    passage = passage_text({"title": "bad \ud800 text"}, options)

    assert passage == "bad ? text"
    passage.encode("utf-8")  # gRPC can send it
