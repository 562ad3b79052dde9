"""The grpc_rerank Elasticsearch plugin, installed from its zip into the real 8.19 node, calling
the real gRPC server (tiny model) over an index of 2 shards: the rescorer in both modes, windows
per shard and pages, fields, non-ASCII text, bad options, fail-open (reranker stopped, late,
refusing), fail-closed, TLS with an API key from the Elasticsearch keystore, and the target
changed at runtime. Every order and score is checked against the Python client's own rerank of
the same passages (rerank_client.merge builds them, with the rule the plugin follows)."""

from __future__ import annotations

import json
import shutil
import time

import pytest
from rerank_client import RerankClient
from rerank_client.merge import RerankOptions, passage_text
from rerank_server.config import Settings
from rerank_server.testing.harness import running_server

from tests.integration.elasticsearch.es_node import ElasticsearchNode, unused_port

# The first test's setup builds the plugin and starts the node: minutes on a clean clone.
pytestmark = pytest.mark.timeout(900)

INDEX = "plugin-articles"
QUERY = "giant panda bear bamboo china"
MATCH = {"match": {"body": QUERY}}
FIELDS = ["title", "body"]
SCORE_TOLERANCE = 1e-4  # Elasticsearch keeps scores as float32
# The node's rerank.grpc.timeout in these tests: a busy CI machine must not turn an order test
# into a fail-open one (the default 1s is a production choice); timeout tests set their own.
TIMEOUT = "10s"
EXTRA_DOCUMENTS = [
    # Missing and nested fields, lists and non-ASCII text, all matching the query.
    {"id": "extra-no-title", "body": "A giant panda without a title eats bamboo in China."},
    {"id": "extra-nested", "title": "Panda facts", "body": "Giant panda bear facts.", "meta": {"summary": ["bamboo", "china"]}},
    {"id": "extra-korean", "title": "자이언트 판다", "body": "The giant panda (대왕판다) is a bear from China."},
]


# --- helpers ----------------------------------------------------------------------


def search(node: ElasticsearchNode, body: dict, *, params: str = ""):
    return node.request("POST", f"/{INDEX}/_search{params}", body)


def ok_search(node: ElasticsearchNode, body: dict, *, failed_open: bool = False, **kwargs):
    """A search that must answer 200 with no failed shard, and, unless `failed_open`, no
    fail-open warning (a reranker that failed would otherwise show only as a wrong order)."""
    answer = search(node, body, **kwargs)
    assert answer.status == 200, answer.body
    assert answer.body["_shards"]["failed"] == 0, answer.body["_shards"]
    if not failed_open:
        assert "Warning" not in answer.headers, answer.headers
    return answer


def scored_ids(body: dict) -> list[tuple[str, float]]:
    return [(hit["_id"], hit["_score"]) for hit in body["hits"]["hits"]]


def assert_same_ranking(actual: list[tuple[str, float]], expected: list[tuple[str, float]]) -> None:
    assert [doc for doc, _ in actual] == [doc for doc, _ in expected]
    for (doc, score), (_, want) in zip(actual, expected):
        assert score == pytest.approx(want, abs=SCORE_TOLERANCE), doc


def rerank_scores(client: RerankClient, query: str, hits: list[dict], fields=FIELDS) -> list[float]:
    """The Python client's scores of the hits' passages, in hit order."""
    options = RerankOptions(document_fields=tuple(fields))
    response = client.rerank(query, [passage_text(hit["_source"], options) for hit in hits])
    return [score for _, score in sorted((result.index, result.score) for result in response.results)]


def best_first(ids_and_scores) -> list[tuple[str, float]]:
    return sorted(ids_and_scores, key=lambda pair: -pair[1])


def outside(score: float) -> float:
    """The rescorer's score of a hit outside the windows (ShardBand.outside)."""
    return score / (1 + abs(score)) - 1


def bm25(node: ElasticsearchNode, size: int, *, shard: int | None = None) -> list[dict]:
    params = f"?preference=_shards:{shard}" if shard is not None else ""
    return ok_search(node, {"query": MATCH, "size": size}, params=params).body["hits"]["hits"]


def stats(node: ElasticsearchNode) -> dict:
    return node.ok("GET", "/_grpc_rerank/stats")


def rescore(window: int, **options) -> dict:
    return {"window_size": window, "grpc_rerank": {"query_text": QUERY, "document_fields": FIELDS, **options}}


def warm_up(node: ElasticsearchNode) -> None:
    """A first search on a new target, with time to connect (and to load the plugin's gRPC
    classes, the first time): the tests' own searches then keep the 1 s default timeout."""
    ok_search(node, {"query": MATCH, "size": 3, "rescore": rescore(3, timeout="30s")})


# --- fixtures -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def node(elasticsearch_node, rerank_address):
    """The session's node, the corpus in an index of 2 shards, pointed at the session's reranker."""
    elasticsearch_node.load_corpus(INDEX, shards=2, extra=EXTRA_DOCUMENTS)
    assert elasticsearch_node.put_settings(rerank__grpc__target=rerank_address, rerank__grpc__timeout=TIMEOUT).status == 200
    warm_up(elasticsearch_node)
    yield elasticsearch_node
    elasticsearch_node.put_settings(rerank__grpc__target=None, rerank__grpc__timeout=None, rerank__fail_open=None)


@pytest.fixture
def target(node, rerank_address):
    """Puts the node back on the session's reranker after a test that moved it."""
    yield
    node.put_settings(
        rerank__grpc__target=rerank_address,
        rerank__grpc__timeout=TIMEOUT,
        rerank__fail_open=None,
        rerank__grpc__tls__certificate_authorities=None,
    )


# --- the node and the plugin --------------------------------------------------------------


def test_the_plugin_is_installed_and_the_index_spans_two_shards(node):
    plugins = node.ok("GET", "/_cat/plugins?format=json")
    assert any(plugin["component"] == "rerank-grpc" for plugin in plugins), plugins
    shards = node.ok("GET", f"/_cat/shards/{INDEX}?format=json")
    assert len(shards) == 2 and all(int(shard["docs"]) > 5 for shard in shards), shards


def test_stats_name_the_target_and_count_the_calls(node, rerank_address):
    before = stats(node)
    ok_search(node, {"query": MATCH, "size": 3, "rescore": rescore(3)})
    after = stats(node)

    assert after["target"] == rerank_address and after["fail_open"] is True
    assert after["stats"]["reranked"] == before["stats"]["reranked"] + 2  # one call per shard
    assert after["stats"]["documents"] == before["stats"]["documents"] + 6
    assert set(after["stats"]["failures_by_kind"]) == {"not_configured", "unavailable", "timeout", "refused", "failed"}


# --- the rescorer -----------------------------------------------------------------------


def test_rescorer_replace_orders_every_hit_by_the_rerankers_score(node, client):
    hits = bm25(node, 100)
    expected = best_first(zip((hit["_id"] for hit in hits), rerank_scores(client, QUERY, hits)))

    answer = ok_search(node, {"query": MATCH, "size": 100, "rescore": rescore(100)})

    assert_same_ranking(scored_ids(answer.body), expected)


def test_rescorer_windows_per_shard_stay_above_every_other_hit(node, client):
    window = 3
    windows = [hit for shard in (0, 1) for hit in bm25(node, window, shard=shard)]
    window_ids = {hit["_id"] for hit in windows}
    reranked = best_first(zip((hit["_id"] for hit in windows), rerank_scores(client, QUERY, windows)))
    rest = [(hit["_id"], outside(hit["_score"])) for hit in bm25(node, 100) if hit["_id"] not in window_ids]

    actual = scored_ids(ok_search(node, {"query": MATCH, "size": 100, "rescore": rescore(window)}).body)

    assert_same_ranking(actual[: len(reranked)], reranked)
    # Below the windows, every other hit at the fixed map of its BM25 score, in that order.
    below = actual[len(reranked) :]
    assert sorted(doc for doc, _ in below) == sorted(doc for doc, _ in rest)
    assert [score for _, score in below] == sorted((score for _, score in below), reverse=True)
    assert dict(below) == pytest.approx(dict(rest))
    assert min(score for _, score in actual[: len(reranked)]) >= 0 > max(score for _, score in below)


def test_rescorer_combine_weighs_the_search_and_rerank_scores(node, client):
    hits = bm25(node, 100)
    scores = rerank_scores(client, QUERY, hits)
    expected = best_first(zip((hit["_id"] for hit in hits), (0.5 * hit["_score"] + 2.0 * s for hit, s in zip(hits, scores))))

    body = {"query": MATCH, "size": 100, "rescore": rescore(100, mode="combine", query_weight=0.5, rerank_weight=2.0)}
    answer = ok_search(node, body)

    assert_same_ranking(scored_ids(answer.body), expected)


def test_rescorer_pages_through_one_reranked_order(node):
    whole = ok_search(node, {"query": MATCH, "size": 12, "rescore": rescore(20)}).body
    pages = [ok_search(node, {"query": MATCH, "from": start, "size": 4, "rescore": rescore(20)}).body for start in (0, 4, 8)]

    assert [doc for page in pages for doc, _ in scored_ids(page)] == [doc for doc, _ in scored_ids(whole)]


def test_rescorer_reads_several_missing_nested_and_non_ascii_fields(node, client):
    fields = ["title", "meta.summary", "body"]
    query = "자이언트 판다 bamboo"
    hits = bm25(node, 100)
    expected = best_first(zip((hit["_id"] for hit in hits), rerank_scores(client, query, hits, fields)))
    body = {"query": MATCH, "size": 100, "rescore": {"window_size": 100, "grpc_rerank": {"query_text": query, "document_fields": fields}}}

    answer = ok_search(node, body)

    assert_same_ranking(scored_ids(answer.body), expected)
    assert {"extra-no-title", "extra-nested", "extra-korean"} <= {doc for doc, _ in scored_ids(answer.body)}


def test_rescorer_reads_synthetic_source_as_a_search_returns_it(node, client):
    # No stored _source: the plugin reads it through the shard's source lookup, as the hits show it.
    index = "plugin-synthetic"
    node.request("DELETE", f"/{index}")
    settings = {"number_of_shards": 1, "number_of_replicas": 0, "index.mapping.source.mode": "synthetic"}
    node.ok("PUT", f"/{index}", {"settings": settings, "mappings": {"properties": {"title": {"type": "keyword"}, "body": {"type": "text", "store": True}}}})
    for doc, body in enumerate(["giant panda eats bamboo", "a panda bear in china", "red panda"]):
        node.ok("PUT", f"/{index}/_doc/{doc}?refresh=true", {"body": body, "title": f"panda {doc}"})
    try:
        answer = node.request("POST", f"/{index}/_search", {"query": {"match": {"body": "panda"}}, "rescore": rescore(10)})
    finally:
        node.request("DELETE", f"/{index}")

    assert answer.status == 200 and answer.body["_shards"]["failed"] == 0, answer.body
    hits = answer.body["hits"]["hits"]
    expected = best_first(zip((hit["_id"] for hit in hits), rerank_scores(client, QUERY, hits)))
    assert_same_ranking(scored_ids(answer.body), expected)
    assert all(hit["_source"]["title"] for hit in hits)


def test_explain_says_which_band_a_hit_is_in_with_its_score(node):
    answer = ok_search(node, {"query": MATCH, "size": 20, "explain": True, "rescore": rescore(2)})

    hits = answer.body["hits"]["hits"]
    descriptions = [hit["_explanation"]["description"] for hit in hits]
    assert all("grpc_rerank: the reranked score (replace)" in text for text in descriptions[:4]), descriptions
    assert all("grpc_rerank: not reranked" in text for text in descriptions[4:]), descriptions
    for hit in hits:
        assert hit["_explanation"]["value"] == pytest.approx(hit["_score"], abs=SCORE_TOLERANCE), hit["_id"]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"document_fields": FIELDS}, "query_text is required"),
        ({"query_text": QUERY, "document_fields": "title"}, "document_fields must be a non-empty list"),
        ({"query_text": QUERY, "document_fields": FIELDS, "mode": "rrf"}, "mode rrf is not available in the rescorer"),
        ({"query_text": QUERY, "document_fields": FIELDS, "mode": "combine", "query_weight": -1}, "must be >= 0 in the rescorer"),
        ({"query_text": QUERY, "document_fields": FIELDS, "timeout": "soon"}, "timeout must be a time value"),
        ({"query_text": QUERY, "document_fields": FIELDS, "colour": "red"}, "unknown option(s) [colour]"),
    ],
)
def test_rescorer_refuses_bad_options_with_400_and_a_precise_message(node, options, message):
    answer = search(node, {"query": MATCH, "rescore": {"window_size": 5, "grpc_rerank": options}})

    assert answer.status == 400, answer.body
    assert message in json.dumps(answer.body, ensure_ascii=False)


def test_rescorer_refuses_a_window_over_the_nodes_limit(node):
    node.put_settings(rerank__max_window_size=10)
    try:
        answer = search(node, {"query": MATCH, "rescore": rescore(11)})
    finally:
        node.put_settings(rerank__max_window_size=None)
    assert answer.status == 400, answer.body
    assert "rerank.max_window_size" in json.dumps(answer.body)


# --- fail-open and fail-closed ---------------------------------------------------------------


@pytest.mark.slow
def test_a_stopped_reranker_fails_open_with_a_warning_a_counter_and_every_hit(node, target, gated_reranker):
    handle, _ = gated_reranker
    node.put_settings(rerank__grpc__target=handle.address)
    warm_up(node)
    handle.stop()  # the connection the node holds goes down
    before = stats(node)["stats"]
    plain = bm25(node, 10)

    answer = ok_search(node, {"query": MATCH, "size": 10, "rescore": rescore(5)}, failed_open=True)

    # Elasticsearch's own order, every hit there, at the outside band of its score.
    assert [doc for doc, _ in scored_ids(answer.body)] == [hit["_id"] for hit in plain]
    assert [score for _, score in scored_ids(answer.body)] == pytest.approx([outside(hit["_score"]) for hit in plain])
    assert answer.body["hits"]["total"]["value"] == len(bm25(node, 100))
    assert "grpc_rerank failed open" in answer.warning and "UNAVAILABLE" in answer.warning, answer.headers
    assert handle.address in answer.warning
    after = stats(node)["stats"]
    assert after["failed_open"] == before["failed_open"] + 2  # both shards
    assert after["failures_by_kind"]["unavailable"] == before["failures_by_kind"]["unavailable"] + 2


@pytest.mark.slow
def test_a_reranker_slower_than_the_timeout_fails_open_in_bounded_time(node, target, gated_reranker):
    handle, scorer = gated_reranker
    node.put_settings(rerank__grpc__target=handle.address, rerank__grpc__timeout="300ms")
    scorer.gate.clear()  # every forward pass waits: the reranker is late
    try:
        started = time.monotonic()
        answer = ok_search(node, {"query": MATCH, "size": 10, "rescore": rescore(5)}, failed_open=True)
        elapsed = time.monotonic() - started
    finally:
        scorer.gate.set()

    assert "did not answer within 300ms" in answer.warning, answer.headers
    assert len(answer.body["hits"]["hits"]) == 10
    # A functional bound, not a benchmark: nothing waited for the held model (60 s).
    assert elapsed < 30, elapsed


def test_fail_open_false_fails_the_search_naming_the_reranker_and_the_cause(node, target):
    down = f"127.0.0.1:{unused_port()}"
    node.put_settings(rerank__grpc__target=down)

    answer = search(node, {"query": MATCH, "rescore": rescore(5, fail_open=False)})
    assert answer.status == 503, answer.body
    assert f"the reranker at [{down}]" in json.dumps(answer.body) and "UNAVAILABLE" in json.dumps(answer.body)

    node.put_settings(rerank__fail_open=False)  # the node's default, with no per-search option
    answer = search(node, {"query": MATCH, "rescore": rescore(5)})
    assert answer.status == 503, answer.body
    assert stats(node)["fail_open"] is False


def test_a_refusing_reranker_fails_open_naming_its_answer(node):
    answer = ok_search(node, {"query": MATCH, "size": 3, "rescore": rescore(3, model="no-such-model")}, failed_open=True)

    assert "NOT_FOUND" in answer.warning, answer.headers
    assert len(answer.body["hits"]["hits"]) == 3


def test_a_refusing_reranker_fails_closed_with_400(node):
    answer = search(node, {"query": MATCH, "size": 3, "rescore": rescore(3, model="no-such-model", fail_open=False)})

    assert answer.status == 400, answer.body
    assert "NOT_FOUND" in json.dumps(answer.body)


# --- transport security and runtime settings ---------------------------------------------------


KEY = "plugin-key-1"


@pytest.fixture
def tls_keyed_reranker(tiny_model_dir, tiny_scorer, pki):
    settings = Settings(
        model=str(tiny_model_dir), served_model_name="tiny-gemma", port=0,
        tls_cert=str(pki["cert"]), tls_key=str(pki["key"]), api_keys=(KEY,),
    )
    with running_server(settings, lambda: tiny_scorer) as handle:
        yield handle.address


@pytest.mark.slow
def test_tls_and_an_api_key_from_the_keystore(node, target, pki, tls_keyed_reranker):
    ca = node.config_dir / "rerank-ca.pem"
    shutil.copy(pki["ca"], ca)  # world-readable: the node's user reads it
    assert node.put_settings(
        rerank__grpc__target=tls_keyed_reranker, rerank__grpc__tls__certificate_authorities="rerank-ca.pem"
    ).status == 200
    # No key yet: the server refuses, the search fails open.
    answer = ok_search(node, {"query": MATCH, "size": 3, "rescore": rescore(3)}, failed_open=True)
    assert "UNAUTHENTICATED" in answer.warning, answer.headers

    node.script("keystore", "rerank.grpc.api_key", stdin=KEY)
    node.ok("POST", "/_nodes/reload_secure_settings")
    try:
        answer = ok_search(node, {"query": MATCH, "size": 3, "rescore": rescore(3, timeout="30s")})  # a new TLS connection
        assert all(hit["_score"] >= 0 for hit in answer.body["hits"]["hits"])
    finally:
        node.script("keystore", "rerank.grpc.api_key", "--remove")
        node.ok("POST", "/_nodes/reload_secure_settings")


def test_a_bad_target_or_certificate_setting_is_refused(node, target):
    answer = node.put_settings(rerank__grpc__target="not a target")
    assert answer.status == 400 and "rerank.grpc.target must be host:port" in json.dumps(answer.body), answer.body

    answer = node.put_settings(rerank__grpc__tls__certificate_authorities="missing-ca.pem")
    assert answer.status == 400 and "which the node cannot read" in json.dumps(answer.body), answer.body


def test_changing_the_target_at_runtime_moves_the_calls(node, target, gated_reranker):
    handle, scorer = gated_reranker
    scored_before = len(scorer.scored)
    node.put_settings(rerank__grpc__target=handle.address)

    ok_search(node, {"query": MATCH, "size": 3, "rescore": rescore(3, timeout="30s")})  # a new connection

    assert len(scorer.scored) > scored_before  # the new server scored the windows
    assert stats(node)["target"] == handle.address
