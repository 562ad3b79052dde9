"""Pure functions that rerank an OpenSearch search response: no I/O.

The caller searches, turns the top hits into passages with `window_passages`,
asks a reranker for one score per passage, and folds the scores back with
`merge_scores` (or marks the response with `mark_skipped` when the reranker
failed). `plan_page` and `paginate` wrap that for from/size pagination.

Modes (`RerankOptions.mode`):

- ``replace``: ``_score`` becomes the rerank score, as OpenSearch's rerank
  search processor does.
- ``combine``: OpenSearch rescore semantics, with s the original score and r
  the rerank score: total ``qw*s + rw*r``, multiply ``qw*s * rw*r``, avg
  ``(qw*s + rw*r) / 2``, max ``max(qw*s, rw*r)``, min ``min(qw*s, rw*r)``.
  BM25 scores are unbounded, so ``normalize=True`` first min-max scales s to
  [0, 1] within the window (all equal scores scale to 1).
- ``rrf``: reciprocal rank fusion, ``1/(k + original rank) + 1/(k + rerank rank)``,
  ranks from 1, k = ``rank_constant``.

Window: only the first ``window_size`` hits are reranked (all returned hits by
default). They are sorted by their new score, ties keeping the original order.
The hits after the window keep their order below it, always: OpenSearch's
rescorer sorts everything by score, so a window hit whose new score dropped can
sink below hits that were never rescored. Here, when the best hit after the
window scores at least as high as the worst window hit, every hit after the
window is shifted down by one constant so that the best of them sits
``OUTSIDE_WINDOW_GAP`` below the worst window hit; their relative gaps and
order are unchanged.

Every hit of a merged response carries ``_rerank``: its ``original_score``,
its ``original_rank`` (from 1) and whether it was ``reranked``. The response
carries ``ext.rerank`` (the same place OpenSearch search extensions answer in):
``status`` ("ok" or "skipped: <why>"), ``mode``, ``model``, ``window_size``
(hits reranked) and ``took`` (milliseconds spent reranking).
"""

from __future__ import annotations

import json
import math
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

MODES = ("replace", "combine", "rrf")
SCORE_MODES = ("total", "multiply", "avg", "max", "min")
DEFAULT_MAX_PASSAGE_CHARS = 2000
DEFAULT_RANK_CONSTANT = 60
DEFAULT_PAGE_SIZE = 10  # OpenSearch's default search size
OUTSIDE_WINDOW_GAP = 1e-3

_COMBINE = {
    "total": lambda original, rerank: original + rerank,
    "multiply": lambda original, rerank: original * rerank,
    "avg": lambda original, rerank: (original + rerank) / 2,
    "max": max,
    "min": min,
}


@dataclass(frozen=True)
class RerankOptions:
    """How to build passages from hits and how to merge the rerank scores.

    A passage is either the `document_fields` of `_source` joined by newlines
    (dotted names reach into objects; missing fields are skipped; list values
    are joined by newlines) or `document_template` formatted with those values
    (e.g. "{title}\\n{body}"; a missing field formats as ""). Passages are cut to
    `max_passage_chars` characters.
    """

    document_fields: tuple[str, ...] = ()
    document_template: str | None = None
    max_passage_chars: int = DEFAULT_MAX_PASSAGE_CHARS
    window_size: int | None = None
    """Hits to rerank from the top; None reranks every returned hit."""
    mode: str = "replace"
    query_weight: float = 1.0
    rerank_weight: float = 1.0
    score_mode: str = "total"
    normalize: bool = False
    """combine: min-max scale the original scores to [0, 1] within the window first."""
    rank_constant: int = DEFAULT_RANK_CONSTANT
    template_fields: tuple[str, ...] = field(init=False, repr=False, default=())

    def __post_init__(self) -> None:
        if isinstance(self.document_fields, str):
            raise ValueError(f"document_fields must be a list of field names, got the string {self.document_fields!r}")
        object.__setattr__(self, "document_fields", tuple(self.document_fields))
        problems = _option_problems(self)
        if problems:
            raise ValueError("; ".join(problems))
        if self.document_template is not None:
            names = tuple(name for _, name, _, _ in string.Formatter().parse(self.document_template) if name)
            object.__setattr__(self, "template_fields", names)


def _option_problems(options: RerankOptions) -> list[str]:
    problems = []
    if bool(options.document_fields) == (options.document_template is not None):
        problems.append("give either document_fields (a list of _source fields) or document_template, not both")
    if not all(isinstance(name, str) and name for name in options.document_fields):
        problems.append("document_fields must be non-empty field names")
    if options.document_template is not None:
        problems.extend(_template_problems(options.document_template))
    if not _is_positive_int(options.max_passage_chars):
        problems.append(f"max_passage_chars must be a positive integer, got {options.max_passage_chars!r}")
    if options.window_size is not None and not _is_positive_int(options.window_size):
        problems.append(f"window_size must be a positive integer, got {options.window_size!r}")
    if options.mode not in MODES:
        problems.append(f"mode must be one of {', '.join(MODES)}, got {options.mode!r}")
    if options.score_mode not in SCORE_MODES:
        problems.append(f"score_mode must be one of {', '.join(SCORE_MODES)}, got {options.score_mode!r}")
    for name in ("query_weight", "rerank_weight"):
        value = getattr(options, name)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            problems.append(f"{name} must be a finite number, got {value!r}")
    if not isinstance(options.normalize, bool):
        problems.append(f"normalize must be true or false, got {options.normalize!r}")
    if not _is_positive_int(options.rank_constant):
        problems.append(f"rank_constant must be a positive integer, got {options.rank_constant!r}")
    return problems


def _template_problems(template: object) -> list[str]:
    if not isinstance(template, str):
        return [f"document_template must be a string, got {template!r}"]
    try:
        names = [name for _, name, _, _ in string.Formatter().parse(template) if name is not None]
    except ValueError as error:
        return [f"document_template is not a valid format string ({error}); write fields as {{title}}"]
    if not names:
        return ["document_template names no field; write fields as {title}"]
    if "" in names or any(name.isdigit() for name in names):
        return ["document_template fields must be named, like {title}, not {} or {0}"]
    return []


def _is_positive_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


# --- passages -----------------------------------------------------------------


def field_text(source: Mapping[str, Any], name: str) -> str | None:
    """The text of a `_source` field; dotted names reach into objects (and lists
    of objects); list values are joined by newlines, their null items skipped; an
    object (or a list inside a list) is written as compact JSON; None when missing.
    The Java plugins' PassageText follows the same rule (tests/data/passage_cases.json)."""
    values: list[Any] = [source]
    for part in name.split("."):
        values = [
            item[part]
            for value in values
            for item in (value if isinstance(value, list) else [value])
            if isinstance(item, Mapping) and item.get(part) is not None
        ]
    texts = [
        _item_text(item)
        for value in values
        for item in (value if isinstance(value, list) else [value])
        if item is not None
    ]
    return "\n".join(texts) if texts else None


def _item_text(item: Any) -> str:
    if isinstance(item, (Mapping, list)):
        return json.dumps(item, ensure_ascii=False, separators=(",", ":"))
    return str(item)


def passage_text(source: Mapping[str, Any] | None, options: RerankOptions) -> str:
    source = source or {}
    if options.document_template is None:
        texts = (field_text(source, name) for name in options.document_fields)
        passage = "\n".join(text for text in texts if text)
    else:
        values = {name: field_text(source, name) or "" for name in options.template_fields}
        passage = _DottedFormatter().vformat(options.document_template, (), values).strip()
    # A lone surrogate (JSON allows "\ud800") cannot go over gRPC: it becomes "?", as protobuf-java
    # writes it in the Java plugins, so a hit never fails the call.
    return passage[: options.max_passage_chars].encode("utf-8", "replace").decode("utf-8")


class _DottedFormatter(string.Formatter):
    """str.format reads {a.b} as attribute b of field a; this one looks the whole
    dotted name up, so templates can name nested _source fields."""

    def get_field(self, field_name: str, args: Sequence[Any], kwargs: Mapping[str, Any]) -> tuple[Any, str]:
        return kwargs[field_name], field_name


def window_hits(response: Mapping[str, Any], options: RerankOptions) -> list[dict]:
    hits = response.get("hits", {}).get("hits", [])
    return list(hits if options.window_size is None else hits[: options.window_size])


def window_passages(response: Mapping[str, Any], options: RerankOptions) -> list[str]:
    """The passages to rerank: one per window hit, in hit order."""
    return [passage_text(hit.get("_source"), options) for hit in window_hits(response, options)]


# --- merging --------------------------------------------------------------------


def merge_scores(
    response: Mapping[str, Any],
    scores: Sequence[float],
    options: RerankOptions,
    *,
    model: str = "",
    took_ms: int = 0,
) -> dict:
    """A new response with the window reranked by `scores` (one per window hit,
    in hit order) and the hits after the window below it; `response` is not changed."""
    hits = response.get("hits", {}).get("hits", [])
    window = window_hits(response, options)
    if len(scores) != len(window):
        raise ValueError(f"got {len(scores)} rerank scores for a window of {len(window)} hits")
    new_scores = _window_scores([hit.get("_score") for hit in window], list(scores), options)
    order = sorted(range(len(window)), key=lambda i: (-new_scores[i], i))
    reranked = [_annotated(window[i], new_scores[i], rank=i + 1, reranked=True) for i in order]
    rest = _below_window(hits[len(window) :], first_rank=len(window) + 1, window_floor=min(new_scores, default=None))
    status = {"status": "ok", "mode": options.mode, "model": model, "window_size": len(window), "took": took_ms}
    return _with_hits(response, reranked + rest, status)


def mark_skipped(response: Mapping[str, Any], reason: str, options: RerankOptions, *, took_ms: int = 0) -> dict:
    """A new response with the original hits and order, saying why reranking was skipped."""
    hits = response.get("hits", {}).get("hits", [])
    status = {"status": f"skipped: {reason}", "mode": options.mode, "model": None, "window_size": 0, "took": took_ms}
    return _with_hits(response, list(hits), status)


def _window_scores(originals: list[float | None], scores: list[float], options: RerankOptions) -> list[float]:
    if options.mode == "replace":
        return scores
    if options.mode == "rrf":
        rerank_order = sorted(range(len(scores)), key=lambda i: (-scores[i], i))
        rerank_rank = {index: rank for rank, index in enumerate(rerank_order, start=1)}
        k = options.rank_constant
        return [1 / (k + i + 1) + 1 / (k + rerank_rank[i]) for i in range(len(scores))]
    if any(original is None for original in originals):
        raise ValueError(
            "mode 'combine' needs every hit's _score, but the search returned hits without one "
            "(sorted by a field?); use mode 'replace' or 'rrf', or set track_scores"
        )
    if options.normalize:
        originals = _min_max(originals)
    combine = _COMBINE[options.score_mode]
    return [
        combine(options.query_weight * original, options.rerank_weight * score)
        for original, score in zip(originals, scores)
    ]


def _min_max(values: list[float]) -> list[float]:
    low, high = min(values, default=0.0), max(values, default=0.0)
    if high == low:
        return [1.0] * len(values)
    return [(value - low) / (high - low) for value in values]


def _below_window(hits: Sequence[dict], *, first_rank: int, window_floor: float | None) -> list[dict]:
    scores = [hit.get("_score") for hit in hits]
    best = max((score for score in scores if score is not None), default=None)
    shift = 0.0
    if window_floor is not None and best is not None and best >= window_floor:
        shift = best - window_floor + OUTSIDE_WINDOW_GAP
    return [
        _annotated(hit, None if score is None else score - shift, rank=rank, reranked=False)
        for rank, (hit, score) in enumerate(zip(hits, scores), start=first_rank)
    ]


def _annotated(hit: Mapping[str, Any], score: float | None, *, rank: int, reranked: bool) -> dict:
    annotation = {"original_score": hit.get("_score"), "original_rank": rank, "reranked": reranked}
    return {**hit, "_score": score, "_rerank": annotation}


def _with_hits(response: Mapping[str, Any], hits: list[dict], status: dict) -> dict:
    scores = [hit.get("_score") for hit in hits if hit.get("_score") is not None]
    hits_section = {**response.get("hits", {}), "hits": hits}
    if hits:
        hits_section["max_score"] = max(scores, default=None)
    ext = {**response.get("ext", {}), "rerank": status}
    return {**response, "hits": hits_section, "ext": ext}


# --- pagination ------------------------------------------------------------------


@dataclass(frozen=True)
class Page:
    """The from/size the caller asked for."""

    start: int = 0
    size: int = DEFAULT_PAGE_SIZE


def plan_page(body: Mapping[str, Any], options: RerankOptions) -> tuple[dict, Page]:
    """The body to send to OpenSearch and the page to cut from the merged answer.

    As OpenSearch's rescore documents, the window (default from + size) stays
    fixed while a user pages: the search fetches from 0 the larger of the window
    and from + size, the window is reranked, then from/size are sliced out.
    Keep window_size the same across pages, or hits shift between pages.
    """
    start, size = body.get("from", 0), body.get("size", DEFAULT_PAGE_SIZE)
    for name, value in (("from", start), ("size", size)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"{name} must be a non-negative integer, got {value!r}")
    window = options.window_size or start + size
    return {**body, "from": 0, "size": max(window, start + size)}, Page(start, size)


def paginate(response: Mapping[str, Any], page: Page) -> dict:
    hits_section = response.get("hits", {})
    if "hits" not in hits_section:
        return dict(response)
    page_hits = hits_section["hits"][page.start : page.start + page.size]
    return {**response, "hits": {**hits_section, "hits": page_hits}}
