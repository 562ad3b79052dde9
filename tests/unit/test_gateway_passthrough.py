"""The gateway's allow-list (--passthrough search|read|all), judged without a socket: the
narrowest class each request needs, and paths it will not judge."""

from __future__ import annotations

import json

import pytest
from rerank_client.gateway.passthrough import InvalidPath, admits, path_segments, required_class


def needs(method: str, raw_path: str, query: list[tuple[str, str]] | None = None, body: bytes = b"") -> str:
    return required_class(method, path_segments(raw_path), query or [], body)


SEARCH = [
    ("GET", "/"), ("HEAD", "/"),
    ("GET", "/_search"), ("POST", "/articles/_search"), ("POST", "/a,b*/_search"), ("GET", "/_all/_search"),
    ("POST", "/_msearch"), ("GET", "/articles/_msearch"),
    ("POST", "/articles/_search/template"), ("GET", "/_msearch/template"),
    ("GET", "/articles/_count"), ("POST", "/_count"),
    ("GET", "/articles/_mapping"), ("GET", "/_mapping"), ("GET", "/articles/_mapping/field/title,body"),
    ("POST", "/articles/_field_caps"),
    ("POST", "/_search/scroll"), ("GET", "/_search/scroll/DXF1ZXJ5"), ("DELETE", "/_search/scroll/DXF1ZXJ5,FGluY2x1"),
    ("POST", "/articles/_search/point_in_time"), ("DELETE", "/_search/point_in_time"),
    ("POST", "/articles/_search/"),  # a trailing slash, as OpenSearch takes it
    ("POST", "/%E8%AE%BA%E6%96%87/_search"),  # a non-ASCII index, percent-encoded
]
READ = [
    ("GET", "/_cat/indices"), ("HEAD", "/articles"), ("GET", "/articles/_doc/1"), ("GET", "/_cluster/health"),
    ("GET", "/_cluster/settings"), ("GET", "/_nodes/stats"), ("GET", "/_plugins/_ml/models/abc"),
    ("GET", "/_search/point_in_time/_all"),
    ("POST", "/_mget"), ("POST", "/articles/_mget"), ("POST", "/articles/_explain/1"),
    ("POST", "/articles/_validate/query"),
    ("POST", "/_analyze"), ("POST", "/_render/template"), ("POST", "/articles/_termvectors/1"),
    ("POST", "/_cluster/allocation/explain"), ("GET", "/_search/scroll/_all"),
]
ALL = [
    ("PUT", "/scratch"), ("DELETE", "/articles"), ("POST", "/articles/_doc"), ("PUT", "/articles/_doc/1"),
    ("POST", "/_bulk"), ("POST", "/articles/_update_by_query"), ("POST", "/articles/_delete_by_query"),
    ("PUT", "/_cluster/settings"), ("POST", "/_plugins/_ml/models/_register"), ("PUT", "/_search/pipeline/p"),
    ("POST", "/articles/_refresh"), ("GET", "/articles/_refresh"), ("GET", "/_flush"), ("GET", "/_flush/synced"),
    ("GET", "/_plugins/_knn/warmup/articles"), ("POST", "/articles/_close"), ("PUT", "/_scripts/s"),
    ("DELETE", "/_search/scroll/_all"), ("DELETE", "/_search/point_in_time/_all"), ("OPTIONS", "/"),
    ("POST", "/_search/pipeline/p/_search"),  # `_search` is a search only where an index stands before it
    ("POST", "/_cluster/_search"),  # names starting with _ are endpoints, not indices
    ("POST", "/_sql"), ("PATCH", "/articles/_search"), ("PUT", "/articles/_search"),
    ("POST", "/articles%2F_doc/_search/x"),
]


@pytest.mark.parametrize(("method", "path"), SEARCH, ids=[f"{m} {p}" for m, p in SEARCH])
def test_searches_and_a_search_clients_reads_are_search(method, path):
    assert needs(method, path) == "search"


@pytest.mark.parametrize(("method", "path"), READ, ids=[f"{m} {p}" for m, p in READ])
def test_other_reads_need_read(method, path):
    assert needs(method, path) == "read"


@pytest.mark.parametrize(("method", "path"), ALL, ids=[f"{m} {p}" for m, p in ALL])
def test_writes_and_state_changes_need_all(method, path):
    assert needs(method, path) == "all"


def test_an_encoded_slash_stays_inside_its_segment():
    assert path_segments("/a%2F_cluster/_search") == ["a/_cluster", "_search"]
    assert needs("POST", "/_cluster%2Fsettings") == "all"


@pytest.mark.parametrize(
    "path", ["/articles/../_cluster/settings", "/articles/%2e%2e/_bulk", "//_search", "/./_search"]
)
def test_dot_and_empty_segments_are_refused(path):
    with pytest.raises(InvalidPath, match="empty, '.' or '..' segment"):
        path_segments(path)


@pytest.mark.parametrize(
    ("query", "body"),
    [
        ([("scroll_id", "_all")], b""),
        ([("scroll_id", "abc,_all")], b""),
        ([], json.dumps({"scroll_id": "_all"}).encode()),
        ([], json.dumps({"scroll_id": ["abc", "_all"]}).encode()),
        ([], b"scroll_id: _all\n"),  # YAML: the gateway cannot read it, so it does not guess
        ([], b'{"scroll_id": 5}'),
        ([], b"[1]"),
    ],
)
def test_clearing_every_scroll_needs_all(query, body):
    assert needs("DELETE", "/_search/scroll", query, body) == "all"


def test_clearing_ones_own_scrolls_is_search():
    assert needs("DELETE", "/_search/scroll", [], json.dumps({"scroll_id": ["abc", "def"]}).encode()) == "search"
    assert needs("DELETE", "/_search/scroll", [("scroll_id", "abc")]) == "search"


def test_each_class_admits_the_narrower_ones():
    assert admits("search", "search") and not admits("search", "read") and not admits("search", "all")
    assert admits("read", "search") and admits("read", "read") and not admits("read", "all")
    assert admits("all", "search") and admits("all", "read") and admits("all", "all")
