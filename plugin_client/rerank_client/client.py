"""Sync and asyncio clients of the rerank.v1 service.

    with RerankClient("127.0.0.1:50051") as client:
        response = client.rerank("what is a panda?", ["The giant panda is a bear.", "hi"], top_n=1)
        print(response.results[0].score)

Errors raise a RerankError subclass named after the gRPC status, carrying the
status and the server's message, which says what to fix.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Union

import grpc
from rerank.v1 import rerank_pb2, rerank_pb2_grpc

DocumentInput = Union[str, tuple[str, str]]
"""A document is its text, or an (id, text) pair; a bare text gets its index as id."""

DEFAULT_TIMEOUT = 30.0

# gRPC retries calls that never reached the server (UNAVAILABLE) with backoff;
# other statuses are final or depend on the caller (deadline, overload).
_SERVICE_CONFIG = json.dumps(
    {
        "methodConfig": [
            {
                "name": [{"service": "rerank.v1.Reranker"}],
                "retryPolicy": {
                    "maxAttempts": 3,
                    "initialBackoff": "0.1s",
                    "maxBackoff": "1s",
                    "backoffMultiplier": 2,
                    "retryableStatusCodes": ["UNAVAILABLE"],
                },
            }
        ]
    }
)


@dataclass(frozen=True)
class RerankResult:
    index: int
    """Position of the document in the request."""
    id: str
    score: float
    """Sigmoid of the relevance logit in [0, 1], or the raw logit with raw_scores=True."""
    text: str | None = None
    """The document text, when return_text=True."""


@dataclass(frozen=True)
class RerankResponse:
    results: list[RerankResult]
    """Best first; equal scores keep request order."""
    model: str
    pairs: int
    tokens: int
    cached_pairs: int
    request_id: str = ""
    """The server's id of this call (the one sent, or one it made): quote it in bug reports."""
    server_timing: str = ""
    """Where the server's time went, e.g. "tokenize;dur=0.41, queue;dur=1.20, inference;dur=25.30" (ms)."""


@dataclass(frozen=True)
class ModelInfo:
    name: str
    source: str
    kind: str
    dtype: str
    device: str
    default_max_length: int
    max_max_length: int
    default_prompt: str


@dataclass(frozen=True)
class ServerInfo:
    models: list[ModelInfo]
    default_model: str
    max_documents: int
    batch_size: int


class RerankError(Exception):
    """A call failed; `code` is the gRPC status, `details` the server's message."""

    def __init__(self, code: grpc.StatusCode, details: str) -> None:
        super().__init__(f"{code.name}: {details}")
        self.code = code
        self.details = details


class InvalidArgumentError(RerankError):
    """The request is wrong (empty query, too many documents, bad max_length); fix it."""


class ModelNotFoundError(RerankError):
    """The server does not serve the requested model; the message lists those it does."""


class OverloadedError(RerankError):
    """The server's queue is full; retry later with backoff."""


class UnavailableError(RerankError):
    """The server is unreachable, still loading its model, or shutting down."""


class DeadlineExceededError(RerankError):
    """The call's timeout passed before the answer came."""


class UnauthenticatedError(RerankError):
    """The server wants credentials the call did not carry."""


_ERRORS: dict[grpc.StatusCode, type[RerankError]] = {
    grpc.StatusCode.INVALID_ARGUMENT: InvalidArgumentError,
    grpc.StatusCode.NOT_FOUND: ModelNotFoundError,
    grpc.StatusCode.RESOURCE_EXHAUSTED: OverloadedError,
    grpc.StatusCode.UNAVAILABLE: UnavailableError,
    grpc.StatusCode.DEADLINE_EXCEEDED: DeadlineExceededError,
    grpc.StatusCode.UNAUTHENTICATED: UnauthenticatedError,
}


def error_from_rpc(error: grpc.RpcError) -> RerankError:
    code = error.code()
    return _ERRORS.get(code, RerankError)(code, error.details() or "")


def build_request(
    query: str,
    documents: Iterable[DocumentInput],
    *,
    top_n: int = 0,
    raw_scores: bool = False,
    return_text: bool = False,
    max_length: int = 0,
    prompt: str = "",
    model: str = "",
) -> rerank_pb2.RerankRequest:
    return rerank_pb2.RerankRequest(
        query=query,
        documents=[_document_pb(i, document) for i, document in enumerate(documents)],
        top_n=top_n,
        raw_scores=raw_scores,
        return_text=return_text,
        max_length=max_length,
        prompt=prompt,
        model=model,
    )


def _document_pb(index: int, document: DocumentInput) -> rerank_pb2.Document:
    if isinstance(document, str):
        return rerank_pb2.Document(id=str(index), text=document)
    doc_id, text = document
    return rerank_pb2.Document(id=str(doc_id), text=text)


def response_from_pb(
    response: rerank_pb2.RerankResponse, return_text: bool, trailing_metadata=()
) -> RerankResponse:
    metadata = dict(trailing_metadata or ())
    return RerankResponse(
        results=[
            RerankResult(index=r.index, id=r.id, score=r.score, text=r.text if return_text else None)
            for r in response.results
        ],
        model=response.model,
        pairs=response.usage.pairs,
        tokens=response.usage.tokens,
        cached_pairs=response.usage.cached_pairs,
        request_id=metadata.get("x-request-id", ""),
        server_timing=metadata.get("server-timing", ""),
    )


def info_from_pb(response: rerank_pb2.GetModelInfoResponse) -> ServerInfo:
    return ServerInfo(
        models=[
            ModelInfo(
                name=m.name,
                source=m.source,
                kind=m.kind,
                dtype=m.dtype,
                device=m.device,
                default_max_length=m.default_max_length,
                max_max_length=m.max_max_length,
                default_prompt=m.default_prompt,
            )
            for m in response.models
        ],
        default_model=response.default_model,
        max_documents=response.limits.max_documents,
        batch_size=response.limits.batch_size,
    )


class _ClientBase:
    """Channel, stub and call options shared by the sync and asyncio clients.

    tls=True (or any certificate) uses TLS with the system roots unless
    root_certificates is given; private_key and certificate_chain add a client
    certificate for mutual TLS. metadata is sent with every call (for example an
    ("authorization", "Bearer ...") pair). timeout is each call's deadline in
    seconds unless a call passes its own.
    """

    _grpc = grpc  # the channel factory module: grpc, or grpc.aio for the async client

    def __init__(
        self,
        target: str,
        *,
        tls: bool = False,
        root_certificates: bytes | None = None,
        private_key: bytes | None = None,
        certificate_chain: bytes | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        metadata: Sequence[tuple[str, str]] | None = None,
        options: Sequence[tuple[str, object]] = (),
    ) -> None:
        self.timeout = timeout
        self._metadata = tuple(metadata or ())
        channel_options = [("grpc.service_config", _SERVICE_CONFIG), ("grpc.enable_retries", 1), *options]
        if tls or root_certificates or private_key or certificate_chain:
            credentials = grpc.ssl_channel_credentials(root_certificates, private_key, certificate_chain)
            self._channel = self._grpc.secure_channel(target, credentials, options=channel_options)
        else:
            self._channel = self._grpc.insecure_channel(target, options=channel_options)
        self._stub = rerank_pb2_grpc.RerankerStub(self._channel)

    def _call_options(self, timeout: float | None, request_id: str | None = None) -> dict:
        metadata = self._metadata + ((("x-request-id", request_id),) if request_id else ())
        return {"timeout": self.timeout if timeout is None else timeout, "metadata": metadata}


class RerankClient(_ClientBase):
    """Blocking client. Thread-safe; reuse one per process and close() it at the end."""

    def rerank(
        self,
        query: str,
        documents: Iterable[DocumentInput],
        *,
        top_n: int = 0,
        raw_scores: bool = False,
        return_text: bool = False,
        max_length: int = 0,
        prompt: str = "",
        model: str = "",
        timeout: float | None = None,
        request_id: str | None = None,
    ) -> RerankResponse:
        """Orders documents by relevance to query, best first; top_n=0 keeps all.
        request_id (optional) is logged by the server and echoed in the response."""
        request = build_request(
            query, documents, top_n=top_n, raw_scores=raw_scores, return_text=return_text,
            max_length=max_length, prompt=prompt, model=model,
        )
        try:
            response, call = self._stub.Rerank.with_call(request, **self._call_options(timeout, request_id))
        except grpc.RpcError as error:
            raise error_from_rpc(error) from None
        return response_from_pb(response, return_text, call.trailing_metadata())

    def model_info(self, model: str = "", *, timeout: float | None = None) -> ServerInfo:
        try:
            request = rerank_pb2.GetModelInfoRequest(model=model)
            response = self._stub.GetModelInfo(request, **self._call_options(timeout))
        except grpc.RpcError as error:
            raise error_from_rpc(error) from None
        return info_from_pb(response)

    def close(self) -> None:
        self._channel.close()

    def __enter__(self) -> RerankClient:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


class AsyncRerankClient(_ClientBase):
    """asyncio client with the same options as RerankClient; create it inside
    the event loop that uses it and `await close()` (or `async with`) at the end."""

    _grpc = grpc.aio

    async def rerank(
        self,
        query: str,
        documents: Iterable[DocumentInput],
        *,
        top_n: int = 0,
        raw_scores: bool = False,
        return_text: bool = False,
        max_length: int = 0,
        prompt: str = "",
        model: str = "",
        timeout: float | None = None,
        request_id: str | None = None,
    ) -> RerankResponse:
        """Orders documents by relevance to query, best first; top_n=0 keeps all.
        request_id (optional) is logged by the server and echoed in the response."""
        request = build_request(
            query, documents, top_n=top_n, raw_scores=raw_scores, return_text=return_text,
            max_length=max_length, prompt=prompt, model=model,
        )
        try:
            call = self._stub.Rerank(request, **self._call_options(timeout, request_id))
            response = await call
            trailing = await call.trailing_metadata()
        except grpc.RpcError as error:
            raise error_from_rpc(error) from None
        return response_from_pb(response, return_text, trailing)

    async def model_info(self, model: str = "", *, timeout: float | None = None) -> ServerInfo:
        try:
            request = rerank_pb2.GetModelInfoRequest(model=model)
            response = await self._stub.GetModelInfo(request, **self._call_options(timeout))
        except grpc.RpcError as error:
            raise error_from_rpc(error) from None
        return info_from_pb(response)

    async def close(self) -> None:
        await self._channel.close()

    async def __aenter__(self) -> AsyncRerankClient:
        return self

    async def __aexit__(self, *exc_info) -> None:
        await self.close()
