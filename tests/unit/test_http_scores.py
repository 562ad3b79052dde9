"""relevance_score as JSON text that OpenSearch ML Commons reads as a Double.

ML Commons parses a connector's response with json-path on json-smart (permissive mode),
which turns a decimal number of more than 18 characters into a java.math.BigDecimal; its
cohere rerank post-process function then casts relevance_score to Double and _predict
fails with HTTP 500 class_cast_exception. tests/integration/opensearch/test_ml_commons.py
checks the same against a real ML Commons node."""

from __future__ import annotations

import json
import math
import re

from hypothesis import example, given
from hypothesis import strategies as st
from rerank_server.engine import RerankOutcome, ScoredDocument
from rerank_server.http_api import JSON_SMART_DOUBLE_CHARS, cohere_response, json_safe_score
from starlette.responses import JSONResponse


def json_smart_reads_as_double(token: str) -> bool:
    """json-smart's rule (JSONParserBase.extractFloat) for a number with a '.' or an exponent."""
    return len(token) <= JSON_SMART_DOUBLE_CHARS


def test_the_score_that_broke_ml_commons_fits_and_keeps_its_value():
    score = 0.05551750183682877  # 19 characters: a BigDecimal in ML Commons
    assert not json_smart_reads_as_double(repr(score))
    safe = json_safe_score(score)
    assert json_smart_reads_as_double(json.dumps(safe))
    assert abs(safe - score) < 1e-16


@given(st.floats(allow_nan=False, allow_infinity=False))
@example(5.551750183682877e-05)
@example(-12.345678901234567)
@example(-3.3333333333333334e-301)
@example(1.2345678901234567)
def test_every_score_fits_within_a_tiny_fraction_of_itself(score):
    safe = json_safe_score(score)
    assert abs(safe - score) <= 5e-11 * abs(score)
    if -1e300 < score < 1e300 and not -1e16 < score <= -1e15:  # Python writes those with 19 characters
        assert json_smart_reads_as_double(json.dumps(safe))


@example(-9.5e15)
@example(-1.7976931348500002e308)
@given(st.floats(allow_nan=False, allow_infinity=False))
def test_a_score_that_cannot_fit_is_left_as_it_is(score):
    if not json_smart_reads_as_double(json.dumps(json_safe_score(score))):
        assert json_safe_score(score) == score


@given(st.floats(min_value=0.0, max_value=1.0))
@example(0.9999999999999999)
@example(1e-300 / 3)
def test_sigmoid_scores_move_by_less_than_1e_15(score):
    assert abs(json_safe_score(score) - score) < 1e-15


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_a_score_that_fits_already_is_left_exactly_as_it_is(score):
    if len(repr(score)) <= JSON_SMART_DOUBLE_CHARS:
        assert json_safe_score(score) == score and math.copysign(1, json_safe_score(score)) == math.copysign(1, score)


def test_the_http_body_writes_every_relevance_score_as_a_double_for_json_smart():
    scores = [0.05551750183682877, 0.4219246717185061, 0.27077, 5.551750183682877e-05, 0.9999999999999999, 1.0, 0.0]
    outcome = RerankOutcome(
        results=[ScoredDocument(index=i, id=str(i), score=s, text=None) for i, s in enumerate(scores)],
        model="tiny", pairs=len(scores), tokens=10, cached_pairs=0,
    )
    body = JSONResponse(cohere_response(outcome, "1")).body.decode()
    tokens = re.findall(r'"relevance_score":([^,}]+)', body)
    assert len(tokens) == len(scores)
    assert all(json_smart_reads_as_double(token) and re.search(r"[.eE]", token) for token in tokens), tokens
    assert [item["relevance_score"] for item in json.loads(body)["results"]] == [json_safe_score(s) for s in scores]
