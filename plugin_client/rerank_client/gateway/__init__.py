"""rerank-gateway: OpenSearch's or Elasticsearch's HTTP API with reranked searches (ext.rerank).

    rerank-gateway --opensearch-url http://127.0.0.1:9200 --reranker-address 127.0.0.1:50051
    rerank-gateway --engine elasticsearch --opensearch-url http://127.0.0.1:9200 ...
"""

from .app import create_app
from .settings import GatewaySettings

__all__ = ["GatewaySettings", "create_app"]
