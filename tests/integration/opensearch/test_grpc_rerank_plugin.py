"""The grpc_rerank OpenSearch plugin, installed from its zip into the real 2.19.6 node, calling
the real gRPC server (tiny model) over an index of 2 shards: the rescorer and the search
pipeline in every mode, windows and pages, fields, non-ASCII text, fail-open (reranker stopped,
late, refusing), fail-closed, TLS with an API key from the keystore, and the target changed at
runtime. Every order and score is checked against the Python client's own rerank of the same
passages (rerank_client.merge builds them, with the same rule the plugin follows)."""

from __future__ import annotations

import json
import shutil
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from rerank_client import RerankClient
from rerank_client.gateway.testing import unused_port
from rerank_client.merge import RerankOptions, merge_scores, paginate, passage_text, Page
from rerank_server.config import Settings
from rerank_server.testing.harness import running_server, wait_until_serving

from tests.data.search_corpus import load_corpus

INDEX = "plugin-articles"
QUERY = "giant panda bear bamboo china"
MATCH = {"match": {"body": QUERY}}
FIELDS = ["title", "body"]
SCORE_TOLERANCE = 1e-4  # OpenSearch keeps scores as float32
# A loaded 2-core CI machine can be slower than the 1 s default: a test that expects reranking
# must not fail open by accident (the timeout tests set their own).
RELAXED_TIMEOUT = "20s"
EXTRA_DOCUMENTS = [
    # Missing and nested fields, lists and non-ASCII text, all matching the query.
    {"id": "extra-no-title", "body": "A giant panda without a title eats bamboo in China."},
    {"id": "extra-nested", "title": "Panda facts", "body": "Giant panda bear facts.", "meta": {"summary": ["bamboo", "china"]}},
    {"id": "extra-korean", "title": "자이언트 판다", "body": "The giant panda (대왕판다) is a bear from China."},
]


# --- helpers ----------------------------------------------------------------------


def search(url: str, body: dict, *, index: str = INDEX, params: str = "") -> tuple[int, dict, dict]:
    """POST _search; returns (HTTP status, headers, JSON body), also for error statuses."""
    request = urllib.request.Request(
        f"{url}/{index}/_search{params}", data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, dict(response.headers), json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), json.loads(error.read())


def ok_search(url: str, body: dict, **kwargs) -> tuple[dict, dict]:
    """A search that must answer 200 with no failed shard; returns (headers, body)."""
    status, headers, answer = search(url, body, **kwargs)
    assert status == 200, answer
    assert answer["_shards"]["failed"] == 0, answer["_shards"]
    return headers, answer


def scored_ids(answer: dict) -> list[tuple[str, float]]:
    return [(hit["_id"], hit["_score"]) for hit in answer["hits"]["hits"]]


def assert_same_ranking(actual: list[tuple[str, float]], expected: list[tuple[str, float]]) -> None:
    assert [doc for doc, _ in actual] == [doc for doc, _ in expected]
    for (doc, score), (_, want) in zip(actual, expected):
        assert score == pytest.approx(want, abs=SCORE_TOLERANCE), doc


def rerank_scores(client: RerankClient, query: str, hits: list[dict], fields=FIELDS) -> list[float]:
    """The Python client's scores of the hits' passages, in hit order."""
    options = RerankOptions(document_fields=tuple(fields))
    response = client.rerank(query, [passage_text(hit["_source"], options) for hit in hits])
    return [score for _, score in sorted((result.index, result.score) for result in response.results)]


def outside(score: float) -> float:
    """The rescorer's score of a hit outside the windows (ShardBand.outside)."""
    return score / (1 + abs(score)) - 1


def bm25(url: str, size: int, *, query: dict = MATCH, shard: int | None = None) -> list[dict]:
    params = f"?preference=_shards:{shard}" if shard is not None else ""
    _, answer = ok_search(url, {"query": query, "size": size}, params=params)
    return answer["hits"]["hits"]


def put_settings(opensearch, **settings) -> None:
    opensearch.cluster.put_settings(body={"persistent": {key.replace("__", "."): value for key, value in settings.items()}})


def stats(url: str) -> dict:
    with urllib.request.urlopen(f"{url}/_plugins/grpc_rerank/stats", timeout=30) as response:
        return json.loads(response.read())["stats"]


def rescore(window: int, **options) -> dict:
    return {"window_size": window, "grpc_rerank": {"query_text": QUERY, "document_fields": FIELDS, **options}}


@contextmanager
def pipeline(opensearch, name: str, response_step: dict, window: int | None = None) -> Iterator[str]:
    request_step = {"grpc_rerank": {} if window is None else {"window_size": window}}
    body = {"request_processors": [request_step], "response_processors": [{"grpc_rerank": response_step}]}
    opensearch.transport.perform_request("PUT", f"/_search/pipeline/{name}", body=body)
    try:
        yield f"?search_pipeline={name}"
    finally:
        opensearch.transport.perform_request("DELETE", f"/_search/pipeline/{name}")


# --- fixtures -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def index(opensearch, rerank_address):
    load_corpus(opensearch, INDEX, shards=2, extra=EXTRA_DOCUMENTS)
    put_settings(opensearch, rerank__grpc__target=rerank_address, rerank__grpc__timeout=RELAXED_TIMEOUT)
    yield INDEX
    put_settings(opensearch, rerank__grpc__target=None, rerank__grpc__timeout=None, rerank__fail_open=None)


@pytest.fixture
def target(opensearch, rerank_address, index):
    """Puts the node back on the session's reranker after a test that moved it."""
    yield
    put_settings(
        opensearch,
        rerank__grpc__target=rerank_address,
        rerank__grpc__timeout=RELAXED_TIMEOUT,
        rerank__fail_open=None,
        rerank__grpc__tls__certificate_authorities=None,
    )


# --- the node and the plugin --------------------------------------------------------------


def test_the_plugin_is_installed_and_the_index_spans_two_shards(opensearch, index):
    plugins = opensearch.cat.plugins(format="json")
    assert any(plugin["component"] == "rerank-grpc" for plugin in plugins), plugins
    shards = opensearch.cat.shards(index=index, format="json")
    assert len(shards) == 2 and all(int(shard["docs"]) > 5 for shard in shards), shards


# --- the rescorer -----------------------------------------------------------------------


def test_rescorer_replace_orders_every_hit_by_the_rerankers_score(opensearch_url, client, index):
    hits = bm25(opensearch_url, 100)
    expected = sorted(zip((hit["_id"] for hit in hits), rerank_scores(client, QUERY, hits)), key=lambda pair: -pair[1])

    _, answer = ok_search(opensearch_url, {"query": MATCH, "size": 100, "rescore": rescore(100)})

    assert_same_ranking(scored_ids(answer), expected)


def test_rescorer_windows_per_shard_stay_above_every_other_hit(opensearch_url, client, index):
    window = 3
    windows = [hit for shard in (0, 1) for hit in bm25(opensearch_url, window, shard=shard)]
    window_ids = {hit["_id"] for hit in windows}
    reranked = sorted(zip((hit["_id"] for hit in windows), rerank_scores(client, QUERY, windows)), key=lambda p: -p[1])
    rest = [(hit["_id"], outside(hit["_score"])) for hit in bm25(opensearch_url, 100) if hit["_id"] not in window_ids]

    _, answer = ok_search(opensearch_url, {"query": MATCH, "size": 100, "rescore": rescore(window)})

    actual = scored_ids(answer)
    assert_same_ranking(actual[: len(reranked)], reranked)
    # Below the windows, every other hit at the fixed map of its BM25 score, in that order.
    below = actual[len(reranked) :]
    assert sorted(doc for doc, _ in below) == sorted(doc for doc, _ in rest)
    assert [score for _, score in below] == sorted((score for _, score in below), reverse=True)
    assert dict(below) == pytest.approx(dict(rest))
    assert min(score for _, score in actual[: len(reranked)]) >= 0 > max(score for _, score in below)


def test_rescorer_combine_weighs_the_search_and_rerank_scores(opensearch_url, client, index):
    hits = bm25(opensearch_url, 100)
    scores = rerank_scores(client, QUERY, hits)
    combined = [0.5 * hit["_score"] + 2.0 * score for hit, score in zip(hits, scores)]
    expected = sorted(zip((hit["_id"] for hit in hits), combined), key=lambda pair: -pair[1])

    body = {"query": MATCH, "size": 100, "rescore": rescore(100, mode="combine", query_weight=0.5, rerank_weight=2.0)}
    _, answer = ok_search(opensearch_url, body)

    assert_same_ranking(scored_ids(answer), expected)


def test_rescorer_pages_through_one_reranked_order(opensearch_url, index):
    _, whole = ok_search(opensearch_url, {"query": MATCH, "size": 12, "rescore": rescore(20)})
    pages = [
        ok_search(opensearch_url, {"query": MATCH, "from": start, "size": 4, "rescore": rescore(20)})[1]
        for start in (0, 4, 8)
    ]
    assert [doc for page in pages for doc, _ in scored_ids(page)] == [doc for doc, _ in scored_ids(whole)]


def test_rescorer_reads_missing_nested_and_non_ascii_fields(opensearch_url, client, index):
    fields = ["title", "meta.summary", "body"]
    query = "자이언트 판다 bamboo"
    hits = bm25(opensearch_url, 100)
    expected = sorted(
        zip((hit["_id"] for hit in hits), rerank_scores(client, query, hits, fields)), key=lambda pair: -pair[1]
    )
    body = {"query": MATCH, "size": 100, "rescore": {"window_size": 100, "grpc_rerank": {"query_text": query, "document_fields": fields}}}

    _, answer = ok_search(opensearch_url, body)

    assert_same_ranking(scored_ids(answer), expected)
    assert {"extra-no-title", "extra-nested", "extra-korean"} <= {doc for doc, _ in scored_ids(answer)}


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"document_fields": FIELDS}, "query_text is required"),
        ({"query_text": QUERY, "document_fields": "title"}, "document_fields must be a non-empty list"),
        ({"query_text": QUERY, "document_fields": FIELDS, "mode": "rrf"}, "mode rrf is not available in the rescorer"),
        ({"query_text": QUERY, "document_fields": FIELDS, "timeout": "soon"}, "timeout must be a time value"),
        ({"query_text": QUERY, "document_fields": FIELDS, "colour": "red"}, "unknown option(s) [colour]"),
    ],
)
def test_rescorer_refuses_bad_options_with_400_and_a_precise_message(opensearch_url, index, options, message):
    status, _, answer = search(opensearch_url, {"query": MATCH, "rescore": {"window_size": 5, "grpc_rerank": options}})

    assert status == 400, answer
    assert message in json.dumps(answer, ensure_ascii=False)


def test_rescorer_refuses_a_window_over_the_nodes_limit(opensearch, opensearch_url, index):
    put_settings(opensearch, rerank__max_window_size=10)
    try:
        status, _, answer = search(opensearch_url, {"query": MATCH, "rescore": rescore(11)})
    finally:
        put_settings(opensearch, rerank__max_window_size=None)
    assert status == 400, answer
    assert "rerank.max_window_size" in json.dumps(answer)


# --- the search pipeline -------------------------------------------------------------------


@pytest.mark.parametrize(
    "step",
    [
        {"mode": "replace"},
        {"mode": "combine", "score_mode": "multiply", "query_weight": 0.5, "rerank_weight": 2.0},
        {"mode": "combine", "normalize": True},
        {"mode": "rrf", "rank_constant": 10},
    ],
    ids=["replace", "combine-multiply", "combine-normalize", "rrf"],
)
@pytest.mark.parametrize(("window", "start", "size"), [(12, 0, 5), (12, 5, 5), (3, 0, 10)], ids=["page-1", "page-2", "window-below-page"])
def test_pipeline_reranks_the_merged_window_once_and_cuts_the_page(opensearch, opensearch_url, client, index, step, window, start, size):
    options = RerankOptions(document_fields=tuple(FIELDS), window_size=window, **step)
    hits = bm25(opensearch_url, max(window, start + size))
    fetched = {"hits": {"hits": hits}}
    expected = paginate(merge_scores(fetched, rerank_scores(client, QUERY, hits[:window]), options), Page(start, size))

    with pipeline(opensearch, "rerank-modes", {"document_fields": FIELDS, **step}, window) as params:
        body = {"query": MATCH, "from": start, "size": size, "ext": {"grpc_rerank": {"query_text": QUERY}}}
        _, answer = ok_search(opensearch_url, body, params=params)

    assert_same_ranking(scored_ids(answer), scored_ids(expected))
    assert answer["ext"]["grpc_rerank"]["status"] == "reranked"
    assert answer["ext"]["grpc_rerank"]["window_size"] == min(window, len(hits))


def test_pipeline_pages_agree_with_one_reranked_window(opensearch, opensearch_url, index):
    with pipeline(opensearch, "rerank-pages", {"document_fields": FIELDS}, window=12) as params:
        def page(start: int, size: int) -> list[str]:
            body = {"query": MATCH, "from": start, "size": size, "ext": {"grpc_rerank": {"query_text": QUERY}}}
            return [doc for doc, _ in scored_ids(ok_search(opensearch_url, body, params=params)[1])]

        whole = page(0, 15)
        assert page(0, 5) + page(5, 5) + page(10, 5) == whole


def test_pipeline_reads_the_query_text_from_the_query_with_query_text_path(opensearch, opensearch_url, client, index):
    hits = bm25(opensearch_url, 8)
    expected = sorted(zip((hit["_id"] for hit in hits), rerank_scores(client, QUERY, hits)), key=lambda p: -p[1])

    with pipeline(opensearch, "rerank-path", {"document_fields": FIELDS, "query_text_path": "match.body.query"}, 8) as params:
        _, answer = ok_search(opensearch_url, {"query": MATCH, "size": 8}, params=params)

    assert_same_ranking(scored_ids(answer), expected)


def test_pipeline_with_non_ascii_query_text_and_missing_fields(opensearch, opensearch_url, client, index):
    query = "대왕판다 giant panda"
    fields = ["title", "meta.summary"]
    hits = bm25(opensearch_url, 40)
    expected = sorted(zip((hit["_id"] for hit in hits), rerank_scores(client, query, hits, fields)), key=lambda p: -p[1])

    with pipeline(opensearch, "rerank-fields", {"document_fields": fields}, 40) as params:
        body = {"query": MATCH, "size": 40, "ext": {"grpc_rerank": {"query_text": query}}}
        _, answer = ok_search(opensearch_url, body, params=params)

    assert_same_ranking(scored_ids(answer), expected)


def test_pipeline_without_query_text_passes_through_marked(opensearch, opensearch_url, index):
    plain = bm25(opensearch_url, 4)
    with pipeline(opensearch, "rerank-no-text", {"document_fields": FIELDS}, 20) as params:
        _, answer = ok_search(opensearch_url, {"query": MATCH, "size": 4}, params=params)

    assert [hit["_id"] for hit in answer["hits"]["hits"]] == [hit["_id"] for hit in plain]
    assert answer["ext"]["grpc_rerank"]["status"] == "skipped"
    assert "query_text" in answer["ext"]["grpc_rerank"]["reason"]


def test_pipeline_without_passage_text_passes_through_marked(opensearch, opensearch_url, index):
    with pipeline(opensearch, "rerank-no-source", {"document_fields": FIELDS}, 20) as params:
        body = {"query": MATCH, "size": 4, "_source": False, "ext": {"grpc_rerank": {"query_text": QUERY}}}
        _, answer = ok_search(opensearch_url, body, params=params)

    assert answer["ext"]["grpc_rerank"]["status"] == "skipped"
    assert "_source" in answer["ext"]["grpc_rerank"]["reason"]
    assert len(answer["hits"]["hits"]) == 4


def test_pipeline_refuses_bad_steps_with_a_precise_message(opensearch, index):
    from opensearchpy.exceptions import RequestError

    with pytest.raises(RequestError) as refused:
        body = {"response_processors": [{"grpc_rerank": {"document_fields": FIELDS, "mode": "best"}}]}
        opensearch.transport.perform_request("PUT", "/_search/pipeline/bad", body=body)
    assert "mode must be one of replace, combine, rrf" in str(refused.value.info)


# --- fail-open and fail-closed ---------------------------------------------------------------


def test_reranker_stopped_fails_open_with_a_marker_a_counter_and_every_hit(opensearch, opensearch_url, index, target):
    put_settings(opensearch, rerank__grpc__target=f"127.0.0.1:{unused_port()}")
    before = stats(opensearch_url)["failed_open"]
    plain = bm25(opensearch_url, 10)

    headers, rescored = ok_search(opensearch_url, {"query": MATCH, "size": 10, "rescore": rescore(5)})
    with pipeline(opensearch, "rerank-down", {"document_fields": FIELDS}, 20) as params:
        _, piped = ok_search(opensearch_url, {"query": MATCH, "size": 10, "ext": {"grpc_rerank": {"query_text": QUERY}}}, params=params)

    # OpenSearch's own order, every hit there; the rescorer maps scores, the pipeline keeps them.
    assert [doc for doc, _ in scored_ids(rescored)] == [hit["_id"] for hit in plain]
    assert [score for _, score in scored_ids(rescored)] == pytest.approx([outside(hit["_score"]) for hit in plain])
    assert scored_ids(piped) == [(hit["_id"], hit["_score"]) for hit in plain]
    assert "grpc_rerank failed open" in headers.get("Warning", ""), headers
    assert piped["ext"]["grpc_rerank"]["status"] == "failed_open"
    assert "UNAVAILABLE" in piped["ext"]["grpc_rerank"]["reason"]
    assert stats(opensearch_url)["failed_open"] >= before + 3  # two shards and the pipeline


def test_a_reranker_slower_than_the_timeout_fails_open_in_bounded_time(opensearch, opensearch_url, index, target, gated_reranker):
    handle, scorer = gated_reranker
    put_settings(opensearch, rerank__grpc__target=handle.address, rerank__grpc__timeout="300ms")
    scorer.gate.clear()  # every forward pass waits: the reranker is late
    try:
        started = time.monotonic()
        headers, rescored = ok_search(opensearch_url, {"query": MATCH, "size": 10, "rescore": rescore(5)})
        with pipeline(opensearch, "rerank-late", {"document_fields": FIELDS}, 20) as params:
            body = {"query": MATCH, "size": 10, "ext": {"grpc_rerank": {"query_text": QUERY}}}
            _, piped = ok_search(opensearch_url, body, params=params)
        elapsed = time.monotonic() - started
    finally:
        scorer.gate.set()

    assert "did not answer within 300ms" in headers.get("Warning", ""), headers
    assert piped["ext"]["grpc_rerank"]["status"] == "failed_open"
    assert len(rescored["hits"]["hits"]) == len(piped["hits"]["hits"]) == 10
    # A functional bound, not a benchmark: nothing waited for the held model (60 s).
    assert elapsed < 30, elapsed


def test_fail_open_false_fails_the_search_naming_the_reranker_and_the_cause(opensearch, opensearch_url, index, target):
    down = f"127.0.0.1:{unused_port()}"
    put_settings(opensearch, rerank__grpc__target=down)

    status, _, answer = search(opensearch_url, {"query": MATCH, "rescore": rescore(5, fail_open=False)})
    assert status == 503, answer
    assert down in json.dumps(answer) and "UNAVAILABLE" in json.dumps(answer)

    put_settings(opensearch, rerank__fail_open=False)  # the node's default, with no per-search option
    with pipeline(opensearch, "rerank-closed", {"document_fields": FIELDS}, 20) as params:
        body = {"query": MATCH, "ext": {"grpc_rerank": {"query_text": QUERY}}}
        status, _, answer = search(opensearch_url, body, params=params)
    assert status == 503, answer
    assert f"the reranker at [{down}]" in json.dumps(answer)


def test_a_refusing_reranker_fails_open_naming_its_answer(opensearch, opensearch_url, index):
    body = {"query": MATCH, "size": 3, "rescore": rescore(3, model="no-such-model")}

    headers, answer = ok_search(opensearch_url, body)

    assert "NOT_FOUND" in headers.get("Warning", ""), headers
    assert len(answer["hits"]["hits"]) == 3


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


def test_tls_and_an_api_key_from_the_keystore(opensearch, opensearch_node, opensearch_url, index, target, pki, tls_keyed_reranker):
    ca = opensearch_node.config_dir / "rerank-ca.pem"
    shutil.copy(pki["ca"], ca)  # world-readable: the node's user reads it
    host_port = tls_keyed_reranker
    put_settings(
        opensearch,
        rerank__grpc__target=host_port,
        rerank__grpc__tls__certificate_authorities="rerank-ca.pem",
    )
    # No key yet: the server refuses, the search fails open.
    headers, _ = ok_search(opensearch_url, {"query": MATCH, "size": 3, "rescore": rescore(3)})
    assert "UNAUTHENTICATED" in headers.get("Warning", ""), headers

    opensearch_node.script("keystore", "rerank.grpc.api_key", stdin=KEY)
    opensearch.transport.perform_request("POST", "/_nodes/reload_secure_settings")
    try:
        headers, answer = ok_search(opensearch_url, {"query": MATCH, "size": 3, "rescore": rescore(3)})
        assert "Warning" not in headers, headers
        assert all(hit["_score"] >= 0 for hit in answer["hits"]["hits"])
    finally:
        opensearch_node.script("keystore", "rerank.grpc.api_key", "--remove")
        opensearch.transport.perform_request("POST", "/_nodes/reload_secure_settings")


def test_a_bad_target_or_certificate_setting_is_refused(opensearch, index, target):
    from opensearchpy.exceptions import RequestError

    with pytest.raises(RequestError) as refused:
        put_settings(opensearch, rerank__grpc__target="not a target")
    assert "rerank.grpc.target must be host:port" in str(refused.value.info)
    with pytest.raises(RequestError) as refused:
        put_settings(opensearch, rerank__grpc__tls__certificate_authorities="missing-ca.pem")
    assert "which the node cannot read" in str(refused.value.info)


def test_changing_the_target_at_runtime_moves_the_calls(opensearch, opensearch_url, index, target, gated_reranker):
    handle, scorer = gated_reranker
    scored_before = len(scorer.scored)
    put_settings(opensearch, rerank__grpc__target=handle.address)

    headers, _ = ok_search(opensearch_url, {"query": MATCH, "size": 3, "rescore": rescore(3)})

    assert "Warning" not in headers, headers
    assert len(scorer.scored) > scored_before  # the new server scored the windows
    with urllib.request.urlopen(f"{opensearch_url}/_plugins/grpc_rerank/stats", timeout=30) as response:
        assert json.loads(response.read())["target"] == handle.address
