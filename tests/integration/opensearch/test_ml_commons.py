"""OpenSearch's own way, for real: ML Commons 2.19.1 on a node of its own, connected by
docker/opensearch/apply.sh (those very files) to our Cohere-shaped HTTP API, predicts our
scores. neural-search's `rerank` processor is not on Maven Central, so the search pipeline
step is skipped (SKIP_PIPELINE=1); its JSON is checked statically in tests/static."""

from __future__ import annotations

import contextlib

import pytest
from rerank_client import RerankClient
from rerank_server.config import Settings
from rerank_server.http_api import JSON_SMART_DOUBLE_CHARS
from rerank_server.testing.harness import free_port, running_server, wait_until_serving

from tests.integration.opensearch.ml_commons import MlCommonsError, connect_ml_commons, ml_commons_node, ml_predict

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

SERVED_MODEL = "tiny-gemma"
QUERY = "giant panda bear bamboo china"
DOCUMENTS = [
    "The giant panda is a bear species endemic to China.",
    "hi",
    "Search engines rank documents by relevance; a reranker reorders the top hits.",
    "팬더는 중국 남서부 산악지대에 서식하는 포유류의 일종이다.",
    "The quick brown fox jumps over the lazy dog.",
    "OpenSearch BM25 query match title body",
    "Pandas eat bamboo for up to fourteen hours a day.",
    "Yes No",
]


@pytest.fixture(scope="module")
def reranker(tiny_model_dir, tiny_scorer):
    """Our server with its HTTP API on 127.0.0.1: (HTTP URL, gRPC address)."""
    http_port = free_port()
    settings = Settings(model=str(tiny_model_dir), served_model_name=SERVED_MODEL, port=0, http_port=http_port)
    with running_server(settings, lambda: tiny_scorer) as handle:
        wait_until_serving(handle.address)
        yield f"http://127.0.0.1:{http_port}", handle.address


@pytest.fixture(scope="module")
def ml_commons_url():
    """An OpenSearch 2.19.1 node with ML Commons; its failing to start fails the tests."""
    with contextlib.ExitStack() as stack:
        try:
            url = stack.enter_context(ml_commons_node())
        except MlCommonsError as error:
            pytest.fail(str(error), pytrace=False)
        yield url


@pytest.fixture(scope="module")
def model_id(ml_commons_url, reranker):
    http_url, _ = reranker
    try:
        return connect_ml_commons(ml_commons_url, http_url, SERVED_MODEL)
    except MlCommonsError as error:
        pytest.fail(str(error), pytrace=False)


def our_scores(grpc_address: str, query: str, documents: list[str]) -> list[float]:
    with RerankClient(grpc_address, timeout=60) as client:
        results = client.rerank(query, documents).results
    return [score for _, score in sorted((r.index, r.score) for r in results)]


def test_ml_commons_predicts_our_scores_through_the_connector(ml_commons_url, model_id, reranker):
    _, grpc_address = reranker
    expected = our_scores(grpc_address, QUERY, DOCUMENTS)
    # What made ML Commons fail: a score whose full-precision JSON text is longer than
    # json-smart reads as a Double. The test only guards the fix while one is among these.
    assert any(len(repr(score)) > JSON_SMART_DOUBLE_CHARS for score in expected), (
        f"no score of these documents is over {JSON_SMART_DOUBLE_CHARS} characters at full precision "
        f"({expected}): choose other documents, or this test no longer covers the BigDecimal bug"
    )
    try:
        predicted = ml_predict(ml_commons_url, model_id, QUERY, DOCUMENTS)
    except MlCommonsError as error:
        pytest.fail(str(error), pytrace=False)
    assert predicted == pytest.approx(expected, abs=1e-4)


def test_apply_sh_again_reuses_the_model(ml_commons_url, model_id, reranker):
    http_url, _ = reranker
    assert connect_ml_commons(ml_commons_url, http_url, SERVED_MODEL) == model_id
