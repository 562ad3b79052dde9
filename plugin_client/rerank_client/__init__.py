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
    "RerankResponse",
    "RerankResult",
    "ServerInfo",
    "UnauthenticatedError",
    "UnavailableError",
]
