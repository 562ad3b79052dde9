"""Malformed and hostile calls on the search gateway, sent as raw bytes: each gets a precise
status (never 500 for the caller's mistake) with a reason that says what to fix, or, when only
OpenSearch can judge it, OpenSearch's own answer; and the gateway answers a normal reranked
search after it. Behind the gateway: a stand-in OpenSearch that records what reaches it, and
the real server with the tiny model."""

from __future__ import annotations

import gzip
import json
from collections import Counter
from dataclasses import dataclass, field

import httpx
import pytest
from rerank_client.gateway.settings import GatewaySettings
from rerank_client.gateway.testing import fake_opensearch, running_gateway

from tests.reliability.support import QUERY, record, serving

MAX_BODY_BYTES = 64 * 1024
MAX_WINDOW_SIZE = 20
KEY = "reliability-gateway-key"
JSON = {"content-type": "application/json"}
RERANK = {"query_context": {"query_text": QUERY}, "document_fields": ["title"]}
GOOD = {"query": {"match": {"title": QUERY}}, "size": 3, "ext": {"rerank": RERANK}}


def search(**rerank) -> bytes:
    return json.dumps({**GOOD, "ext": {"rerank": {**RERANK, **rerank}}}).encode()


def search_with(**fields) -> bytes:
    return json.dumps({**GOOD, **fields}).encode()


@dataclass(frozen=True)
class Case:
    name: str
    content: bytes
    status: int
    words: str = ""
    """Words the error's reason (or, for 405, the plain body) must hold."""
    method: str = "POST"
    path: str = "/articles/_search"
    headers: dict = field(default_factory=lambda: dict(JSON))
    keyed: bool = False
    forwarded: bool = False
    """OpenSearch judges it: the request must have reached it."""


CASES = [
    # --- bodies the gateway cannot read as a reranked search: OpenSearch judges them --------------------
    Case("not JSON", b"{query: q", 400, "not JSON", forwarded=True),
    Case("invalid UTF-8", b'{"query": "\xff\xfe", "ext": {"rerank": {}}}', 400, "not JSON", forwarded=True),
    Case("an integer of 5000 digits", search_with()[:-1] + b', "from": 1' + b"0" * 5000 + b"}", 400, "not JSON",
         forwarded=True),
    Case("a JSON array holding ext.rerank is a plain search", json.dumps([GOOD]).encode(), 200, forwarded=True),
    Case("nesting 30000 deep", b"[" * 30_000 + b"]" * 30_000, 400, "nests too deeply"),
    # --- ext.rerank -------------------------------------------------------------------------------------
    Case("ext.rerank is a string", search_with(ext={"rerank": "yes"}), 400, "ext.rerank must be an object"),
    Case("ext.rerank is null", search_with(ext={"rerank": None}), 400, "ext.rerank must be an object"),
    Case("an unknown key", search(windowsize=3), 400, "unknown keys ['windowsize']"),
    Case("no query_context", search_with(ext={"rerank": {"document_fields": ["title"]}}), 400, "query_context must be"),
    Case("both document_fields and a template", search(document_template="{title}"), 400, "not both"),
    Case("document_fields is a string", search(document_fields="title"), 400, "must be a list of field names"),
    Case("a template that names no field", search(document_fields=[], document_template="{}"), 400, "must be named"),
    Case("mode best", search(mode="best"), 400, "mode must be one of replace, combine, rrf"),
    Case("query_weight NaN", search(query_weight=float("nan")), 400, "query_weight must be a finite number"),
    Case("query_text_path into nothing", search(query_context={"query_text_path": "query.term"}), 400,
         "the body has no 'term' there"),
    Case("query_text_path to an object", search(query_context={"query_text_path": "query.match"}), 400,
         "must give a non-empty string"),
    Case("query_text_path with a list index of 5000 digits",
         search_with(query={"bool": {"must": [{"match": {"title": QUERY}}]}},
                     ext={"rerank": {**RERANK, "query_context": {"query_text_path": "query.bool.must." + "9" * 5000}}}),
         400, "the body has no"),
    Case("an empty query_text", search(query_context={"query_text": " "}), 400, "must give a non-empty string"),
    Case("a lone surrogate in query_text", search(query_context={"query_text": "q\ud800"}), 400,
         "is a lone surrogate"),
    Case("strict is a word", search(strict="yes"), 400, "strict must be true or false"),
    Case("model is a number", search(model=3), 400, "model must be a served model's name"),
    # --- limits ---------------------------------------------------------------------------------------
    Case("timeout_ms NaN", search_with()[:-3] + b', "timeout_ms": NaN}}}', 400, "positive number of milliseconds"),
    Case("timeout_ms Infinity", search_with()[:-3] + b', "timeout_ms": 1e400}}}', 400, "positive number"),
    Case("timeout_ms true", search(timeout_ms=True), 400, "positive number"),
    Case("timeout_ms over the limit", search(timeout_ms=30_001), 400, "(--max-rerank-timeout-ms)"),
    Case("window_size over the limit", search(window_size=MAX_WINDOW_SIZE + 1), 400, "(--max-window-size)"),
    Case("window_size of 400 digits", search(window_size=10**400), 400, "(--max-window-size)"),
    Case("from + size over the limit", search_with(**{"from": 15, "size": 10}), 400, "would rerank 25 hits"),
    Case("size is negative", search_with(size=-1), 400, "size must be a non-negative integer"),
    Case("from is a string", search_with(**{"from": "2"}), 400, "from must be a non-negative integer"),
    Case("size URL parameter '²'", search(), 400, "URL parameter size", path="/articles/_search?size=%C2%B2"),
    Case("size URL parameter of 5000 digits", search(), 400, "URL parameter size",
         path="/articles/_search?size=" + "9" * 5000),
    Case("a body over --max-body-bytes", search(query_context={"query_text": "x" * MAX_BODY_BYTES}), 413,
         f"over the gateway's limit of {MAX_BODY_BYTES} (--max-body-bytes)"),
    Case("a gzip bomb", gzip.compress(b" " * MAX_BODY_BYTES * 50), 413, "once gunzipped",
         headers={**JSON, "content-encoding": "gzip"}),
    Case("a body that is not the gzip it says", b"plain text", 400, "the gzip body cannot be read",
         headers={**JSON, "content-encoding": "gzip"}),
    Case("an unknown content-encoding", search(), 415, "not 'zstd'", headers={**JSON, "content-encoding": "zstd"}),
    Case("a gzip body is read", gzip.compress(search()), 200, headers={**JSON, "content-encoding": "gzip"}),
    # --- text -------------------------------------------------------------------------------------------
    Case("escaped NUL characters are text", search(query_context={"query_text": "q\u0000"}), 200),
    Case("emoji, combining marks, right-to-left and zero-width text",
         search(query_context={"query_text": "🐼\u200d\u0301 ما هو الباندا؟ \u202e\ufeff"}), 200),
    Case("a byte-order mark before the JSON", "\ufeff".encode() + search(), 200),
    Case("UTF-16 JSON", json.dumps(GOOD).encode("utf-16"), 200),
    Case("duplicate keys: the last wins", search()[:-1] + b', "ext": {"rerank": ' + json.dumps(RERANK).encode() + b"}}",
         200),
    # --- paths and methods ------------------------------------------------------------------------------
    Case("PUT on _search is a write", search(), 403, "needs --passthrough all", method="PUT"),
    Case("a write through an encoded slash", b"{}", 403, "--passthrough all", method="PUT",
         path="/articles%2F_doc%2F1"),
    # (a literal /../ never leaves the client: httpx, like browsers, resolves it first)
    Case("an encoded dot-dot segment", b"{}", 400, "'..' segment", path="/articles/%2E%2E/_cluster/settings"),
    Case("an encoded dot segment", b"{}", 400, "'.' or '..' segment", path="/%2e/_search"),
    Case("clearing every scroll", b'{"scroll_id": ["_all"]}', 403, "--passthrough all", method="DELETE",
         path="/_search/scroll"),
    Case("TRACE", b"", 405, "Method Not Allowed", method="TRACE"),
    Case("POST on the gateway's health", b"{}", 403, "--passthrough all", path="/_rerank/health"),
    # --- API keys ---------------------------------------------------------------------------------------
    Case("garbage without a key is refused before parsing", b"\xff{", 401, "needs an API key", keyed=True),
    Case("bearer with no key", search(), 401, "needs an API key", keyed=True,
         headers={**JSON, "authorization": "Bearer"}),
    Case("a key that only starts right", search(), 401, "not valid", keyed=True,
         headers={**JSON, "authorization": f"Bearer {KEY[:-1]}"}),
    Case("the key in the URL is no key", search(), 401, "needs an API key", keyed=True,
         path=f"/articles/_search?api_key={KEY}"),
    Case("a refused write needs the key first", b"{}", 401, "needs an API key", keyed=True, method="DELETE",
         path="/articles"),
]
EXPECTED_STATUSES = Counter(case.status for case in CASES)


@pytest.fixture(scope="module")
def opensearch():
    with fake_opensearch() as fake:
        yield fake


@pytest.fixture(scope="module")
def reranker(tiny_model_dir, tiny_scorer):
    with serving(tiny_model_dir, tiny_scorer) as served:
        yield served.address


def gateway_settings(opensearch, reranker, **settings) -> GatewaySettings:
    return GatewaySettings(
        opensearch_url=opensearch.url, reranker_address=reranker, port=0, rerank_timeout_ms=20_000,
        max_body_bytes=MAX_BODY_BYTES, max_window_size=MAX_WINDOW_SIZE, **settings,
    )


@pytest.fixture(scope="module")
def open_gateway(opensearch, reranker):
    with running_gateway(gateway_settings(opensearch, reranker)) as url:
        yield url


@pytest.fixture(scope="module")
def keyed_gateway(opensearch, reranker):
    with running_gateway(gateway_settings(opensearch, reranker, api_keys=(KEY,))) as url:
        yield url


def assert_serves_normally(base_url: str, headers: dict) -> None:
    response = httpx.post(base_url + "/articles/_search", content=search(), headers=headers, timeout=60)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["ext"]["rerank"]["status"] == "ok", answer["ext"]
    assert len(answer["hits"]["hits"]) == 3 and all("_rerank" in hit for hit in answer["hits"]["hits"])


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_a_bad_gateway_call_gets_a_precise_status_and_the_gateway_keeps_serving(
    case, open_gateway, keyed_gateway, opensearch
):
    base_url = keyed_gateway if case.keyed else open_gateway
    opensearch.requests.clear()
    response = httpx.request(case.method, base_url + case.path, content=case.content, headers=case.headers, timeout=60)
    assert response.status_code == case.status, response.text[:500]
    assert bool(opensearch.requests) == (case.forwarded or case.status == 200), opensearch.requests
    if response.status_code == 405:  # Starlette's own answer for a method no route takes
        assert case.words in response.text
    elif response.status_code == 200 and not case.forwarded:
        assert response.json()["ext"]["rerank"]["status"] == "ok"
    elif response.status_code != 200:
        assert case.words in response.json()["error"]["reason"], response.text[:500]
    assert_serves_normally(base_url, {**JSON, "authorization": f"Bearer {KEY}"} if case.keyed else JSON)
    record(
        "bad_input_gateway", kinds=len(CASES) + 1,
        **{f"expected_{status}": n for status, n in sorted(EXPECTED_STATUSES.items())},
    )


def test_an_oversize_chunked_body_without_a_length_is_413(open_gateway, opensearch):
    def chunks():
        for _ in range(8):
            yield b" " * (MAX_BODY_BYTES // 4)

    opensearch.requests.clear()
    response = httpx.post(open_gateway + "/articles/_search", content=chunks(), headers=JSON, timeout=60)
    assert response.status_code == 413 and "(--max-body-bytes)" in response.json()["error"]["reason"]
    assert opensearch.requests == []
    assert_serves_normally(open_gateway, JSON)
