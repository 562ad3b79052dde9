"""Python client of the rerank.v1 reranking service."""

from .client import (
    AsyncRerankClient,
    DeadlineExceededError,
    DocumentInput,
    InvalidArgumentError,
    ModelInfo,
    ModelNotFoundError,
    OverloadedError,
    RerankClient,
    RerankError,
    RerankResponse,
    RerankResult,
    ServerInfo,
    UnauthenticatedError,
    UnavailableError,
)
from .merge import RerankOptions
from .search import async_search_and_rerank, search_and_rerank

__all__ = [
    "AsyncRerankClient",
    "DeadlineExceededError",
    "DocumentInput",
    "InvalidArgumentError",
    "ModelInfo",
    "ModelNotFoundError",
    "OverloadedError",
    "RerankClient",
    "RerankError",
    "RerankOptions",
    "RerankResponse",
    "RerankResult",
    "ServerInfo",
    "UnauthenticatedError",
    "UnavailableError",
    "async_search_and_rerank",
    "search_and_rerank",
]
