"""The Python search side's fixtures on the session's Elasticsearch node (conftest.py's
elasticsearch_node): elasticsearch-py's client, the sample corpus in an index of its own, and
gateways in front of the node. Test modules import what they use; imported into several
modules, a fixture is made once per module, hence module scope."""

from __future__ import annotations

import pytest
from elasticsearch import Elasticsearch
from rerank_client.gateway.settings import GatewaySettings
from rerank_client.gateway.testing import running_gateway

INDEX = "search-side-articles"  # not the plugin tests' index: they reload theirs
QUERY = "giant panda bear bamboo china"
MATCH = {"match": {"body": QUERY}}
FIELDS = ("title", "body")


@pytest.fixture(scope="module")
def es(elasticsearch_node):
    client = Elasticsearch(elasticsearch_node.url, request_timeout=60)
    yield client
    client.close()


@pytest.fixture(scope="module")
def es_articles(elasticsearch_node):
    """The name of an index of 2 shards holding tests/data/search_corpus.jsonl."""
    elasticsearch_node.load_corpus(INDEX, shards=2)
    return INDEX


@pytest.fixture(scope="module")
def es_gateway_url(elasticsearch_node, rerank_address, es_articles):
    """A gateway with --engine elasticsearch and --passthrough all, on the session's reranker."""
    settings = GatewaySettings(
        opensearch_url=elasticsearch_node.url, engine="elasticsearch", reranker_address=rerank_address,
        port=0, passthrough="all",
    )
    with running_gateway(settings) as url:
        yield url


@pytest.fixture
def es_gateway_of_gated_reranker(elasticsearch_node, es_articles, gated_reranker):
    """A gateway found by --engine auto, on a reranker of its own (conftest.py's gated_reranker)."""
    handle, _ = gated_reranker
    settings = GatewaySettings(
        opensearch_url=elasticsearch_node.url, engine="auto", reranker_address=handle.address, port=0
    )
    with running_gateway(settings) as url:
        yield url


def ids(response) -> list[str]:
    return [hit["_id"] for hit in response["hits"]["hits"]]


def scored(response) -> list[tuple[str, float]]:
    return [(hit["_id"], hit["_score"]) for hit in response["hits"]["hits"]]


def bm25(es: Elasticsearch, index: str, size: int) -> list[dict]:
    """The engine's own hits, as elasticsearch-py returns them."""
    return es.search(index=index, query=MATCH, size=size)["hits"]["hits"]
