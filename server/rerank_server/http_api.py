"""The HTTP API: Cohere's rerank shape over the same engine as gRPC.

Clients that already speak Cohere (its SDKs, OpenSearch ML Commons' cohere
connector functions, Elasticsearch's custom rerank service) call
POST /v1/rerank or /v2/rerank here unchanged. Errors are JSON bodies
{"message": ...} with the HTTP status of the domain error.
"""

from __future__ import annotations

import json
import logging
import math
import time
import uuid
from collections.abc import Callable
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from .auth import HTTP_OPEN_PATHS, ApiKeys
from .config import Settings
from .engine import RerankEngine, RerankOutcome, RerankQuery
from .errors import (
    DeadlineExceeded,
    InvalidRequest,
    ModelNotFound,
    NotReady,
    Overloaded,
    RerankError,
    RequestTooLarge,
    ScoringFailed,
)
from .logs import request_id_from, request_id_var
from .metrics import Metrics

log = logging.getLogger(__name__)

HTTP_STATUS: dict[type[RerankError], int] = {
    RequestTooLarge: 413,
    InvalidRequest: 400,
    ModelNotFound: 404,
    Overloaded: 429,
    NotReady: 503,
    DeadlineExceeded: 504,
    ScoringFailed: 500,
}


def http_status(error: RerankError) -> int:
    for cls in type(error).__mro__:
        if cls in HTTP_STATUS:
            return HTTP_STATUS[cls]
    return 500


class TextDocument(BaseModel):
    model_config = ConfigDict(extra="allow")
    text: str


class CohereRerankRequest(BaseModel):
    """The union of Cohere's v1 and v2 rerank request fields that we honour."""

    model_config = ConfigDict(extra="ignore")

    query: str
    documents: list[str | TextDocument]
    model: str = ""
    top_n: Annotated[int, Field(ge=1)] | None = None
    return_documents: bool = False
    max_tokens_per_doc: Annotated[int, Field(ge=1)] | None = None
    """Taken as the pair's max_length (the token budget of query plus document)."""
    raw_scores: bool = False
    """Not Cohere's: the raw relevance logit instead of its sigmoid."""

    def require_unicode(self) -> None:
        """JSON escapes can spell lone UTF-16 surrogates (\\ud800), which are not
        Unicode text and which no tokenizer takes."""
        texts = [("query", self.query)]
        texts += [(f"documents.{i}", d if isinstance(d, str) else d.text) for i, d in enumerate(self.documents)]
        for where, text in texts:
            try:
                text.encode("utf-8")
            except UnicodeEncodeError as error:
                raise InvalidRequest(
                    f"{where} holds a lone UTF-16 surrogate at character {error.start}: send valid Unicode text"
                ) from None

    def to_query(self) -> RerankQuery:
        texts = [d if isinstance(d, str) else d.text for d in self.documents]
        return RerankQuery(
            query=self.query,
            documents=[(str(i), text) for i, text in enumerate(texts)],
            top_n=self.top_n or 0,
            raw_scores=self.raw_scores,
            return_text=self.return_documents,
            max_length=self.max_tokens_per_doc or 0,
            model=self.model,
        )


JSON_SMART_DOUBLE_CHARS = 18
"""The longest decimal number that json-smart (in its permissive mode, as json-path uses it by
default) still reads as a java.lang.Double: a longer one becomes a java.math.BigDecimal
(JSONParserBase.extractFloat, json-smart 2.5.x: `if (xs.length() > 18) ... new BigDecimal(xs)`)."""


def json_safe_score(score: float) -> float:
    """The score itself when its JSON text (Python's shortest repr) has at most
    JSON_SMART_DOUBLE_CHARS characters, else the nearest float of 16 down to 11 significant
    digits whose text fits.

    OpenSearch ML Commons (2.19 to 3.x) reads a connector's response with json-path, so
    a relevance_score such as 0.05551750183682877 (19 characters) arrives as a BigDecimal,
    and its cohere rerank post-process function casts it to Double: `_predict` fails with
    HTTP 500 class_cast_exception. The rounding moves a score by less than 5e-11 of itself
    (5e-13 in [1e-4, 1), where the sigmoid's scores lie), far finer than the model's
    float32 logits, so other clients lose nothing. Left as they are, as no rounding that
    small fits: scores in (-1e16, -1e15], which Python's json writes with 19 characters
    whatever their digits, and some beyond 1e300 in size; no reranker's scores lie there."""
    if len(repr(score)) <= JSON_SMART_DOUBLE_CHARS:
        return score
    for digits in range(16, 10, -1):
        rounded = float(f"{score:.{digits}g}")
        if len(repr(rounded)) <= JSON_SMART_DOUBLE_CHARS and math.isfinite(rounded):  # 1.8e308 may round to inf
            return rounded
    return score


def cohere_response(outcome: RerankOutcome, version: Literal["1", "2"]) -> dict:
    results = []
    for result in outcome.results:
        item: dict = {"index": result.index, "relevance_score": json_safe_score(float(result.score))}
        if result.text is not None:
            item["document"] = {"text": result.text}
        results.append(item)
    return {
        "id": str(uuid.uuid4()),
        "results": results,
        "meta": {
            "api_version": {"version": version},
            "billed_units": {"search_units": 1},
            "tokens": {"input_tokens": outcome.tokens, "output_tokens": 0},
        },
        "model": outcome.model,
    }


def error_response(status: int, message: str) -> JSONResponse:
    return JSONResponse({"message": message}, status_code=status)


def _validation_message(error: ValidationError) -> str:
    problems = []
    for item in error.errors():
        where = ".".join(str(part) for part in item["loc"]) or "body"
        problems.append(f"{where}: {item['msg']}")
    return "invalid request: " + "; ".join(problems)


def create_http_app(
    engine: RerankEngine, is_serving: Callable[[], bool], settings: Settings, metrics: Metrics
) -> Starlette:
    """The ASGI app; is_serving tells /health whether the server takes work."""
    keys = ApiKeys(settings.api_keys)
    max_body_bytes = settings.max_message_bytes

    async def parse(request: Request) -> CohereRerankRequest:
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > max_body_bytes:
            raise RequestTooLarge(f"the body has {declared} bytes, over the limit of {max_body_bytes}")
        body = await request.body()
        if len(body) > max_body_bytes:
            raise RequestTooLarge(f"the body has {len(body)} bytes, over the limit of {max_body_bytes}")
        try:
            payload = CohereRerankRequest.model_validate(json.loads(body or b"null"))
        except UnicodeDecodeError as error:
            raise InvalidRequest(
                f"the body is not UTF-8 text ({error.reason} at byte {error.start}): send JSON encoded as UTF-8"
            ) from None
        except RecursionError:
            raise InvalidRequest('the body\'s JSON nests too deeply: send {"query": ..., "documents": [...]}') from None
        except ValidationError as error:  # a ValueError too, so first
            raise InvalidRequest(_validation_message(error)) from None
        except ValueError as error:  # json.JSONDecodeError, or an integer past Python's digit limit
            raise InvalidRequest(f"the body is not JSON: {error}") from None
        payload.require_unicode()
        return payload

    def rerank_endpoint(version: Literal["1", "2"]):
        async def rerank(request: Request) -> JSONResponse:
            payload = await parse(request)
            outcome = await engine.rerank(payload.to_query())
            response = JSONResponse(cohere_response(outcome, version))
            response.headers["server-timing"] = outcome.times.server_timing()
            return response

        return rerank

    async def health(request: Request) -> JSONResponse:
        if is_serving():
            return JSONResponse({"status": "serving", "models": [m.description.name for m in engine.models]})
        return JSONResponse({"status": "not serving"}, status_code=503)

    async def handle_call(request: Request, call_next):
        """Request id, API key, errors as JSON, metrics and one log line per call."""
        request_id = request_id_from(request.headers.get("x-request-id"))
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        path = request.url.path
        try:
            problem = None if path in HTTP_OPEN_PATHS or not keys else keys.problem(request.headers.get("authorization"))
            if problem:
                response = error_response(401, problem)
            else:
                try:
                    response = await call_next(request)
                except RerankError as error:
                    response = error_response(http_status(error), str(error))
                except Exception:
                    log.exception("%s failed", path)
                    response = error_response(500, "internal error; the server log has the details")
            response.headers["x-request-id"] = request_id
            seconds = time.perf_counter() - started
            metrics.requests.labels("http", path, str(response.status_code)).inc()
            metrics.request_seconds.labels("http", path).observe(seconds)
            if path not in HTTP_OPEN_PATHS:
                log.info(
                    "%s %s %d", request.method, path, response.status_code,
                    extra={"fields": {"method": path, "status": response.status_code, "ms": round(seconds * 1000, 2)}},
                )
            return response
        finally:
            request_id_var.reset(token)

    return Starlette(
        routes=[
            Route("/v1/rerank", rerank_endpoint("1"), methods=["POST"]),
            Route("/v2/rerank", rerank_endpoint("2"), methods=["POST"]),
            Route("/health", health, methods=["GET"]),
        ],
        middleware=[Middleware(BaseHTTPMiddleware, dispatch=handle_call)],
    )
