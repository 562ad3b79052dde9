"""What the gateway forwards and how much: --passthrough over HTTP, and its request limits
(body size, window, rerank timeout) answered with precise 4xx before anything reaches a
backend. A stand-in OpenSearch records what does reach it."""

from __future__ import annotations

import gzip
import json

import httpx
import pytest
from rerank_client.gateway.settings import GatewaySettings
from rerank_client.gateway.testing import fake_opensearch, running_gateway, unused_port

RERANK = {"query_context": {"query_text": "giant panda"}, "document_fields": ["title"]}
MAX_BODY_BYTES = 4096


@pytest.fixture(scope="module")
def fake():
    with fake_opensearch() as fake:
        yield fake


@pytest.fixture
def received(fake):
    fake.requests.clear()
    return fake.requests


def settings(fake, **overrides) -> GatewaySettings:
    return GatewaySettings(
        opensearch_url=fake.url, reranker_address=f"127.0.0.1:{unused_port()}", port=0,
        max_body_bytes=MAX_BODY_BYTES, max_window_size=50, max_rerank_timeout_ms=5000, **overrides,
    )


@pytest.fixture(scope="module")
def gateways(fake):
    """A gateway per passthrough class, by name."""
    with (
        running_gateway(settings(fake)) as search,
        running_gateway(settings(fake, passthrough="read")) as read,
        running_gateway(settings(fake, passthrough="all")) as every,
    ):
        yield {"search": search, "read": read, "all": every}


# --- passthrough --------------------------------------------------------------------------------------


def test_by_default_a_write_gets_403_naming_the_setting_and_reaches_nothing(gateways, received):
    response = httpx.put(f"{gateways['search']}/scratch", json={})
    assert response.status_code == 403
    error = response.json()["error"]
    assert error["type"] == "passthrough_refused"
    assert error["reason"] == (
        "the gateway forwards searches only (--passthrough search); PUT /scratch needs --passthrough all "
        "(RERANK_GATEWAY_PASSTHROUGH)"
    )
    assert received == []


def test_a_read_gets_403_from_search_and_passes_read(gateways, received):
    refused = httpx.get(f"{gateways['search']}/_cat/indices")
    assert refused.status_code == 403
    assert "needs --passthrough read or --passthrough all" in refused.json()["error"]["reason"]
    assert httpx.get(f"{gateways['read']}/_cat/indices").status_code == 200
    assert [(r.method, r.path) for r in received] == [("GET", "/_cat/indices")]


def test_read_still_refuses_writes_and_all_forwards_them(gateways, received):
    refused = httpx.delete(f"{gateways['read']}/articles")
    assert refused.status_code == 403
    assert "searches and reads only (--passthrough read)" in refused.json()["error"]["reason"]
    assert httpx.delete(f"{gateways['all']}/articles").status_code == 200
    assert httpx.post(f"{gateways['all']}/_bulk", content=b'{"index": {}}\n{}\n').status_code == 200
    assert [(r.method, r.path) for r in received] == [("DELETE", "/articles"), ("POST", "/_bulk")]


def test_searches_pass_every_class(gateways, received):
    for url in gateways.values():
        assert httpx.post(f"{url}/articles/_search", json={"size": 2}).status_code == 200
        assert httpx.get(f"{url}/articles/_count").status_code == 200
    assert len(received) == 6


def test_a_dot_segment_is_refused_before_it_can_be_normalized(gateways, received):
    response = httpx.post(f"{gateways['all']}/articles/%2e%2e/_bulk", content=b"{}")
    assert response.status_code == 400 and response.json()["error"]["type"] == "invalid_path"
    assert received == []


# --- body size ---------------------------------------------------------------------------------------------


def test_a_body_over_the_limit_gets_413_naming_the_setting(gateways, received):
    body = {"query": {"match": {"title": "x" * MAX_BODY_BYTES}}}
    response = httpx.post(f"{gateways['search']}/articles/_search", json=body)
    assert response.status_code == 413
    assert response.json()["error"]["type"] == "request_too_large"
    assert f"over the gateway's limit of {MAX_BODY_BYTES} (--max-body-bytes)" in response.json()["error"]["reason"]
    assert received == []


def test_a_chunked_body_without_a_length_is_counted_too(gateways, received):
    chunks = (b" " * 1024 for _ in range(8))
    response = httpx.post(f"{gateways['all']}/_bulk", content=chunks)
    assert response.status_code == 413 and received == []


def test_a_gzip_body_is_read_and_forwarded_plain(gateways, received):
    body = json.dumps({"size": 2, "ext": {"rerank": RERANK}}).encode()
    response = httpx.post(
        f"{gateways['search']}/articles/_search", content=gzip.compress(body),
        headers={"content-type": "application/json", "content-encoding": "gzip"}, timeout=30,
    )
    assert response.status_code == 200 and "rerank" in response.json()["ext"]  # it was read as a reranked search
    plain = httpx.post(
        f"{gateways['search']}/articles/_search", content=gzip.compress(b'{"size": 1}'),
        headers={"content-type": "application/json", "content-encoding": "gzip"},
    )
    assert plain.status_code == 200
    assert received[-1].body == b'{"size": 1}' and "content-encoding" not in received[-1].headers


def test_a_gzip_body_over_the_limit_once_unpacked_gets_413(gateways, received):
    bomb = gzip.compress(b" " * (MAX_BODY_BYTES * 100))
    assert len(bomb) < MAX_BODY_BYTES
    response = httpx.post(f"{gateways['search']}/articles/_search", content=bomb, headers={"content-encoding": "gzip"})
    assert response.status_code == 413 and "once gunzipped" in response.json()["error"]["reason"]
    assert received == []


@pytest.mark.parametrize(
    ("content", "encoding", "status", "words"),
    [
        (b"{}", "br", 415, "not 'br'"),
        (b"not gzip at all", "gzip", 400, "the gzip body cannot be read"),
        (gzip.compress(b"{}")[:-6], "gzip", 400, "ends early"),
        (gzip.compress(b"{}") + b"tail", "gzip", 400, "bytes after its gzip stream"),
    ],
    ids=["brotli", "not gzip", "truncated gzip", "bytes after the gzip"],
)
def test_a_body_the_gateway_cannot_unpack_is_refused(gateways, received, content, encoding, status, words):
    url = f"{gateways['search']}/articles/_search"
    response = httpx.post(url, content=content, headers={"content-encoding": encoding})
    assert response.status_code == status and words in response.json()["error"]["reason"]
    assert received == []


# --- window and timeout ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "params", "words"),
    [
        ({"ext": {"rerank": {**RERANK, "window_size": 51}}}, {}, "would rerank 51 hits"),
        ({"size": 60, "ext": {"rerank": RERANK}}, {}, "would rerank 60 hits"),
        ({"from": 45, "size": 10, "ext": {"rerank": RERANK}}, {}, "would rerank 55 hits"),
        ({"ext": {"rerank": RERANK}}, {"size": "51"}, "would rerank 51 hits"),
    ],
    ids=["window_size", "size", "from + size", "size as a URL parameter"],
)
def test_a_window_over_the_limit_gets_400_naming_the_setting(gateways, received, body, params, words):
    response = httpx.post(f"{gateways['search']}/articles/_search", json=body, params=params)
    assert response.status_code == 400
    assert words in response.json()["error"]["reason"] and "(--max-window-size)" in response.json()["error"]["reason"]
    assert received == []


def test_a_small_window_over_a_large_page_is_within_the_limit(gateways, received):
    body = {"size": 80, "ext": {"rerank": {**RERANK, "window_size": 10}}}
    response = httpx.post(f"{gateways['search']}/articles/_search", json=body, timeout=30)
    assert response.status_code == 200 and len(response.json()["hits"]["hits"]) == 80


@pytest.mark.parametrize(
    ("timeout_ms", "words"),
    [(5001, "over the gateway's limit of 5000 (--max-rerank-timeout-ms)"), (float("inf"), "positive number")],
)
def test_a_rerank_timeout_over_the_limit_gets_400(gateways, received, timeout_ms, words):
    body = json.dumps({"ext": {"rerank": {**RERANK, "timeout_ms": timeout_ms}}}).encode()  # Infinity is JSON to Python
    response = httpx.post(f"{gateways['search']}/articles/_search", content=body)
    assert response.status_code == 400 and words in response.json()["error"]["reason"]
    assert received == []
