"""Search OpenSearch and rerank the top hits with the rerank service.

    from opensearchpy import OpenSearch
    from rerank_client import RerankClient
    from rerank_client.merge import RerankOptions
    from rerank_client.opensearch import search_and_rerank

    options = RerankOptions(document_fields=("title", "body"), window_size=20)
    with RerankClient("127.0.0.1:50051") as reranker:
        response = search_and_rerank(
            OpenSearch("http://127.0.0.1:9200"), "articles",
            {"query": {"match": {"body": "giant panda"}}, "size": 5},
            "giant panda", reranker=reranker, options=options, timeout=2.0,
        )

The answer is OpenSearch's response with the window reranked (see merge.py for
the modes and the annotations). Reranking fails open: when the reranker is
unreachable, too slow or errs, the hits keep OpenSearch's order,
`ext.rerank.status` says "skipped: <why>" and a warning is logged; pass
strict=True to get the RerankError instead. OpenSearch's own errors are raised
as opensearch-py raises them.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any

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


def skip_reason(error: RerankError) -> str:
    return SKIP_REASONS.get(type(error), f"reranker error ({error.code.name})")


def search_and_rerank(
    client: Any,
    index: str | None,
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
    """Searches with an opensearch-py `OpenSearch` client, reranks the window
    against query_text and returns the from/size page of the merged response.

    timeout is the reranker's deadline in seconds (the client's default when
    None); model picks a served model; params and headers go to OpenSearch with
    the search (URL parameters, e.g. routing; e.g. authorization).
    """
    search_body, page = _prepare(body, query_text, options)
    response = client.search(index=index, body=search_body, params=dict(params or {}), headers=dict(headers or {}))
    passages = window_passages(response, options)
    started = time.monotonic()
    try:
        reranked = reranker.rerank(query_text, passages, timeout=timeout, model=model) if passages else None
    except RerankError as error:
        return _skipped(response, error, options, page, started, strict)
    return _merged(response, reranked, len(passages), options, page, started)


async def async_search_and_rerank(
    client: Any,
    index: str | None,
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
    """search_and_rerank for opensearch-py's `AsyncOpenSearch` and an AsyncRerankClient."""
    search_body, page = _prepare(body, query_text, options)
    response = await client.search(
        index=index, body=search_body, params=dict(params or {}), headers=dict(headers or {})
    )
    passages = window_passages(response, options)
    started = time.monotonic()
    try:
        reranked = await reranker.rerank(query_text, passages, timeout=timeout, model=model) if passages else None
    except RerankError as error:
        return _skipped(response, error, options, page, started, strict)
    return _merged(response, reranked, len(passages), options, page, started)


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
    logger.warning("reranking skipped, hits keep OpenSearch's order: %s (%s)", reason, error)
    return paginate(mark_skipped(response, reason, options, took_ms=_elapsed_ms(started)), page)


def _elapsed_ms(started: float) -> int:
    return round((time.monotonic() - started) * 1000)
