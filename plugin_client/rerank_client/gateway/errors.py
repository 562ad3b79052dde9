"""Exceptions -> HTTP answers, in one table, shaped like OpenSearch's and Elasticsearch's own
errors: {"error": {"type": ..., "reason": ...}, "status": N}. The engine's errors come from
opensearch-py (searches on OpenSearch, and every proxied request) or elasticsearch-py
(searches on Elasticsearch)."""

from __future__ import annotations

import logging

import elastic_transport
from elasticsearch import UnsupportedProductError
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


class EngineUnknown(GatewayRefusal):
    """--engine auto could not tell which engine answered."""

    status = 502
    error_type = "search_engine_unknown"


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


async def engine_unreachable(request: Request, error: Exception) -> Response:
    engine = request.app.state.backends.engine_or_unknown
    logger.warning("%s unreachable for %s %s: %s", engine.title, request.method, request.url.path, error)
    timed_out = isinstance(error, (OpenSearchConnectionTimeout, elastic_transport.ConnectionTimeout))
    return error_response(
        504 if timed_out else 502,
        f"{engine.name}_timeout" if timed_out else f"{engine.name}_unreachable",
        f"the gateway could not get an answer from {engine.title}: {error}; check that it runs and --opensearch-url",
    )


async def opensearch_error(request: Request, error: Exception) -> Response:
    """OpenSearch answered with an error: pass its status and body through."""
    assert isinstance(error, TransportError)
    return _engine_error(error.status_code, error.info)


async def elasticsearch_error(request: Request, error: Exception) -> Response:
    """Elasticsearch answered with an error: pass its status and body through."""
    assert isinstance(error, elastic_transport.ApiError)
    return _engine_error(error.meta.status, error.body)


def _engine_error(status: int, body: object) -> Response:
    if isinstance(body, (dict, list)):
        return JSONResponse(body, status_code=status)
    return PlainTextResponse(str(body), status_code=status)


async def not_elasticsearch(request: Request, error: Exception) -> Response:
    """elasticsearch-py found no X-Elastic-Product on a 2xx answer: that upstream is not Elasticsearch."""
    return error_response(
        502,
        "not_elasticsearch",
        "the upstream answered without X-Elastic-Product: Elasticsearch, so it is not Elasticsearch; "
        "for OpenSearch set --engine opensearch (or auto)",
    )


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
    OpenSearchConnectionError: engine_unreachable,
    TransportError: opensearch_error,
    elastic_transport.TransportError: engine_unreachable,  # no answer: connection, timeout, TLS
    elastic_transport.ApiError: elasticsearch_error,
    UnsupportedProductError: not_elasticsearch,
    RerankError: rerank_failed,
}
