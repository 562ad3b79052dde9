"""Search OpenSearch or Elasticsearch and rerank the top hits with the rerank service.

    from elasticsearch import Elasticsearch          # or: from opensearchpy import OpenSearch
    from rerank_client import RerankClient, RerankOptions, search_and_rerank

    options = RerankOptions(document_fields=("title", "body"), window_size=20)
    with RerankClient("127.0.0.1:50051") as reranker:
        response = search_and_rerank(
            Elasticsearch("http://127.0.0.1:9200"), "articles",
            {"query": {"match": {"body": "giant panda"}}, "size": 5},
            "giant panda", reranker=reranker, options=options, timeout=2.0,
        )

The client is opensearch-py's `OpenSearch` or elasticsearch-py's (8.x) `Elasticsearch`, or
their asyncio twins with `async_search_and_rerank`. The answer is the engine's response, as a
dict, with the window reranked (see merge.py for the modes and the annotations). Reranking
fails open: when the reranker is unreachable, too slow or errs, the hits keep the engine's
order, `ext.rerank.status` says "skipped: <why>" and a warning is logged; pass strict=True to
get the RerankError instead. The engine's own errors are raised as its client raises them.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

from .client import (
    AsyncRerankClient,
    DeadlineExceededError,
    InvalidArgumentError,
    OverloadedError,
    RerankClient,
    RerankError,
    RerankResponse,
    UnavailableError,
)
from .merge import Page, RerankOptions, mark_skipped, merge_scores, paginate, plan_page, window_passages

logger = logging.getLogger(__name__)

# What ext.rerank.status says after "skipped: " for each failure of the reranker.
SKIP_REASONS: dict[type[RerankError], str] = {
    DeadlineExceededError: "deadline exceeded",
    UnavailableError: "reranker unavailable",
    OverloadedError: "reranker overloaded",
    InvalidArgumentError: "reranker rejected the request",
}

Index = str | Sequence[str] | None
"""An index expression (a name, a pattern, a comma-separated list), a list of them, or None for all."""


def skip_reason(error: RerankError) -> str:
    return SKIP_REASONS.get(type(error), f"reranker error ({error.code.name})")


def search_and_rerank(
    client: Any,
    index: Index,
    body: Mapping[str, Any],
    query_text: str,
    *,
    reranker: RerankClient,
    options: RerankOptions,
    timeout: float | None = None,
    model: str = "",
    strict: bool = False,
    params: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> dict:
    """Searches with an opensearch-py `OpenSearch` or an elasticsearch-py `Elasticsearch`
    client, reranks the window against query_text and returns the from/size page of the
    merged response.

    timeout is the reranker's deadline in seconds (the client's default when None); model
    picks a served model; params and headers go to the engine with the search (URL
    parameters, e.g. routing; e.g. authorization).
    """
    search_body, page = _prepare(body, query_text, options)
    response = _json(_start_search(client, index, search_body, params, headers))
    passages = window_passages(response, options)
    started = time.monotonic()
    try:
        reranked = reranker.rerank(query_text, passages, timeout=timeout, model=model) if passages else None
    except RerankError as error:
        return _skipped(response, error, options, page, started, strict)
    return _merged(response, reranked, len(passages), options, page, started)


async def async_search_and_rerank(
    client: Any,
    index: Index,
    body: Mapping[str, Any],
    query_text: str,
    *,
    reranker: AsyncRerankClient,
    options: RerankOptions,
    timeout: float | None = None,
    model: str = "",
    strict: bool = False,
    params: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> dict:
    """search_and_rerank for `AsyncOpenSearch` or `AsyncElasticsearch` and an AsyncRerankClient."""
    search_body, page = _prepare(body, query_text, options)
    response = _json(await _start_search(client, index, search_body, params, headers))
    passages = window_passages(response, options)
    started = time.monotonic()
    try:
        reranked = await reranker.rerank(query_text, passages, timeout=timeout, model=model) if passages else None
    except RerankError as error:
        return _skipped(response, error, options, page, started, strict)
    return _merged(response, reranked, len(passages), options, page, started)


# --- the engines' clients -----------------------------------------------------------------

# elasticsearch-py's API methods ask for JSON this way; the client turns it into its
# "compatible-with=8" media type.
_ELASTICSEARCH_JSON = {"accept": "application/json", "content-type": "application/json"}


def is_elasticsearch_client(client: Any) -> bool:
    """Whether client is elasticsearch-py's Elasticsearch or AsyncElasticsearch (else it is
    taken for opensearch-py's, or one called the same way)."""
    # Looked up rather than imported: elasticsearch-py is optional, and none of its clients
    # can exist before it is imported.
    module = sys.modules.get("elasticsearch")
    return module is not None and isinstance(client, (module.Elasticsearch, module.AsyncElasticsearch))


def _start_search(
    client: Any, index: Index, body: dict, params: Mapping[str, Any] | None, headers: Mapping[str, str] | None
) -> Any:
    """The client's search: its answer, or an awaitable of it from an asyncio client."""
    params, headers = dict(params or {}), dict(headers or {})
    if is_elasticsearch_client(client):
        # perform_request rather than search(), which takes only the URL parameters it names
        # as keywords: any parameter passes as it is, as with opensearch-py's params=.
        return client.perform_request(
            "POST", _search_path(index), params=params, headers={**_ELASTICSEARCH_JSON, **headers}, body=body
        )
    return client.search(index=index, body=body, params=params, headers=headers)


def _search_path(index: Index) -> str:
    if index is None or index == "":
        return "/_search"
    expression = index if isinstance(index, str) else ",".join(index)
    return f"/{quote(expression, safe=',*')}/_search"


def _json(response: Any) -> dict:
    """opensearch-py answers with the JSON itself, elasticsearch-py with an ApiResponse around it."""
    return getattr(response, "body", response)


# --- merging ---------------------------------------------------------------------------


def _prepare(body: Mapping[str, Any], query_text: str, options: RerankOptions) -> tuple[dict, Page]:
    if not isinstance(query_text, str) or not query_text.strip():
        raise ValueError("query_text must be the non-empty text to rerank against")
    return plan_page(body, options)


def scores_in_request_order(reranked: RerankResponse, count: int) -> list[float]:
    """The response lists results best first; merging wants them in hit order."""
    scores = [0.0] * count
    for result in reranked.results:
        scores[result.index] = result.score
    return scores


def _merged(
    response: dict, reranked: RerankResponse | None, count: int, options: RerankOptions, page: Page, started: float
) -> dict:
    scores = scores_in_request_order(reranked, count) if reranked else []
    model = reranked.model if reranked else ""
    return paginate(merge_scores(response, scores, options, model=model, took_ms=_elapsed_ms(started)), page)


def _skipped(
    response: dict, error: RerankError, options: RerankOptions, page: Page, started: float, strict: bool
) -> dict:
    if strict:
        raise error
    reason = skip_reason(error)
    logger.warning("reranking skipped, hits keep the search engine's order: %s (%s)", reason, error)
    return paginate(mark_skipped(response, reason, options, took_ms=_elapsed_ms(started)), page)


def _elapsed_ms(started: float) -> int:
    return round((time.monotonic() - started) * 1000)
