"""Which requests the gateway forwards to the engine (--passthrough search|read|all).

    search  (default) searches and the read-only calls a search client makes:
            GET|HEAD /                                 cluster info, ping
            GET|POST [/{index}]/_search, _msearch, _search/template, _msearch/template, _count,
                     _field_caps
            GET      [/{index}]/_mapping, [/{index}]/_mapping/field/{fields}
            GET|POST /_search/scroll[/{id}]            DELETE the same, for the caller's own scroll ids
            POST     /{index}/_search/point_in_time    DELETE /_search/point_in_time (ids in the body)
            POST     /{index}/_pit                     DELETE /_pit (Elasticsearch's point in time)
    read    search, plus every GET and HEAD (documents, _cat, cluster and node state, settings,
            plugin status) except those that change state (_refresh, _flush, k-NN warmup), and
            the read-only POSTs: _mget, _explain, _validate/query, _analyze, _render/template,
            _search_shards, _termvectors, _mtermvectors, _cluster/allocation/explain
    all     every method and path: writes, deletes, index and cluster settings, _plugins/...

Paths are judged segment by segment as OpenSearch reads them (split on '/', then
percent-decoded), so an encoded '/' cannot move a segment. "{index}" is an index
expression (a name, a list, a pattern or _all); names that start with '_' are
OpenSearch's endpoints, not indices. Clearing every scroll (_all) needs `all`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from urllib.parse import unquote

PASSTHROUGH_CLASSES = ("search", "read", "all")

_INDEX = "{index}"
_ID = "{id}"  # one id or a list of them, never _all
_ANY = "{any}"


def _rules(methods: str, *paths: str) -> list[tuple[frozenset[str], tuple[str, ...]]]:
    return [(frozenset(methods.split()), tuple(path.split("/")) if path else ()) for path in paths]


def _with_and_without_index(*paths: str) -> list[str]:
    return [variant for path in paths for variant in (path, f"{_INDEX}/{path}")]


_SEARCH_RULES = [
    *_rules("GET HEAD", ""),
    *_rules(
        "GET POST",
        *_with_and_without_index(
            "_search", "_msearch", "_search/template", "_msearch/template", "_count", "_field_caps"
        ),
        "_search/scroll", f"_search/scroll/{_ID}",
    ),
    *_rules("GET", *_with_and_without_index("_mapping", f"_mapping/field/{_ANY}")),
    *_rules("POST", f"{_INDEX}/_search/point_in_time", f"{_INDEX}/_pit"),
    *_rules("DELETE", "_search/scroll", f"_search/scroll/{_ID}", "_search/point_in_time", "_pit"),
]
_READ_POST_RULES = _rules(
    "POST",
    *_with_and_without_index("_mget", "_validate/query", "_analyze", "_search_shards", "_mtermvectors"),
    f"{_INDEX}/_explain/{_ANY}", f"{_INDEX}/_termvectors", f"{_INDEX}/_termvectors/{_ANY}",
    "_render/template", f"_render/template/{_ANY}", "_cluster/allocation/explain",
)
# GETs that change state: they need `all`.
_STATEFUL_GET_ENDINGS = (("_refresh",), ("_flush",), ("_flush", "synced"))
_STATEFUL_GET_PREFIXES = (("_plugins", "_knn", "warmup"), ("_opendistro", "_knn", "warmup"))


class InvalidPath(ValueError):
    """A path the gateway will not judge: its message says why."""


def path_segments(raw_path: str) -> list[str]:
    """The path's segments as OpenSearch reads them. Raises InvalidPath on empty, '.' and
    '..' segments, which a client never needs and an HTTP library may rewrite on the way."""
    segments = [unquote(segment) for segment in raw_path.split("/")[1:]]
    if segments and segments[-1] == "":  # "/" alone, or a trailing slash
        segments.pop()
    for segment in segments:
        if segment in ("", ".", ".."):
            raise InvalidPath(f"the path {raw_path!r} has an empty, '.' or '..' segment; send it without")
    return segments


def required_class(
    method: str, segments: Sequence[str], query: Iterable[tuple[str, str]], body: bytes
) -> str:
    """The narrowest passthrough class that forwards this request: search, read or all."""
    if _matches(_SEARCH_RULES, method, segments) and not _clears_others_scrolls(method, segments, query, body):
        return "search"
    if method in ("GET", "HEAD") and not _changes_state(segments):
        return "read"
    if _matches(_READ_POST_RULES, method, segments):
        return "read"
    return "all"


def admits(setting: str, required: str) -> bool:
    return PASSTHROUGH_CLASSES.index(required) <= PASSTHROUGH_CLASSES.index(setting)


def _matches(rules, method: str, segments: Sequence[str]) -> bool:
    return any(
        method in methods and len(pattern) == len(segments) and all(map(_segment_matches, pattern, segments))
        for methods, pattern in rules
    )


def _segment_matches(pattern: str, segment: str) -> bool:
    if pattern == _INDEX:
        return segment == "_all" or not segment.startswith("_")
    if pattern == _ID:
        return "_all" not in segment.split(",")
    if pattern == _ANY:
        return True
    return pattern == segment


def _changes_state(segments: Sequence[str]) -> bool:
    return any(tuple(segments[-len(end):]) == end for end in _STATEFUL_GET_ENDINGS) or any(
        tuple(segments[: len(prefix)]) == prefix for prefix in _STATEFUL_GET_PREFIXES
    )


def _clears_others_scrolls(method: str, segments: Sequence[str], query: Iterable[tuple[str, str]], body: bytes) -> bool:
    """A clear-scroll that names _all, or whose body this cannot read (YAML, CBOR...)."""
    if method != "DELETE" or tuple(segments[:2]) != ("_search", "scroll"):
        return False
    ids = [part for name, value in query if name == "scroll_id" for part in value.split(",")]
    if body.strip():
        try:
            named = json.loads(body)["scroll_id"]
        except (ValueError, TypeError, KeyError, RecursionError):
            return True
        named = [named] if isinstance(named, str) else named
        if not isinstance(named, list) or not all(isinstance(item, str) for item in named):
            return True
        ids += named
    return "_all" in ids
