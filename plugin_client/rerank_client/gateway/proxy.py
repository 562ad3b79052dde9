"""Forwards an admitted request to the engine (OpenSearch or Elasticsearch) and hands back
its answer unchanged.

Of the caller's headers only those that describe the request or trace it go on; the
caller's Authorization only when the gateway is told to forward it. Anything else a
caller might send to borrow an identity (proxy-auth user and role headers, a tenant,
X-Forwarded-For) stays at the gateway.
"""

from __future__ import annotations

from opensearchpy import AIOHttpConnection
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import Response

# Sent with every forwarded request, reranked searches included.
_TRACING_HEADERS = ("x-opaque-id", "traceparent", "tracestate")
# Sent with proxied requests, whose bodies and answers go through as they are.
_PROXIED_HEADERS = ("content-type", "accept", "user-agent", *_TRACING_HEADERS)
# Hop-by-hop headers (RFC 9110 section 7.6.1) belong to one connection, not the
# message; the lengths and encodings are recomputed for the bytes this hop sends.
_HOP_HEADERS = {
    "connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade",
    "host", "content-length", "accept-encoding", "content-encoding",
}
# The connection raises on statuses it is not told to ignore; a proxy passes them all.
EVERY_STATUS = range(100, 600)


def upstream_headers(headers: Headers, forward_authorization: bool, *, proxied: bool) -> dict[str, str]:
    """The caller's headers that go on to OpenSearch."""
    names = _PROXIED_HEADERS if proxied else _TRACING_HEADERS
    if forward_authorization:
        names = (*names, "authorization")
    return {name: headers[name] for name in names if name in headers}


async def forward(
    connection: AIOHttpConnection, request: Request, body: bytes, forward_authorization: bool
) -> Response:
    status, response_headers, text = await connection.perform_request(
        request.method,
        request.scope["raw_path"].decode("latin-1"),  # still percent-encoded, as the client sent it
        params=request.query_params.multi_items(),
        body=body or None,
        headers=upstream_headers(request.headers, forward_authorization, proxied=True),
        ignore=EVERY_STATUS,
    )
    response = Response(text.encode("utf-8"), status_code=status)
    for name, value in response_headers.items():
        if name.lower() not in _HOP_HEADERS:
            response.headers.append(name, value)
    return response
