"""The gateway's clients of OpenSearch and of the reranker, opened for the app's lifetime."""

from __future__ import annotations

from dataclasses import dataclass

from opensearchpy import AIOHttpConnection, AsyncOpenSearch

from ..client import AsyncRerankClient
from .settings import GatewaySettings, opensearch_client_args, reranker_client_args


@dataclass
class Backends:
    opensearch: AsyncOpenSearch
    """For searches and health: opensearch-py's client, with its retries and errors."""
    passthrough: AIOHttpConnection
    """For proxied requests: one connection that hands back any status, headers and body untouched."""
    reranker: AsyncRerankClient

    @classmethod
    def open(cls, settings: GatewaySettings) -> Backends:
        """Must run inside the event loop that will use the clients."""
        connection_args = opensearch_client_args(settings)
        return cls(
            opensearch=AsyncOpenSearch(hosts=[connection_args], timeout=settings.opensearch_timeout_s),
            passthrough=AIOHttpConnection(**connection_args, timeout=settings.opensearch_timeout_s),
            reranker=AsyncRerankClient(
                settings.reranker_address, timeout=settings.rerank_timeout_ms / 1000, **reranker_client_args(settings)
            ),
        )

    async def close(self) -> None:
        await self.opensearch.close()
        await self.passthrough.close()
        await self.reranker.close()
