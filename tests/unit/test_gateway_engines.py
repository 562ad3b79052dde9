"""The gateway in front of either engine (--engine opensearch|elasticsearch|auto), against
stand-in engines that record what reaches them and a reranker that is not there (so searches
fail open): elasticsearch-py's client accepts the gateway's answers, auto asks GET / once,
wrong or absent engines answer precise errors, and the engine's client logs no query text."""

from __future__ import annotations

import io
import json
import logging

import httpx
import pytest
from elasticsearch import Elasticsearch
from rerank_client.gateway.cli import describe, parse_settings
from rerank_client.gateway.engines import ELASTICSEARCH, OPENSEARCH, engine_of_answer
from rerank_client.gateway.errors import EngineUnknown
from rerank_client.gateway.passthrough import required_class
from rerank_client.gateway.settings import GatewaySettings, elasticsearch_client_args
from rerank_client.gateway.testing import fake_opensearch, running_gateway, unused_port

KEY = "gateway-key-es"
RERANK = {"query_context": {"query_text": "giant panda"}, "document_fields": ["title"]}
RERANKED = {"query": {"match_all": {}}, "size": 3, "ext": {"rerank": RERANK}}


def settings_for(url: str, **settings) -> GatewaySettings:
    return GatewaySettings(
        opensearch_url=url, reranker_address=f"127.0.0.1:{unused_port()}", port=0, health_timeout_s=1.0, **settings
    )


@pytest.fixture(scope="module")
def fake_es():
    with fake_opensearch(elasticsearch=True) as fake:
        yield fake


@pytest.fixture(scope="module")
def fake_os():
    with fake_opensearch() as fake:
        yield fake


@pytest.fixture(scope="module")
def es_gateway(fake_es):
    with running_gateway(settings_for(fake_es.url, engine="elasticsearch", passthrough="all")) as url:
        yield url


def call(method: str, url: str, body: dict | None = None, **kwargs) -> httpx.Response:
    return httpx.request(method, url, json=body, timeout=30, **kwargs)


# --- in front of Elasticsearch -----------------------------------------------------------------


def test_elasticsearch_pys_client_takes_a_reranked_search_from_the_gateway(es_gateway):
    with Elasticsearch(es_gateway, request_timeout=30) as es:
        response = es.search(index="articles", body=RERANKED)
    assert response.meta.headers["x-elastic-product"] == "Elasticsearch"
    assert [hit["_id"] for hit in response["hits"]["hits"]] == ["0", "1", "2"]  # failed open: the engine's order
    assert response["ext"]["rerank"]["status"] == "skipped: reranker unavailable"


def test_the_search_reaches_elasticsearch_through_its_own_client(es_gateway, fake_es):
    fake_es.requests.clear()
    call("POST", f"{es_gateway}/articles/_search?routing=r1", RERANKED, headers={"x-opaque-id": "t-9"})
    (request,) = fake_es.requests
    assert request.path == "/articles/_search?routing=r1"
    assert request.headers["accept"] == "application/vnd.elasticsearch+json; compatible-with=8"
    assert request.headers["x-opaque-id"] == "t-9" and "ext" not in json.loads(request.body)


def test_elasticsearch_pys_client_works_through_the_gateway_for_other_calls_too(es_gateway, fake_es):
    with Elasticsearch(es_gateway, request_timeout=30) as es:
        assert es.info()["tagline"] == "You Know, for Search"
        assert es.search(index="articles", size=2)["hits"]["hits"][1]["_id"] == "1"  # proxied
        assert es.indices.create(index="scratch", mappings={})["acknowledged"]  # proxied (--passthrough all)
    assert fake_es.requests[-1].headers["content-type"] == "application/vnd.elasticsearch+json; compatible-with=8"


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("GET", "/_rerank/health", None, 200),
        ("POST", "/articles/_search", {"ext": {"rerank": {**RERANK, "mode": "best"}}}, 400),
        ("POST", "/articles/_search", {"ext": {"rerank": RERANK}, "size": 2000}, 400),
    ],
)
def test_the_gateways_own_answers_carry_the_product_header(es_gateway, method, path, body, status):
    response = call(method, f"{es_gateway}{path}", body)
    assert response.status_code == status
    assert response.headers["x-elastic-product"] == "Elasticsearch"


def test_a_refused_key_carries_the_product_header_too(fake_es):
    with running_gateway(settings_for(fake_es.url, engine="elasticsearch", api_keys=(KEY,))) as url:
        response = call("POST", f"{url}/articles/_search", RERANKED)
    assert response.status_code == 401 and response.headers["x-elastic-product"] == "Elasticsearch"


def test_in_front_of_opensearch_no_product_header_is_added(fake_os):
    with running_gateway(settings_for(fake_os.url)) as url:
        response = call("POST", f"{url}/articles/_search", RERANKED)
    assert response.status_code == 200 and "x-elastic-product" not in response.headers


def test_health_names_elasticsearch(es_gateway):
    body = call("GET", f"{es_gateway}/_rerank/health").json()
    assert body["status"] == "degraded"
    assert body["elasticsearch"] == {"status": "green", "cluster_name": "fake-opensearch"}
    assert "opensearch" not in body


def test_elasticsearch_set_in_front_of_opensearch_answers_502_saying_so(fake_os):
    with running_gateway(settings_for(fake_os.url, engine="elasticsearch")) as url:
        response = call("POST", f"{url}/articles/_search", RERANKED)
    assert response.status_code == 502
    assert response.json()["error"]["type"] == "not_elasticsearch"
    assert "--engine opensearch" in response.json()["error"]["reason"]


def test_an_unreachable_elasticsearch_answers_502_and_health_503_naming_it():
    with running_gateway(settings_for(f"http://127.0.0.1:{unused_port()}", engine="elasticsearch")) as url:
        search = call("POST", f"{url}/articles/_search", RERANKED)
        proxied = call("GET", f"{url}/articles/_count")
        health = call("GET", f"{url}/_rerank/health")
    for response in (search, proxied):
        assert response.status_code == 502
        assert response.json()["error"]["type"] == "elasticsearch_unreachable"
        assert "from Elasticsearch" in response.json()["error"]["reason"]
    assert health.status_code == 503 and health.json()["elasticsearch"]["status"] == "unreachable"


# --- --engine auto -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("flavour", "engine"), [("elasticsearch", "elasticsearch"), ("opensearch", "opensearch")])
def test_auto_asks_the_engine_once_and_uses_its_client(flavour, engine):
    with fake_opensearch(elasticsearch=flavour == "elasticsearch") as fake, running_gateway(
        settings_for(fake.url, engine="auto")
    ) as url:
        call("GET", f"{url}/articles/_count")  # proxied: needs no engine
        assert fake.requests[0].path == "/articles/_count"
        statuses = [call("POST", f"{url}/articles/_search", RERANKED).json()["ext"]["rerank"]["status"] for _ in "abc"]
        health = call("GET", f"{url}/_rerank/health").json()
    assert statuses == ["skipped: reranker unavailable"] * 3
    assert [request.path for request in fake.requests].count("/") == 1
    searches = [request for request in fake.requests if request.path == "/articles/_search"]
    compatible = [r.headers.get("accept", "").startswith("application/vnd.elasticsearch") for r in searches]
    assert compatible == [engine == "elasticsearch"] * 3
    assert health[engine]["status"] == "green"


def test_auto_with_nothing_there_answers_502_and_tries_again_later():
    with running_gateway(settings_for(f"http://127.0.0.1:{unused_port()}", engine="auto")) as url:
        search = call("POST", f"{url}/articles/_search", RERANKED)
        health = call("GET", f"{url}/_rerank/health")
    assert search.status_code == 502 and search.json()["error"]["type"] == "search_engine_unreachable"
    assert health.status_code == 503 and health.json()["search_engine"]["status"] == "unreachable"


@pytest.mark.parametrize(
    ("status", "headers", "text", "engine"),
    [
        (200, {"x-elastic-product": "Elasticsearch"}, '{"tagline": "You Know, for Search"}', ELASTICSEARCH),
        (401, {"x-elastic-product": "Elasticsearch"}, '{"error": "security_exception"}', ELASTICSEARCH),
        (200, {}, '{"version": {"distribution": "opensearch", "number": "2.19.6"}}', OPENSEARCH),
    ],
)
def test_engine_of_answer(status, headers, text, engine):
    assert engine_of_answer(status, headers, text) is engine


@pytest.mark.parametrize(
    ("status", "text"),
    [(200, '{"version": {"number": "7.10.2"}}'), (401, '{"error": "unauthorized"}'), (200, "<html>"), (200, "[]")],
)
def test_an_answer_that_names_no_engine_asks_for_the_flag(status, text):
    with pytest.raises(EngineUnknown, match="set --engine opensearch or --engine elasticsearch"):
        engine_of_answer(status, {}, text)


# --- settings, the allow-list, logs ------------------------------------------------------------


def test_the_engine_comes_from_the_flag_or_the_environment(capsys):
    assert parse_settings([], {}).engine == "opensearch"
    assert parse_settings(["--engine", "elasticsearch"], {}).engine == "elasticsearch"
    assert parse_settings([], {"RERANK_GATEWAY_ENGINE": "auto"}).engine == "auto"
    with pytest.raises(SystemExit):
        parse_settings(["--engine", "solr"], {})
    assert "invalid choice: 'solr'" in capsys.readouterr().err
    with pytest.raises(ValueError, match="engine must be one of opensearch, elasticsearch, auto"):
        GatewaySettings(engine="solr")
    shown = describe(GatewaySettings(opensearch_url="http://es:9200", engine="elasticsearch"))
    assert "-> Elasticsearch http://es:9200" in shown


def test_elasticsearch_gets_the_same_node_credentials_and_ca(tmp_path):
    settings = GatewaySettings(
        opensearch_url="https://search.local/prefix/", opensearch_user="gw", opensearch_password="pw",
        opensearch_ca_file=str(tmp_path / "ca.pem"), engine="elasticsearch",
    )
    assert elasticsearch_client_args(settings) == {
        "hosts": [{"scheme": "https", "host": "search.local", "port": 9200, "path_prefix": "/prefix"}],
        "basic_auth": ("gw", "pw"),
        "ca_certs": str(tmp_path / "ca.pem"),
    }
    in_url = elasticsearch_client_args(GatewaySettings(opensearch_url="http://a:b%40c@h:9201"))
    assert in_url == {
        "hosts": [{"scheme": "http", "host": "h", "port": 9201, "path_prefix": ""}], "basic_auth": ("a", "b@c")
    }


def test_elasticsearchs_point_in_time_is_a_search_clients_call():
    assert required_class("POST", ["articles", "_pit"], [("keep_alive", "1m")], b"") == "search"
    assert required_class("DELETE", ["_pit"], [], b'{"id": "abc"}') == "search"
    assert required_class("POST", ["_pit"], [], b"") == "all"


def test_elasticsearch_pys_logs_hold_no_query_text(fake_es, caplog):
    secret = "urlquery-93fd-private"
    node_log, node_logger = io.StringIO(), logging.getLogger("elastic_transport.node")
    handler = logging.StreamHandler(node_log)
    node_logger.addHandler(handler)  # elasticsearch-py dumps bodies here only when it has a handler
    try:
        with caplog.at_level(logging.DEBUG), running_gateway(settings_for(fake_es.url, engine="elasticsearch")) as url:
            body = {**RERANKED, "query": {"match": {"title": secret}}}
            assert call("POST", f"{url}/articles/_search", body, params={"q": secret}).status_code == 200
    finally:
        node_logger.removeHandler(handler)
    lines = [r.getMessage() for r in caplog.records if not r.name.startswith(("httpx", "httpcore"))]
    assert any("/articles/_search [status:200" in line for line in lines)  # elasticsearch-py's call was logged
    assert not [line for line in lines if secret in line]
    assert secret not in node_log.getvalue()
