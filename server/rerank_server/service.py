"""RerankServicer: rerank.v1 protobuf <-> engine dataclasses, and errors -> status."""

from __future__ import annotations

import functools
import logging

import grpc
from rerank.v1 import rerank_pb2, rerank_pb2_grpc

from .engine import RerankEngine, RerankOutcome, RerankQuery
from .errors import RerankError, grpc_status
from .scoring.base import ModelDescription

log = logging.getLogger(__name__)


def _maps_errors(method):
    """Turns domain errors into their status and unexpected ones into INTERNAL."""

    @functools.wraps(method)
    async def wrapper(self, request, context: grpc.aio.ServicerContext):
        try:
            return await method(self, request, context)
        except RerankError as error:
            await context.abort(grpc_status(error), str(error))
        except grpc.aio.AbortError:
            raise
        except Exception:
            log.exception("%s failed", method.__name__)
            await context.abort(grpc.StatusCode.INTERNAL, "internal error; the server log has the details")

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
    def __init__(self, engine: RerankEngine, batch_size: int) -> None:
        self._engine = engine
        self._batch_size = batch_size

    @_maps_errors
    async def Rerank(self, request, context):
        outcome = await self._engine.rerank(query_from_pb(request), timeout=context.time_remaining())
        return outcome_to_pb(outcome)

    @_maps_errors
    async def GetModelInfo(self, request, context):
        engine = self._engine
        engine.require_ready()
        served = [engine.model(request.model)] if request.model else engine.models
        return rerank_pb2.GetModelInfoResponse(
            models=[description_to_pb(model.description) for model in served],
            default_model=engine.default_model,
            limits=rerank_pb2.Limits(max_documents=engine.limits.max_documents, batch_size=self._batch_size),
        )
