"""A request's body, read within --max-body-bytes, gzip undone (opensearch-py's
http_compress sends gzip) and counted after that, so a small bomb cannot grow past it."""

from __future__ import annotations

import zlib

from starlette.requests import Request

from .errors import GatewayRefusal, RequestTooLarge, UnsupportedContentEncoding

_LIMIT_FLAG = "--max-body-bytes"


async def read_body(request: Request, max_bytes: int) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and (len(declared) > 18 or int(declared) > max_bytes):
        raise RequestTooLarge(_too_large(declared, max_bytes))
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise RequestTooLarge(_too_large(f"over {max_bytes}", max_bytes))
        chunks.append(chunk)
    body = b"".join(chunks)
    encoding = request.headers.get("content-encoding", "").strip().lower()
    if encoding in ("", "identity") or not body:
        return body
    if encoding in ("gzip", "x-gzip"):
        return _gunzip(body, max_bytes)
    raise UnsupportedContentEncoding(
        f"the gateway reads bodies sent plain or with 'content-encoding: gzip', not {encoding!r}"
    )


def _gunzip(body: bytes, max_bytes: int) -> bytes:
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        plain = inflater.decompress(body, max_bytes + 1)
    except zlib.error as error:
        raise GatewayRefusal(f"the gzip body cannot be read ({error}): send it plain or as valid gzip") from None
    if len(plain) > max_bytes:
        raise RequestTooLarge(_too_large(f"over {max_bytes} (once gunzipped)", max_bytes))
    if not inflater.eof:
        raise GatewayRefusal("the gzip body ends early: send it whole")
    if inflater.unused_data:
        raise GatewayRefusal("the body has bytes after its gzip stream: send one gzip stream")
    return plain


def _too_large(size: str, max_bytes: int) -> str:
    return f"the body has {size} bytes, over the gateway's limit of {max_bytes} ({_LIMIT_FLAG})"
