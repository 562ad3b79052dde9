"""API keys: callers send 'Authorization: Bearer <key>'; GET /_rerank/health stays open
so orchestrators can probe without a key.

The same rules as the server's keys (rerank_server/auth.py), written again here because
plugin_client never imports the server.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from .errors import error_response

OPEN_PATHS = ("/_rerank/health",)
MISSING_KEY = "this gateway needs an API key: send the header 'Authorization: Bearer <key>'"
WRONG_KEY = "the API key is not valid for this gateway"


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


class RequireApiKey:
    """Refuses requests without a valid key with 401, before their body is read."""

    def __init__(self, app: ASGIApp, keys: ApiKeys) -> None:
        self.app = app
        self.keys = keys

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self.keys and scope["path"] not in OPEN_PATHS:
            problem = self.keys.problem(Headers(scope=scope).get("authorization"))
            if problem:
                response = error_response(401, "unauthenticated", problem)
                response.headers["www-authenticate"] = 'Bearer realm="rerank-gateway"'
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
