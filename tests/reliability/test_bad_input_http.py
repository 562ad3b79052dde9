"""Malformed and hostile HTTP calls on the Cohere-shaped API, sent as raw bytes:
each gets a precise status (never 500 for the caller's mistake) and a message
that says what to fix, and the server answers a normal call after it."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field

import httpx
import pytest

from tests.reliability.support import QUERY, check_cohere_response, record, serving

MAX_BODY_BYTES = 64 * 1024
KEY = "reliability-key"
JSON = {"content-type": "application/json"}
GOOD = {"query": QUERY, "documents": ["a bear", "a car"]}


def body(**fields) -> bytes:
    return json.dumps({**GOOD, **fields}).encode()


@dataclass(frozen=True)
class Case:
    name: str
    content: bytes
    status: int
    words: str = ""
    """Words the JSON error message (or, for 404/405, the plain body) must hold."""
    method: str = "POST"
    path: str = "/v1/rerank"
    headers: dict = field(default_factory=lambda: dict(JSON))
    keyed: bool = False


CASES = [
    # --- not JSON ---------------------------------------------------------------------------------
    Case("not JSON", b"{query: q", 400, "the body is not JSON"),
    Case("JSON then garbage", body() + b" trailing", 400, "the body is not JSON"),
    Case("invalid UTF-8", b'{"query": "\xff\xfe", "documents": ["x"]}', 400, "UTF-8"),
    Case("raw control character in a string", b'{"query": "q\x00", "documents": ["x"]}', 400, "Invalid control character"),
    Case("nesting 30000 deep", b"[" * 30_000 + b"]" * 30_000, 400, "nests too deeply"),
    Case("integer of 5000 digits", b'{"query": "q", "documents": ["x"], "top_n": 1' + b"0" * 5000 + b"}", 400, "digits"),
    Case("empty body", b"", 400, "body: Input should be a valid dictionary"),
    Case("whitespace body", b" \n\t ", 400, "the body is not JSON"),
    Case("form-encoded body", b"query=q&documents=x", 400, "the body is not JSON",
         headers={"content-type": "application/x-www-form-urlencoded"}),
    # --- wrong shapes and types -----------------------------------------------------------------------
    Case("a JSON array", b"[1, 2]", 400, "body: Input should be a valid dictionary"),
    Case("a JSON string", b'"rerank this"', 400, "body: Input should be a valid dictionary"),
    Case("query is a number", b'{"query": 5, "documents": ["x"]}', 400, "query: Input should be a valid string"),
    Case("query is null", b'{"query": null, "documents": ["x"]}', 400, "query: Input should be a valid string"),
    Case("documents is an object", b'{"query": "q", "documents": {"a": "b"}}', 400, "documents: Input should be a valid list"),
    Case("a null document", b'{"query": "q", "documents": [null]}', 400, "documents.0"),
    Case("a nested list document", b'{"query": "q", "documents": [["x"]]}', 400, "documents.0"),
    Case("a document text that is a number", b'{"query": "q", "documents": [{"text": 5}]}', 400, "documents.0.TextDocument.text"),
    Case("raw_scores is a word", body(raw_scores="maybe"), 400, "raw_scores: Input should be a valid boolean"),
    Case("model is a number", body(model=3), 400, "model: Input should be a valid string"),
    # --- numbers -----------------------------------------------------------------------------------------
    Case("negative top_n", body(top_n=-1), 400, "top_n: Input should be greater than or equal to 1"),
    Case("fractional top_n", body(top_n=1.5), 400, "top_n: Input should be a valid integer"),
    Case("NaN top_n", b'{"query": "q", "documents": ["x"], "top_n": NaN}', 400, "top_n: Input should be a finite number"),
    Case("infinite max_tokens_per_doc", b'{"query": "q", "documents": ["x"], "max_tokens_per_doc": 1e400}', 400,
         "max_tokens_per_doc: Input should be a finite number"),
    Case("max_tokens_per_doc of zero", body(max_tokens_per_doc=0), 400, "max_tokens_per_doc"),
    Case("max_tokens_per_doc past the model", body(max_tokens_per_doc=2**63), 400, "pick a value in that range"),
    Case("top_n of 400 digits keeps every document", body(top_n=10**400), 200),
    # --- text ----------------------------------------------------------------------------------------------
    Case("lone surrogate in the query", b'{"query": "\\ud800", "documents": ["x"]}', 400, "surrogate"),
    Case("lone surrogate in a document", b'{"query": "q", "documents": ["ok", {"text": "\\udfff"}]}', 400, "documents.1"),
    Case("escaped NUL characters are text", b'{"query": "q\\u0000", "documents": ["\\u0000"]}', 200),
    Case("emoji, combining marks, right-to-left and zero-width text",
         body(query="🐼\u200d\u0301 ما هو الباندا؟", documents=["\u202e\ufeffgnirts", "e\u0301" * 50, "\U0010fffd"]), 200),
    Case("a byte-order mark before the JSON", "\ufeff".encode() + body(), 200),
    Case("UTF-16 JSON", json.dumps(GOOD).encode("utf-16"), 200),
    Case("a model name of 10k characters", body(model="m" * 10_000), 404, "this server serves tiny-gemma"),
    # --- HTTP itself ----------------------------------------------------------------------------------------
    Case("text/plain content type: the body is still read as JSON", body(), 200, headers={"content-type": "text/plain"}),
    Case("unknown fields holding nested garbage are ignored", body(zzz={"a": [1, {"b": None}], "c": [[[]]]}), 200),
    Case("duplicate keys: the last wins", b'{"query": "", "query": "q", "documents": ["x"]}', 200),
    Case("GET on a POST route", b"", 405, "Method Not Allowed", method="GET"),
    Case("PUT on a POST route", body(), 405, "Method Not Allowed", method="PUT"),
    Case("POST on /health", b"{}", 405, "Method Not Allowed", path="/health"),
    Case("unknown path", body(), 404, "Not Found", path="/v3/rerank"),
    Case("body over --max-message-bytes", body(documents=["x" * MAX_BODY_BYTES]), 413, "over the limit of 65536"),
    # --- API keys -------------------------------------------------------------------------------------------
    Case("garbage without a key is refused before parsing", b"\xff{", 401, "needs an API key", keyed=True),
    Case("bearer with no key", body(), 401, "needs an API key", keyed=True, headers={**JSON, "authorization": "Bearer"}),
    Case("a key that only starts right", body(), 401, "not valid", keyed=True,
         headers={**JSON, "authorization": f"Bearer {KEY[:-1]}"}),
]


EXPECTED_STATUSES = Counter(case.status for case in CASES)


@pytest.fixture(scope="module")
def open_server(tiny_model_dir, tiny_scorer):
    with serving(tiny_model_dir, tiny_scorer, http=True, max_message_bytes=MAX_BODY_BYTES, max_documents=20) as served:
        yield served


@pytest.fixture(scope="module")
def keyed_server(tiny_model_dir, tiny_scorer):
    with serving(tiny_model_dir, tiny_scorer, http=True, api_keys=(KEY,)) as served:
        yield served


def assert_serves_normally(base_url: str, headers: dict) -> None:
    response = httpx.post(base_url + "/v1/rerank", content=body(), headers=headers, timeout=60)
    assert response.status_code == 200, response.text
    check_cohere_response(response.json(), GOOD["documents"], None, False, False)


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_a_bad_http_call_gets_a_precise_status_and_the_server_keeps_serving(case, open_server, keyed_server):
    base_url = (keyed_server if case.keyed else open_server).http_url
    response = httpx.request(case.method, base_url + case.path, content=case.content, headers=case.headers, timeout=60)
    assert response.status_code == case.status, response.text[:500]
    if response.status_code == 200:
        sent = json.loads(case.content)  # json finds UTF-8, a BOM or UTF-16 by itself, as the server does
        check_cohere_response(response.json(), sent["documents"], sent.get("top_n"), bool(sent.get("return_documents")), False)
    elif response.status_code in (404, 405) and "json" not in response.headers.get("content-type", ""):
        assert case.words in response.text  # Starlette's own answer for a route or method it lacks
        if response.status_code == 405:  # and says which method to use instead
            allowed = set(response.headers["allow"].split(", "))
            assert allowed == ({"GET", "HEAD"} if case.path == "/health" else {"POST"})
    else:
        assert case.words in response.json()["message"]
    assert_serves_normally(base_url, {**JSON, "authorization": f"Bearer {KEY}"} if case.keyed else JSON)
    record("bad_input_http", kinds=len(CASES) + 1, **{f"expected_{status}": n for status, n in sorted(EXPECTED_STATUSES.items())})


def test_an_oversize_chunked_body_without_a_length_is_413(open_server):
    def chunks():
        for _ in range(8):
            yield b" " * (MAX_BODY_BYTES // 4)

    response = httpx.post(open_server.http_url + "/v1/rerank", content=chunks(), headers=JSON, timeout=60)
    assert response.status_code == 413 and "over the limit of 65536" in response.json()["message"]
    assert_serves_normally(open_server.http_url, JSON)
