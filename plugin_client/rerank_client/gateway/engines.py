"""The search engines the gateway fronts (--engine opensearch|elasticsearch|auto): what tells
them apart, the client each is searched with, and what the gateway adds to its own answers
so each engine's clients accept them.

    opensearch     opensearch-py's AsyncOpenSearch (the default)
    elasticsearch  elasticsearch-py's AsyncElasticsearch (8.x); the gateway's own answers carry
                   X-Elastic-Product: Elasticsearch, without which that client refuses a 2xx answer
    auto           asks GET / once, when first needed: Elasticsearch sends X-Elastic-Product on
                   every answer, OpenSearch says version.distribution "opensearch"

Proxied requests go through one plain HTTP connection either way (proxy.py), so the engine's
answers, its headers included, come back as they were.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .errors import EngineUnknown

AUTO = "auto"
PRODUCT_HEADER = "x-elastic-product"


@dataclass(frozen=True)
class Engine:
    name: str
    """The --engine value; also its key in GET /_rerank/health and in error types."""
    title: str
    own_headers: tuple[tuple[str, str], ...] = ()
    """Headers on the answers the gateway writes itself (reranked searches, errors, health)."""


OPENSEARCH = Engine("opensearch", "OpenSearch")
ELASTICSEARCH = Engine("elasticsearch", "Elasticsearch", ((PRODUCT_HEADER, "Elasticsearch"),))
UNKNOWN = Engine("search_engine", "the search engine")
"""Stands for the engine in errors and health while --engine auto has not reached it yet."""
ENGINES = {engine.name: engine for engine in (OPENSEARCH, ELASTICSEARCH)}
ENGINE_CHOICES = (*ENGINES, AUTO)


def engine_of_answer(status: int, headers: Mapping[str, str], text: str) -> Engine:
    """Which engine answered GET / with this status, headers (case-insensitive, or lower-case names) and body."""
    if headers.get(PRODUCT_HEADER) == "Elasticsearch":
        return ELASTICSEARCH
    try:
        info = json.loads(text) if status == 200 else None
    except ValueError:
        info = None
    version = info.get("version") if isinstance(info, dict) else None
    if isinstance(version, dict) and version.get("distribution") == "opensearch":
        return OPENSEARCH
    raise EngineUnknown(
        f"--engine auto could not tell OpenSearch from Elasticsearch: GET / answered {status} without "
        "X-Elastic-Product and without version.distribution 'opensearch'; set --engine opensearch or "
        "--engine elasticsearch (RERANK_GATEWAY_ENGINE)"
    )


class EngineHeaders:
    """Adds the engine's own headers to every answer that lacks them: the gateway's own answers;
    proxied ones already carry what the engine sent."""

    def __init__(self, app: ASGIApp, engine: Callable[[Scope], Engine | None]) -> None:
        self.app = app
        self.engine = engine

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_engine_headers(message: Message) -> None:
            engine = self.engine(scope) if message["type"] == "http.response.start" else None
            if engine is not None and engine.own_headers:
                headers = MutableHeaders(scope=message)
                for name, value in engine.own_headers:
                    if name not in headers:
                        headers.append(name, value)
            await send(message)

        await self.app(scope, receive, with_engine_headers)
