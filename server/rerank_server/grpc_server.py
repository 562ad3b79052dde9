"""The gRPC server: the Reranker servicer, standard health and reflection,
API keys, TLS, message size limits."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
from pathlib import Path

import grpc
from google.protobuf.message import DecodeError
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from rerank.v1 import rerank_pb2, rerank_pb2_grpc

from .auth import ApiKeyInterceptor, ApiKeys
from .config import Settings
from .engine import RerankEngine
from .metrics import Metrics
from .service import RerankServicer

SERVICE_NAME = rerank_pb2.DESCRIPTOR.services_by_name["Reranker"].full_name
HEALTH_SERVICE_NAME = health_pb2.DESCRIPTOR.services_by_name["Health"].full_name


def limits_pb(settings: Settings) -> rerank_pb2.Limits:
    return rerank_pb2.Limits(
        max_documents=settings.max_documents,
        batch_size=settings.batch_size,
        max_query_chars=settings.max_query_chars,
        max_document_chars=settings.max_document_chars,
        max_prompt_chars=settings.max_prompt_chars,
        max_request_tokens=settings.max_request_tokens,
        max_message_bytes=settings.max_message_bytes,
        max_queued_pairs=settings.max_queued_pairs,
        max_batch_tokens=settings.max_batch_tokens,
    )


def server_credentials(settings: Settings) -> grpc.ServerCredentials | None:
    if not settings.tls_cert:
        return None
    client_ca = Path(settings.tls_client_ca).read_bytes() if settings.tls_client_ca else None
    return grpc.ssl_server_credentials(
        [(Path(settings.tls_key).read_bytes(), Path(settings.tls_cert).read_bytes())],
        root_certificates=client_ca,
        require_client_auth=client_ca is not None,
    )


def create_grpc_server(
    settings: Settings, engine: RerankEngine, metrics: Metrics
) -> tuple[grpc.aio.Server, int, health.aio.HealthServicer]:
    """Builds the server and binds it; port 0 picks a free port."""
    keys = ApiKeys(settings.api_keys)
    # The key check comes first, so a caller without a key learns nothing about parsing.
    interceptors = [ApiKeyInterceptor(keys)] if keys else []
    server = grpc.aio.server(
        interceptors=[*interceptors, MalformedRequestInterceptor()],
        options=[
            ("grpc.max_receive_message_length", settings.max_message_bytes),
            ("grpc.max_send_message_length", settings.max_message_bytes),
        ],
    )
    rerank_pb2_grpc.add_RerankerServicer_to_server(RerankServicer(engine, limits_pb(settings), metrics), server)
    health_servicer = DrainingHealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    reflection.enable_server_reflection((SERVICE_NAME, HEALTH_SERVICE_NAME, reflection.SERVICE_NAME), server)
    address = f"{settings.host}:{settings.port}"
    credentials = server_credentials(settings)
    port = server.add_secure_port(address, credentials) if credentials else server.add_insecure_port(address)
    return server, port, health_servicer


class DrainingHealthServicer(health.aio.HealthServicer):
    """The standard health service, but once shutdown begins each Watch stream
    sends NOT_SERVING and ends: an open watch (Envoy's and grpc's client-side
    health checking keep one) would otherwise hold the drain for the whole grace."""

    def __init__(self) -> None:
        super().__init__()
        self._draining = asyncio.Event()

    async def Watch(self, request, context):
        watching = asyncio.ensure_future(super().Watch(request, context))
        draining = asyncio.ensure_future(self._draining.wait())
        try:
            await asyncio.wait({watching, draining}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            draining.cancel()
            watching.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watching
        if self._draining.is_set():
            await context.write(health_pb2.HealthCheckResponse(status=health_pb2.HealthCheckResponse.NOT_SERVING))

    async def enter_graceful_shutdown(self) -> None:
        await super().enter_graceful_shutdown()
        self._draining.set()


class MalformedRequestInterceptor(grpc.aio.ServerInterceptor):
    """Parses unary requests itself, so a message that is not valid protobuf (cut
    short, bad UTF-8 in a string, a corrupt varint) gets INVALID_ARGUMENT with
    what to fix, where grpc would answer UNKNOWN."""

    async def intercept_service(self, continuation, handler_call_details):
        handler = await continuation(handler_call_details)
        if handler is None or handler.unary_unary is None or handler.request_deserializer is None:
            return handler
        parse, behavior = handler.request_deserializer, handler.unary_unary

        async def parsed(raw: bytes, context: grpc.aio.ServicerContext):
            try:
                request = parse(raw)
            except DecodeError as error:
                await context.abort(
                    grpc.StatusCode.INVALID_ARGUMENT,
                    f"the request is not a valid protobuf message for {handler_call_details.method}: {error}; "
                    "encode it with the generated code of protos/rerank/v1/rerank.proto",
                )
            response = behavior(request, context)
            return await response if inspect.isawaitable(response) else response

        return grpc.unary_unary_rpc_method_handler(parsed, response_serializer=handler.response_serializer)


async def set_health(health_servicer: health.aio.HealthServicer, status: int) -> None:
    for service in ("", SERVICE_NAME):
        await health_servicer.set(service, status)
