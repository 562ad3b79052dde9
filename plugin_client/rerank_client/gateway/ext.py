"""Reads a search body's `ext.rerank` into what reranking needs.

    "ext": {"rerank": {
        "query_context": {"query_text": "giant panda"},      # or {"query_text_path": "query.match.body.query"}
        "document_fields": ["title", "body"],                 # or "document_template": "{title}\\n{body}"
        "window_size": 20, "mode": "replace", "timeout_ms": 500
    }}

The shape follows OpenSearch's rerank search processor; query_text_path is a
dotted path into the search body (numbers index lists). The other keys are
RerankOptions fields, plus timeout_ms, model and strict.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from ..merge import RerankOptions

_OPTION_KEYS = tuple(f.name for f in fields(RerankOptions) if f.init)
ALLOWED_KEYS = ("query_context", *_OPTION_KEYS, "timeout_ms", "model", "strict")


class InvalidRerankRequest(ValueError):
    """ext.rerank is malformed; the message says what to fix."""


@dataclass(frozen=True)
class RerankRequest:
    query_text: str
    options: RerankOptions
    timeout_s: float
    model: str
    strict: bool


def split_rerank_ext(
    body: Mapping[str, Any], default_timeout_ms: int, max_timeout_ms: float = math.inf
) -> tuple[dict, RerankRequest]:
    """The body without ext.rerank (OpenSearch rejects unknown ext sections), and
    the rerank request read from it. Raises InvalidRerankRequest."""
    ext = dict(body["ext"])
    spec = ext.pop("rerank")
    search_body = {key: value for key, value in body.items() if key != "ext"}
    if ext:
        search_body["ext"] = ext
    if not isinstance(spec, Mapping):
        raise InvalidRerankRequest(
            'ext.rerank must be an object, like {"query_context": {...}, "document_fields": [...]}'
        )
    unknown = sorted(set(spec) - set(ALLOWED_KEYS))
    if unknown:
        raise InvalidRerankRequest(f"ext.rerank has unknown keys {unknown}; the known ones are {list(ALLOWED_KEYS)}")
    query_text = _query_text(spec.get("query_context"), search_body)
    try:
        options = RerankOptions(**{key: spec[key] for key in _OPTION_KEYS if key in spec})
    except (TypeError, ValueError) as error:
        raise InvalidRerankRequest(f"ext.rerank: {error}") from None
    timeout_ms = spec.get("timeout_ms", default_timeout_ms)
    if (
        isinstance(timeout_ms, bool) or not isinstance(timeout_ms, (int, float))
        or not math.isfinite(timeout_ms) or timeout_ms <= 0
    ):
        raise InvalidRerankRequest(
            f"ext.rerank.timeout_ms must be a positive number of milliseconds, got {timeout_ms!r}"
        )
    if timeout_ms > max_timeout_ms:
        raise InvalidRerankRequest(
            f"ext.rerank.timeout_ms is {timeout_ms}, over the gateway's limit of {max_timeout_ms:g} "
            "(--max-rerank-timeout-ms)"
        )
    model, strict = spec.get("model", ""), spec.get("strict", False)
    if not isinstance(model, str):
        raise InvalidRerankRequest(f"ext.rerank.model must be a served model's name, got {model!r}")
    if not isinstance(strict, bool):
        raise InvalidRerankRequest(f"ext.rerank.strict must be true or false, got {strict!r}")
    return search_body, RerankRequest(query_text, options, timeout_ms / 1000, model, strict)


def _query_text(context: Any, search_body: Mapping[str, Any]) -> str:
    if not isinstance(context, Mapping) or len(context) != 1 or not {"query_text", "query_text_path"} & set(context):
        raise InvalidRerankRequest(
            'ext.rerank.query_context must be {"query_text": "..."} or {"query_text_path": "query.match.title.query"}'
        )
    if "query_text" in context:
        text, source = context["query_text"], "ext.rerank.query_context.query_text"
    else:
        path = context["query_text_path"]
        if not isinstance(path, str) or not path:
            raise InvalidRerankRequest("ext.rerank.query_context.query_text_path must be a dotted path in the body")
        text, source = _resolve(search_body, path), f"query_text_path {path!r}"
    if not isinstance(text, str) or not text.strip():
        raise InvalidRerankRequest(f"{source} must give a non-empty string, got {text!r}")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:  # JSON's "\ud800" escapes make strings UTF-8 cannot carry
        raise InvalidRerankRequest(
            f"{source} is not valid Unicode: {error.object[error.start:error.end]!r} at {error.start} is a lone "
            "surrogate; send text, not halves of UTF-16 pairs"
        ) from None
    return text


def _resolve(body: Any, path: str) -> Any:
    value = body
    for part in path.split("."):
        if isinstance(value, Mapping) and part in value:
            value = value[part]
        elif isinstance(value, list) and is_small_natural(part) and int(part) < len(value):
            value = value[int(part)]
        else:
            raise InvalidRerankRequest(
                f"ext.rerank.query_context.query_text_path {path!r}: the body has no {part!r} there"
            )
    return value


def is_small_natural(text: str) -> bool:
    """ASCII digits, below 10^9: no '²' (a digit to str.isdigit, not to int()), and never
    thousands of digits (int() refuses past 4300)."""
    return text.isascii() and text.isdigit() and len(text) <= 9
