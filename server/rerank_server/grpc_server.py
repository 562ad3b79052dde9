"""The gRPC server: the Reranker servicer, standard health and reflection,
API keys, TLS, message size limits."""

from __future__ import annotations

from pathlib import Path

import grpc
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
    server = grpc.aio.server(
        interceptors=[ApiKeyInterceptor(keys)] if keys else None,
        options=[
            ("grpc.max_receive_message_length", settings.max_message_bytes),
            ("grpc.max_send_message_length", settings.max_message_bytes),
        ],
    )
    rerank_pb2_grpc.add_RerankerServicer_to_server(RerankServicer(engine, limits_pb(settings), metrics), server)
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    reflection.enable_server_reflection((SERVICE_NAME, HEALTH_SERVICE_NAME, reflection.SERVICE_NAME), server)
    address = f"{settings.host}:{settings.port}"
    credentials = server_credentials(settings)
    port = server.add_secure_port(address, credentials) if credentials else server.add_insecure_port(address)
    return server, port, health_servicer


async def set_health(health_servicer: health.aio.HealthServicer, status: int) -> None:
    for service in ("", SERVICE_NAME):
        await health_servicer.set(service, status)
