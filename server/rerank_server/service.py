"""RerankServicer: rerank.v1 protobuf <-> engine dataclasses, and errors -> status."""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from dataclasses import dataclass, field

import grpc
from rerank.v1 import rerank_pb2, rerank_pb2_grpc

from .engine import RerankEngine, RerankOutcome, RerankQuery
from .errors import RerankError, grpc_status
from .logs import request_id_from, request_id_var
from .metrics import Metrics
from .scoring.base import ModelDescription

log = logging.getLogger(__name__)


@dataclass
class Call:
    """What a servicer method may add to the answer besides the response."""

    request_id: str
    trailing: list[tuple[str, str]] = field(default_factory=list)
    fields: dict = field(default_factory=dict)
    """Logged with the call's access line (never query or document text)."""


def _handles_call(method):
    """Gives each call a request id (the caller's x-request-id, or a new one),
    echoes it in the trailing metadata, logs and counts the call, and turns
    domain errors into their status and unexpected ones into INTERNAL."""

    @functools.wraps(method)
    async def wrapper(self, request, context: grpc.aio.ServicerContext):
        metadata = dict(context.invocation_metadata() or ())
        call = Call(request_id_from(metadata.get("x-request-id")))
        token = request_id_var.set(call.request_id)
        started = time.perf_counter()
        status = grpc.StatusCode.OK
        try:
            response = await method(self, request, context, call)
            context.set_trailing_metadata([("x-request-id", call.request_id), *call.trailing])
            return response
        except RerankError as error:
            status = grpc_status(error)
            call.fields["error"] = str(error)
            await context.abort(status, str(error), trailing_metadata=(("x-request-id", call.request_id),))
        except grpc.aio.AbortError:
            raise
        except asyncio.CancelledError:
            status = grpc.StatusCode.CANCELLED
            raise
        except Exception:
            status = grpc.StatusCode.INTERNAL
            log.exception("%s failed", method.__name__)
            await context.abort(
                status, "internal error; the server log has the details",
                trailing_metadata=(("x-request-id", call.request_id),),
            )
        finally:
            seconds = time.perf_counter() - started
            self._metrics.requests.labels("grpc", method.__name__, status.name).inc()
            self._metrics.request_seconds.labels("grpc", method.__name__).observe(seconds)
            log.info(
                "%s %s", method.__name__, status.name,
                extra={"fields": {"method": method.__name__, "status": status.name,
                                  "ms": round(seconds * 1000, 2), **call.fields}},
            )
            request_id_var.reset(token)

    return wrapper


def query_from_pb(request: rerank_pb2.RerankRequest) -> RerankQuery:
    return RerankQuery(
        query=request.query,
        documents=[(document.id, document.text) for document in request.documents],
        top_n=request.top_n,
        raw_scores=request.raw_scores,
        return_text=request.return_text,
        max_length=request.max_length,
        prompt=request.prompt,
        model=request.model,
    )


def outcome_to_pb(outcome: RerankOutcome) -> rerank_pb2.RerankResponse:
    return rerank_pb2.RerankResponse(
        results=[
            rerank_pb2.RerankResult(index=r.index, id=r.id, score=r.score, text=r.text or "")
            for r in outcome.results
        ],
        model=outcome.model,
        usage=rerank_pb2.Usage(pairs=outcome.pairs, tokens=outcome.tokens, cached_pairs=outcome.cached_pairs),
    )


def description_to_pb(description: ModelDescription) -> rerank_pb2.ModelInfo:
    return rerank_pb2.ModelInfo(
        name=description.name,
        source=description.source,
        kind=description.kind,
        dtype=description.dtype,
        device=description.device,
        default_max_length=description.default_max_length,
        max_max_length=description.max_max_length,
        default_prompt=description.default_prompt,
    )


class RerankServicer(rerank_pb2_grpc.RerankerServicer):
    def __init__(self, engine: RerankEngine, limits: rerank_pb2.Limits, metrics: Metrics) -> None:
        self._engine = engine
        self._limits = limits
        self._metrics = metrics

    @_handles_call
    async def Rerank(self, request, context, call: Call):
        call.fields.update(model=request.model, documents=len(request.documents))
        outcome = await self._engine.rerank(query_from_pb(request), timeout=context.time_remaining())
        call.trailing.append(("server-timing", outcome.times.server_timing()))
        call.fields.update(model=outcome.model, tokens=outcome.tokens, cached=outcome.cached_pairs)
        return outcome_to_pb(outcome)

    @_handles_call
    async def GetModelInfo(self, request, context, call: Call):
        engine = self._engine
        engine.require_ready()
        served = [engine.model(request.model)] if request.model else engine.models
        return rerank_pb2.GetModelInfoResponse(
            models=[description_to_pb(model.description) for model in served],
            default_model=engine.default_model,
            limits=self._limits,
        )
