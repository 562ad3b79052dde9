"""The gateway's clients of the search engine and of the reranker, opened for the app's lifetime."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from elasticsearch import AsyncElasticsearch
from opensearchpy import AIOHttpConnection, AsyncOpenSearch

from ..client import AsyncRerankClient
from .proxy import EVERY_STATUS
from .engines import AUTO, ELASTICSEARCH, ENGINES, UNKNOWN, Engine, engine_of_answer
from .settings import GatewaySettings, elasticsearch_client_args, opensearch_client_args, reranker_client_args


@dataclass
class Backends:
    settings: GatewaySettings
    passthrough: AIOHttpConnection
    """For proxied requests (and GET / and health): one plain HTTP connection to the engine,
    whichever it is, that hands back any status, headers and body untouched."""
    reranker: AsyncRerankClient
    engine: Engine | None = None
    """None until --engine auto has asked the engine which it is."""
    _search_client: Any = None
    _detecting: asyncio.Lock = field(default_factory=asyncio.Lock)

    @classmethod
    def open(cls, settings: GatewaySettings) -> Backends:
        """Must run inside the event loop that will use the clients."""
        backends = cls(
            settings=settings,
            passthrough=AIOHttpConnection(**opensearch_client_args(settings), timeout=settings.opensearch_timeout_s),
            reranker=AsyncRerankClient(
                settings.reranker_address, timeout=settings.rerank_timeout_ms / 1000, **reranker_client_args(settings)
            ),
        )
        if settings.engine != AUTO:
            backends._use(ENGINES[settings.engine])
        return backends

    @property
    def engine_or_unknown(self) -> Engine:
        return self.engine or UNKNOWN

    async def search_client(self) -> Any:
        """The engine's own asyncio client (AsyncOpenSearch or AsyncElasticsearch), for searches:
        its retries and its errors. Under --engine auto the first call asks GET / which engine
        it is; raises EngineUnknown when the answer does not say, or the connection's error."""
        if self._search_client is None:
            async with self._detecting:
                if self._search_client is None:
                    status, headers, text = await self.passthrough.perform_request("GET", "/", ignore=EVERY_STATUS)
                    self._use(engine_of_answer(status, headers, text))
        return self._search_client

    def _use(self, engine: Engine) -> None:
        self.engine = engine
        self._search_client = _open_search_client(engine, self.settings)

    async def close(self) -> None:
        if self._search_client is not None:
            await self._search_client.close()
        await self.passthrough.close()
        await self.reranker.close()


def _open_search_client(engine: Engine, settings: GatewaySettings) -> Any:
    if engine is ELASTICSEARCH:
        return AsyncElasticsearch(**elasticsearch_client_args(settings), request_timeout=settings.opensearch_timeout_s)
    return AsyncOpenSearch(hosts=[opensearch_client_args(settings)], timeout=settings.opensearch_timeout_s)
