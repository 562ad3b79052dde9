"""Domain errors, each naming what the caller should change, and their wire codes.

The engine raises these; the gRPC (and any other) front end maps them through
the one table below, so a user's mistake never surfaces as INTERNAL.
"""

from __future__ import annotations

import grpc


class RerankError(Exception):
    """Base of every error a caller may see; the message says what to fix."""


class InvalidRequest(RerankError):
    """The request itself is wrong; sending it again will fail again."""


class RequestTooLarge(InvalidRequest):
    """The request passes a size limit (documents, characters, tokens, bytes)."""


class ModelNotFound(RerankError):
    """The request names a model this server does not serve."""


class Overloaded(RerankError):
    """The queue is full; retry later with backoff or send fewer documents."""


class NotReady(RerankError):
    """The model is still loading, or the server is shutting down."""


class DeadlineExceeded(RerankError):
    """The request's deadline passed before its pairs were scored."""


class ScoringFailed(RerankError):
    """The model failed on a batch that held this request's pairs."""


GRPC_STATUS: dict[type[RerankError], grpc.StatusCode] = {
    InvalidRequest: grpc.StatusCode.INVALID_ARGUMENT,
    ModelNotFound: grpc.StatusCode.NOT_FOUND,
    Overloaded: grpc.StatusCode.RESOURCE_EXHAUSTED,
    NotReady: grpc.StatusCode.UNAVAILABLE,
    DeadlineExceeded: grpc.StatusCode.DEADLINE_EXCEEDED,
    ScoringFailed: grpc.StatusCode.INTERNAL,
}


def grpc_status(error: RerankError) -> grpc.StatusCode:
    for cls in type(error).__mro__:
        if cls in GRPC_STATUS:
            return GRPC_STATUS[cls]
    return grpc.StatusCode.INTERNAL
