"""API keys: `authorization: Bearer <key>` on gRPC metadata and HTTP headers.

Health checks stay open so orchestrators can probe without a key.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable

import grpc

HEALTH_PREFIXES = ("/grpc.health.v1.Health/",)
HTTP_OPEN_PATHS = ("/health",)
MISSING_KEY = "this server needs an API key: send the header 'authorization: Bearer <key>'"
WRONG_KEY = "the API key is not valid for this server"


class ApiKeys:
    def __init__(self, keys: Iterable[str]) -> None:
        self._keys = [key.encode() for key in keys if key]

    def __bool__(self) -> bool:
        return bool(self._keys)

    def problem(self, authorization: str | None) -> str | None:
        """None when the header carries a valid key, else what is wrong."""
        if not authorization:
            return MISSING_KEY
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return MISSING_KEY
        candidate = token.strip().encode()
        # Compare with every key in constant time, so timing tells nothing.
        matched = False
        for key in self._keys:
            matched |= hmac.compare_digest(candidate, key)
        return None if matched else WRONG_KEY


class ApiKeyInterceptor(grpc.aio.ServerInterceptor):
    """Refuses calls without a valid key with UNAUTHENTICATED, before any handler runs."""

    def __init__(self, keys: ApiKeys) -> None:
        self._keys = keys

    async def intercept_service(self, continuation, handler_call_details):
        handler = await continuation(handler_call_details)
        if handler is None or handler_call_details.method.startswith(HEALTH_PREFIXES):
            return handler
        metadata = dict(handler_call_details.invocation_metadata or ())
        problem = self._keys.problem(metadata.get("authorization"))
        return handler if problem is None else _refusal(handler, problem)


def _refusal(handler: grpc.RpcMethodHandler, message: str) -> grpc.RpcMethodHandler:
    """A handler of the same streaming shape that only aborts."""

    async def refuse(request_or_iterator, context):
        await context.abort(grpc.StatusCode.UNAUTHENTICATED, message)

    serializers = {
        "request_deserializer": handler.request_deserializer,
        "response_serializer": handler.response_serializer,
    }
    if handler.unary_unary:
        return grpc.unary_unary_rpc_method_handler(refuse, **serializers)
    if handler.unary_stream:
        return grpc.unary_stream_rpc_method_handler(refuse, **serializers)
    if handler.stream_unary:
        return grpc.stream_unary_rpc_method_handler(refuse, **serializers)
    return grpc.stream_stream_rpc_method_handler(refuse, **serializers)
