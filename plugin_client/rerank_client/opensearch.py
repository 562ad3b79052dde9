"""The names this package first offered for OpenSearch, kept working: the search side now
lives in rerank_client.search and takes opensearch-py's and elasticsearch-py's clients alike.

    from rerank_client.opensearch import search_and_rerank   # the same function as
    from rerank_client import search_and_rerank
"""

from .search import SKIP_REASONS, async_search_and_rerank, scores_in_request_order, search_and_rerank, skip_reason

__all__ = ["SKIP_REASONS", "async_search_and_rerank", "scores_in_request_order", "search_and_rerank", "skip_reason"]
