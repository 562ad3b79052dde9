"""The gateway's ASGI app: OpenSearch's or Elasticsearch's HTTP API (--engine, see
engines.py), with ext.rerank on searches.

    POST|GET /{index}/_search, /_search   reranked when the body has ext.rerank (see ext.py)
    GET /_rerank/health                   the engine's and the reranker's status (needs no key)
    anything else                         proxied to the engine unchanged when --passthrough
                                          admits it (see passthrough.py), else 403

Every request but health needs an API key when keys are set (auth.py); bodies are
read within --max-body-bytes (body.py).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

from opensearchpy.exceptions import ConnectionError as OpenSearchConnectionError
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..client import RerankError
from ..merge import RerankOptions, plan_page
from ..search import async_search_and_rerank
from .auth import ApiKeys, RequireApiKey
from .backends import Backends
from .body import read_body
from .engines import EngineHeaders
from .errors import EXCEPTION_HANDLERS, EngineUnknown, GatewayRefusal, PassthroughRefused
from .ext import InvalidRerankRequest, is_small_natural, split_rerank_ext
from .logs import AccessLog, keep_query_text_out_of_library_logs
from .passthrough import PASSTHROUGH_CLASSES, admits, path_segments, required_class
from .proxy import EVERY_STATUS, forward, upstream_headers
from .settings import GatewaySettings

ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]
_CLASS_WORDS = {"search": "searches only", "read": "searches and reads only", "all": "everything"}


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
        middleware=[
            Middleware(AccessLog),
            Middleware(EngineHeaders, engine=lambda scope: scope["app"].state.backends.engine),
            Middleware(RequireApiKey, keys=ApiKeys(settings.api_keys)),
        ],
        lifespan=lifespan,
    )
    app.state.settings = settings
    keep_query_text_out_of_library_logs()
    return app


async def passthrough(request: Request) -> Response:
    return await _forward(request, await _admitted_body(request))


async def search(request: Request) -> Response:
    raw_body = await _admitted_body(request)
    body = _json_object(raw_body)
    if body is None or not isinstance(body.get("ext"), Mapping) or "rerank" not in body["ext"]:
        return await _forward(request, raw_body)
    settings: GatewaySettings = request.app.state.settings
    backends: Backends = request.app.state.backends
    search_body, rerank = split_rerank_ext(body, settings.rerank_timeout_ms, settings.max_rerank_timeout_ms)
    search_body, params = _page_params_into_body(search_body, request.query_params)
    _check_window(search_body, rerank.options, settings.max_window_size)
    headers = upstream_headers(request.headers, settings.forward_authorization, proxied=False)
    search_client = await backends.search_client()
    try:
        merged = await async_search_and_rerank(
            search_client,
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


async def _admitted_body(request: Request) -> bytes:
    """The body, once the request is one --passthrough lets through; raises the refusal."""
    settings: GatewaySettings = request.app.state.settings
    segments = path_segments(request.scope["raw_path"].decode("latin-1"))
    body = await read_body(request, settings.max_body_bytes)
    required = required_class(request.method, segments, request.query_params.multi_items(), body)
    if not admits(settings.passthrough, required):
        wider = " or ".join(f"--passthrough {name}" for name in PASSTHROUGH_CLASSES if admits(name, required))
        raise PassthroughRefused(
            f"the gateway forwards {_CLASS_WORDS[settings.passthrough]} (--passthrough {settings.passthrough}); "
            f"{request.method} {request.url.path} needs {wider} (RERANK_GATEWAY_PASSTHROUGH)"
        )
    return body


async def _forward(request: Request, body: bytes) -> Response:
    settings: GatewaySettings = request.app.state.settings
    return await forward(request.app.state.backends.passthrough, request, body, settings.forward_authorization)


def _json_object(raw_body: bytes) -> dict | None:
    """The body as a JSON object; None for anything else, which OpenSearch then judges."""
    try:
        body = json.loads(raw_body) if raw_body.strip() else None
    except ValueError:
        return None
    except RecursionError:
        raise GatewayRefusal("the body's JSON nests too deeply for the gateway to read") from None
    return body if isinstance(body, dict) else None


def _page_params_into_body(body: dict, query_params: Mapping[str, str]) -> tuple[dict, dict]:
    """from/size may come as URL parameters, which win over the body's as in
    OpenSearch; they move into the body so the window plan sees them."""
    params = dict(query_params)
    for name in ("from", "size"):
        if name in params:
            value = params.pop(name)
            if not is_small_natural(value):
                raise InvalidRerankRequest(
                    f"URL parameter {name} must be a non-negative integer below 10^9, got {value[:40]!r}"
                )
            body = {**body, name: int(value)}
    return body, params


def _check_window(body: Mapping[str, Any], options: RerankOptions, max_window_size: int) -> None:
    """Refuses a search that would send more hits to the reranker than the gateway allows."""
    try:
        _, page = plan_page(body, options)
    except ValueError as error:  # from or size is not a non-negative integer
        raise InvalidRerankRequest(str(error)) from None
    window = options.window_size or page.start + page.size
    if window > max_window_size:
        raise InvalidRerankRequest(
            f"this search would rerank {window} hits (ext.rerank.window_size, or from + size without it), "
            f"over the gateway's limit of {max_window_size} (--max-window-size)"
        )


async def health(request: Request) -> Response:
    """200 when the engine answers (status "ok", or "degraded" while the reranker is down and
    searches fail open to the engine's order); 503 when it does not. The engine's part is
    named after it: "opensearch" or "elasticsearch"."""
    settings: GatewaySettings = request.app.state.settings
    backends: Backends = request.app.state.backends
    engine, reranker = await asyncio.gather(
        _engine_health(backends, settings.health_timeout_s), _reranker_health(backends, settings.health_timeout_s)
    )
    if engine["status"] in ("green", "yellow", "red"):
        status, code = ("ok" if reranker["status"] == "serving" else "degraded"), 200
    else:
        status, code = "unavailable", 503
    body = {"status": status, backends.engine_or_unknown.name: engine, "reranker": reranker}
    return JSONResponse(body, status_code=code)


async def _engine_health(backends: Backends, timeout_s: float) -> dict[str, Any]:
    try:
        await asyncio.wait_for(backends.search_client(), timeout_s)  # --engine auto: which engine it is
        status, _, text = await backends.passthrough.perform_request(
            "GET", "/_cluster/health", timeout=timeout_s, ignore=EVERY_STATUS
        )
    except (OpenSearchConnectionError, asyncio.TimeoutError) as error:
        return {"status": "unreachable", "error": str(error) or "no answer in time"}
    except EngineUnknown as error:
        return {"status": "unknown", "error": str(error)}
    if status == 200:
        try:
            cluster = json.loads(text)
            return {"status": cluster["status"], "cluster_name": cluster["cluster_name"]}
        except (ValueError, TypeError, KeyError):
            pass
    return {"status": "error", "error": f"GET /_cluster/health answered {status}: {text[:500]}"}


async def _reranker_health(backends: Backends, timeout_s: float) -> dict[str, Any]:
    try:
        info = await backends.reranker.model_info(timeout=timeout_s)
    except RerankError as error:
        return {"status": "unavailable", "error": str(error)}
    return {"status": "serving", "default_model": info.default_model, "models": [m.name for m in info.models]}
