"""Exceptions -> HTTP answers, in one table, shaped like OpenSearch's own errors:
{"error": {"type": ..., "reason": ...}, "status": N}."""

from __future__ import annotations

import logging

from opensearchpy.exceptions import ConnectionError as OpenSearchConnectionError
from opensearchpy.exceptions import ConnectionTimeout as OpenSearchConnectionTimeout
from opensearchpy.exceptions import TransportError
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

from ..client import DeadlineExceededError, RerankError
from .ext import InvalidRerankRequest
from .passthrough import InvalidPath

logger = logging.getLogger(__name__)


def error_response(status: int, error_type: str, reason: str) -> JSONResponse:
    return JSONResponse({"error": {"type": error_type, "reason": reason}, "status": status}, status_code=status)


class GatewayRefusal(Exception):
    """A request the gateway itself turns down; the message says what to change."""

    status = 400
    error_type = "invalid_request"


class PassthroughRefused(GatewayRefusal):
    status = 403
    error_type = "passthrough_refused"


class RequestTooLarge(GatewayRefusal):
    status = 413
    error_type = "request_too_large"


class UnsupportedContentEncoding(GatewayRefusal):
    status = 415
    error_type = "unsupported_content_encoding"


async def gateway_refusal(request: Request, error: Exception) -> Response:
    assert isinstance(error, GatewayRefusal)
    return error_response(error.status, error.error_type, str(error))


async def invalid_rerank_request(request: Request, error: Exception) -> Response:
    return error_response(400, "invalid_rerank_request", str(error))


async def invalid_path(request: Request, error: Exception) -> Response:
    return error_response(400, "invalid_path", str(error))


async def opensearch_unreachable(request: Request, error: Exception) -> Response:
    logger.warning("OpenSearch unreachable for %s %s: %s", request.method, request.url.path, error)
    timed_out = isinstance(error, OpenSearchConnectionTimeout)
    return error_response(
        504 if timed_out else 502,
        "opensearch_timeout" if timed_out else "opensearch_unreachable",
        f"the gateway could not get an answer from OpenSearch: {error}; check that it runs and --opensearch-url",
    )


async def opensearch_error(request: Request, error: Exception) -> Response:
    """OpenSearch answered with an error: pass its status and body through."""
    assert isinstance(error, TransportError)
    if isinstance(error.info, (dict, list)):
        return JSONResponse(error.info, status_code=error.status_code)
    return PlainTextResponse(str(error.info), status_code=error.status_code)


async def rerank_failed(request: Request, error: Exception) -> Response:
    """Only strict requests get here; the others fail open."""
    timed_out = isinstance(error, DeadlineExceededError)
    return error_response(
        504 if timed_out else 502,
        "rerank_timeout" if timed_out else "rerank_failed",
        f"reranking failed and ext.rerank.strict is true: {error}",
    )


EXCEPTION_HANDLERS = {
    GatewayRefusal: gateway_refusal,
    InvalidRerankRequest: invalid_rerank_request,
    InvalidPath: invalid_path,
    OpenSearchConnectionError: opensearch_unreachable,
    TransportError: opensearch_error,
    RerankError: rerank_failed,
}
