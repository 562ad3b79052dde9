"""Forwards a request to OpenSearch unchanged and hands back its answer unchanged."""

from __future__ import annotations

from opensearchpy import AIOHttpConnection
from starlette.requests import Request
from starlette.responses import Response

# Hop-by-hop headers (RFC 9110 section 7.6.1) belong to one connection, not the
# message; the lengths and encodings are recomputed for the bytes this hop sends.
_HOP_HEADERS = {
    "connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade",
    "host", "content-length", "accept-encoding", "content-encoding",
}
# The connection raises on statuses it is not told to ignore; a proxy passes them all.
_EVERY_STATUS = range(100, 600)


async def forward(connection: AIOHttpConnection, request: Request, body: bytes) -> Response:
    headers = {name: value for name, value in request.headers.items() if name not in _HOP_HEADERS}
    status, response_headers, text = await connection.perform_request(
        request.method,
        request.scope["raw_path"].decode("latin-1"),  # still percent-encoded, as the client sent it
        params=request.query_params.multi_items(),
        body=body or None,
        headers=headers,
        ignore=_EVERY_STATUS,
    )
    response = Response(text.encode("utf-8"), status_code=status)
    for name, value in response_headers.items():
        if name.lower() not in _HOP_HEADERS:
            response.headers.append(name, value)
    return response
