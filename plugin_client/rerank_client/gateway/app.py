"""The gateway's ASGI app: OpenSearch's HTTP API, with ext.rerank on searches.

    POST|GET /{index}/_search, /_search   reranked when the body has ext.rerank (see ext.py)
    GET /_rerank/health                   OpenSearch's and the reranker's status
    anything else                         proxied to OpenSearch unchanged
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

from opensearchpy.exceptions import ConnectionError as OpenSearchConnectionError
from opensearchpy.exceptions import TransportError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..client import RerankError
from ..opensearch import async_search_and_rerank
from .backends import Backends
from .errors import EXCEPTION_HANDLERS
from .ext import InvalidRerankRequest, split_rerank_ext
from .proxy import forward
from .settings import GatewaySettings

ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]
# Headers a reranked search passes to OpenSearch, so it runs with the caller's identity.
_FORWARDED_SEARCH_HEADERS = ("authorization", "x-opaque-id")


def create_app(settings: GatewaySettings) -> Starlette:
    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        app.state.backends = Backends.open(settings)
        try:
            yield
        finally:
            await app.state.backends.close()

    app = Starlette(
        routes=[
            Route("/_rerank/health", health, methods=["GET"]),
            Route("/_search", search, methods=["GET", "POST"]),
            Route("/{index}/_search", search, methods=["GET", "POST"]),
            Route("/{path:path}", passthrough, methods=ALL_METHODS),
        ],
        exception_handlers=EXCEPTION_HANDLERS,
        lifespan=lifespan,
    )
    app.state.settings = settings
    return app


async def passthrough(request: Request) -> Response:
    return await forward(request.app.state.backends.passthrough, request, await request.body())


async def search(request: Request) -> Response:
    raw_body = await request.body()
    body = _json_object(raw_body)
    if body is None or not isinstance(body.get("ext"), Mapping) or "rerank" not in body["ext"]:
        return await forward(request.app.state.backends.passthrough, request, raw_body)
    settings: GatewaySettings = request.app.state.settings
    backends: Backends = request.app.state.backends
    search_body, rerank = split_rerank_ext(body, settings.rerank_timeout_ms)
    search_body, params = _page_params_into_body(search_body, request.query_params)
    headers = {name: request.headers[name] for name in _FORWARDED_SEARCH_HEADERS if name in request.headers}
    try:
        merged = await async_search_and_rerank(
            backends.opensearch,
            request.path_params.get("index"),
            search_body,
            rerank.query_text,
            reranker=backends.reranker,
            options=rerank.options,
            timeout=rerank.timeout_s,
            model=rerank.model,
            strict=rerank.strict,
            params=params,
            headers=headers,
        )
    except ValueError as error:  # the request cannot be merged as asked (bad from/size, no scores to combine)
        raise InvalidRerankRequest(str(error)) from None
    return JSONResponse(merged)


def _json_object(raw_body: bytes) -> dict | None:
    """The body as a JSON object; None for anything else, which OpenSearch then judges."""
    try:
        body = json.loads(raw_body) if raw_body.strip() else None
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _page_params_into_body(body: dict, query_params: Mapping[str, str]) -> tuple[dict, dict]:
    """from/size may come as URL parameters, which win over the body's as in
    OpenSearch; they move into the body so the window plan sees them."""
    params = dict(query_params)
    for name in ("from", "size"):
        if name in params:
            value = params.pop(name)
            if not value.isdigit():
                raise InvalidRerankRequest(f"URL parameter {name} must be a non-negative integer, got {value!r}")
            body = {**body, name: int(value)}
    return body, params


async def health(request: Request) -> Response:
    """200 when OpenSearch answers (status "ok", or "degraded" while the reranker
    is down and searches fail open to OpenSearch's order); 503 when it does not."""
    settings: GatewaySettings = request.app.state.settings
    backends: Backends = request.app.state.backends
    opensearch, reranker = await asyncio.gather(
        _opensearch_health(backends, settings.health_timeout_s), _reranker_health(backends, settings.health_timeout_s)
    )
    if opensearch["status"] in ("green", "yellow", "red"):
        status, code = ("ok" if reranker["status"] == "serving" else "degraded"), 200
    else:
        status, code = "unavailable", 503
    return JSONResponse({"status": status, "opensearch": opensearch, "reranker": reranker}, status_code=code)


async def _opensearch_health(backends: Backends, timeout_s: float) -> dict[str, Any]:
    try:
        cluster = await backends.opensearch.cluster.health(request_timeout=timeout_s)
    except OpenSearchConnectionError as error:
        return {"status": "unreachable", "error": str(error)}
    except TransportError as error:  # it answered, with an error (e.g. 401)
        return {"status": "error", "error": str(error)}
    return {"status": cluster["status"], "cluster_name": cluster["cluster_name"]}


async def _reranker_health(backends: Backends, timeout_s: float) -> dict[str, Any]:
    try:
        info = await backends.reranker.model_info(timeout=timeout_s)
    except RerankError as error:
        return {"status": "unavailable", "error": str(error)}
    return {"status": "serving", "default_model": info.default_model, "models": [m.name for m in info.models]}
