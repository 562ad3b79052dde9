"""rerank-gateway's least exposure in front of a real OpenSearch: every path class through the
default gateway (a search client's calls pass; writes, deletes, settings and plugin calls get
403 and change nothing), --passthrough read and what it still refuses, and a gateway with API
keys and TLS used by opensearch-py as an application would."""

from __future__ import annotations

import json

import pytest
import urllib3
from opensearchpy import AuthenticationException, OpenSearch, helpers
from opensearchpy.exceptions import SSLError
from rerank_client.gateway.settings import GatewaySettings
from rerank_client.gateway.testing import running_gateway

QUERY = "giant panda bear bamboo china"
RERANK = {"query_context": {"query_text": QUERY}, "document_fields": ["title", "body"]}
KEY = "integration-gateway-key"


@pytest.fixture
def via_gateway(gateway_url):
    """opensearch-py pointed at the default gateway (--passthrough search)."""
    client = OpenSearch(gateway_url, timeout=60)
    yield client
    client.close()


@pytest.fixture(scope="module")
def read_gateway(opensearch_url, rerank_address, articles):
    settings = GatewaySettings(
        opensearch_url=opensearch_url, reranker_address=rerank_address, port=0, passthrough="read"
    )
    with running_gateway(settings) as url:
        yield url


def call(method: str, url: str, body: dict | str | None = None, **fields) -> tuple[int, dict | str]:
    """(status, JSON or text) of one request; a str body is sent as NDJSON (_bulk)."""
    if isinstance(body, dict):
        payload = {"json": body}
    else:
        payload = {"body": body, "headers": {"content-type": "application/x-ndjson"}}
    response = urllib3.request(method, url, **payload, fields=fields or None, timeout=60, retries=False)
    try:
        return response.status, json.loads(response.data) if response.data else {}
    except ValueError:
        return response.status, response.data.decode()


# --- --passthrough search (the default) ----------------------------------------------------------------


def test_a_search_clients_calls_pass(via_gateway, opensearch, articles):
    assert via_gateway.info()["version"]["number"] == opensearch.info()["version"]["number"]
    assert via_gateway.ping()
    assert via_gateway.count(index=articles) == opensearch.count(index=articles)
    assert via_gateway.indices.get_mapping(index=articles) == opensearch.indices.get_mapping(index=articles)
    assert via_gateway.field_caps(index=articles, params={"fields": "title"})["fields"]["title"]
    searches = [{"index": articles}, {"query": {"match": {"body": QUERY}}, "size": 2}] * 2
    assert [len(r["hits"]["hits"]) for r in via_gateway.msearch(body=searches)["responses"]] == [2, 2]
    # (search templates pass too, but the test node has no lang-mustache module to run them)


def test_a_scroll_runs_to_its_end_and_is_cleared(via_gateway, opensearch, articles):
    # helpers.scan searches with ?scroll=, scrolls on, and clears its scroll id at the end.
    scanned = list(helpers.scan(via_gateway, index=articles, query={"query": {"match_all": {}}}, size=7))
    assert len(scanned) == opensearch.count(index=articles)["count"]


def test_a_point_in_time_is_opened_searched_and_closed(via_gateway, articles):
    pit = via_gateway.create_pit(index=articles, params={"keep_alive": "1m"})["pit_id"]
    body = {"size": 3, "query": {"match": {"body": QUERY}}, "pit": {"id": pit, "keep_alive": "1m"},
            "ext": {"rerank": RERANK}}
    reranked = via_gateway.search(body=body)
    assert len(reranked["hits"]["hits"]) == 3 and reranked["ext"]["rerank"]["status"] == "ok"
    assert via_gateway.delete_pit(body={"pit_id": [pit]})["pits"][0]["successful"]


REFUSED_BY_DEFAULT = [
    ("PUT", "/scratch", {"settings": {"number_of_replicas": 0}}),
    ("POST", "/articles/_doc", {"title": "planted"}),
    ("PUT", "/articles/_doc/planted", {"title": "planted"}),
    ("POST", "/_bulk", '{"index": {"_index": "articles"}}\n{"title": "planted"}\n'),
    ("POST", "/articles/_delete_by_query", {"query": {"match_all": {}}}),
    ("POST", "/articles/_update_by_query", {"script": {"source": "ctx._source.title = 'x'"}}),
    ("DELETE", "/articles", None),
    ("POST", "/articles/_close", None),
    ("PUT", "/articles/_settings", {"index": {"number_of_replicas": 3}}),
    ("PUT", "/_cluster/settings", {"persistent": {"search.default_search_timeout": "1s"}}),
    ("GET", "/_cluster/settings", None),
    ("GET", "/_cat/indices", None),
    ("GET", "/articles/_doc/1", None),
    ("POST", "/articles/_refresh", None),
    ("PUT", "/_search/pipeline/planted", {"response_processors": []}),
    ("PUT", "/_scripts/planted", {"script": {"lang": "painless", "source": "1"}}),
    ("GET", "/_plugins/grpc_rerank/stats", None),
    ("DELETE", "/_search/scroll/_all", None),
]


@pytest.mark.parametrize(
    ("method", "path", "body"), REFUSED_BY_DEFAULT, ids=[f"{m} {p}" for m, p, _ in REFUSED_BY_DEFAULT]
)
def test_anything_else_gets_403_naming_the_setting(gateway_url, method, path, body):
    status, answer = call(method, gateway_url + path, body)
    assert status == 403, answer
    assert answer["error"]["type"] == "passthrough_refused"
    assert "(--passthrough search)" in answer["error"]["reason"] and "needs --passthrough" in answer["error"]["reason"]


def test_refused_requests_change_nothing(gateway_url, opensearch, articles):
    before = opensearch.count(index=articles)["count"]
    settings_before = opensearch.cluster.get_settings()
    for method, path, body in REFUSED_BY_DEFAULT:
        call(method, gateway_url + path, body)
    opensearch.indices.refresh(index=articles)
    assert opensearch.count(index=articles)["count"] == before
    assert not opensearch.indices.exists(index="scratch")
    assert not opensearch.exists(index=articles, id="planted")
    assert opensearch.cluster.get_settings() == settings_before
    assert opensearch.indices.get_settings(index=articles)[articles]["settings"]["index"]["number_of_replicas"] == "0"


# --- --passthrough read --------------------------------------------------------------------------------


def test_read_passes_reads(read_gateway, opensearch, articles):
    some_id = opensearch.search(index=articles, body={"size": 1})["hits"]["hits"][0]["_id"]
    status, document = call("GET", f"{read_gateway}/{articles}/_doc/{some_id}")
    assert status == 200 and document["_id"] == some_id
    status, documents = call("POST", f"{read_gateway}/{articles}/_mget", {"ids": [some_id]})
    assert status == 200 and documents["docs"][0]["found"]
    status, indices = call("GET", f"{read_gateway}/_cat/indices", None, h="index")
    assert status == 200 and articles in indices.split()
    assert call("GET", f"{read_gateway}/_cluster/health")[0] == 200
    assert call("POST", f"{read_gateway}/{articles}/_search", {"size": 1, "ext": {"rerank": RERANK}})[0] == 200


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [("PUT", "/scratch", {}), ("POST", "/articles/_delete_by_query", {"query": {"match_all": {}}}),
     ("GET", "/articles/_refresh", None), ("PUT", "/_cluster/settings", {"persistent": {}})],
)
def test_read_still_refuses_writes_and_state_changes(read_gateway, method, path, body):
    status, answer = call(method, read_gateway + path, body)
    assert status == 403 and "(--passthrough read)" in answer["error"]["reason"]
    assert "needs --passthrough all" in answer["error"]["reason"]


# --- API keys and TLS, as an application meets them ----------------------------------------------------


@pytest.fixture(scope="module")
def guarded_gateway(opensearch_url, rerank_address, articles, pki):
    settings = GatewaySettings(
        opensearch_url=opensearch_url, reranker_address=rerank_address, port=0, api_keys=(KEY,),
        tls_cert=str(pki["cert"]), tls_key=str(pki["key"]),
    )
    with running_gateway(settings) as url:
        yield url


def test_an_application_with_the_key_and_the_ca_gets_reranked_searches(guarded_gateway, pki, articles):
    assert guarded_gateway.startswith("https://")
    client = OpenSearch(
        guarded_gateway, ca_certs=str(pki["ca"]), headers={"authorization": f"Bearer {KEY}"}, timeout=60
    )
    body = {"query": {"match": {"body": QUERY}}, "size": 3, "ext": {"rerank": RERANK}}
    assert client.search(index=articles, body=body)["ext"]["rerank"]["status"] == "ok"
    client.close()


def test_an_application_without_the_key_gets_401(guarded_gateway, pki, articles):
    client = OpenSearch(guarded_gateway, ca_certs=str(pki["ca"]), timeout=60)
    with pytest.raises(AuthenticationException) as raised:
        client.search(index=articles, body={"query": {"match_all": {}}})
    assert raised.value.status_code == 401 and "needs an API key" in str(raised.value.info)
    client.close()


def test_an_application_that_does_not_trust_the_ca_cannot_connect(guarded_gateway, articles):
    client = OpenSearch(guarded_gateway, headers={"authorization": f"Bearer {KEY}"}, timeout=10, max_retries=0)
    with pytest.raises(SSLError):
        client.search(index=articles, body={"query": {"match_all": {}}})
    client.close()
