"""The gateway without backends: settings, ext.rerank parsing, and its answers
when OpenSearch and the reranker are unreachable (a real socket, no OpenSearch)."""

from __future__ import annotations

import json

import pytest
import urllib3
from rerank_client.gateway.cli import parse_settings
from rerank_client.gateway.ext import InvalidRerankRequest, split_rerank_ext
from rerank_client.gateway.settings import GatewaySettings, opensearch_connection_args
from rerank_client.gateway.testing import running_gateway, unused_port

RERANK = {"query_context": {"query_text": "giant panda"}, "document_fields": ["title"]}


# --- settings -------------------------------------------------------------------------


def test_flags_win_over_the_environment_which_wins_over_defaults():
    settings = parse_settings(
        ["--port", "9999"],
        {"RERANK_GATEWAY_PORT": "1234", "RERANK_GATEWAY_RERANK_TIMEOUT_MS": "250"},
    )
    assert settings.port == 9999
    assert settings.rerank_timeout_ms == 250
    assert settings.opensearch_url == GatewaySettings().opensearch_url


def test_a_bad_opensearch_url_stops_the_cli_with_its_reason(capsys):
    with pytest.raises(SystemExit):
        parse_settings(["--opensearch-url", "localhost:9200"], {})
    assert "must look like http://host:9200" in capsys.readouterr().err


def test_credentials_in_the_url_become_basic_auth():
    assert opensearch_connection_args("https://admin:s%40cret@search.local/prefix/") == {
        "host": "search.local", "port": 9200, "use_ssl": True, "url_prefix": "/prefix",
        "http_auth": ("admin", "s@cret"),
    }


# --- ext.rerank --------------------------------------------------------------------------


def test_ext_rerank_is_removed_and_other_ext_sections_stay():
    body = {"query": {"match_all": {}}, "ext": {"rerank": RERANK, "other": {"a": 1}}}
    search_body, request = split_rerank_ext(body, default_timeout_ms=2000)
    assert search_body == {"query": {"match_all": {}}, "ext": {"other": {"a": 1}}}
    assert request.query_text == "giant panda"
    assert request.options.document_fields == ("title",)
    assert request.timeout_s == 2.0
    assert body["ext"]["rerank"] == RERANK  # the caller's body is not changed


def test_an_ext_with_only_rerank_goes_away_whole():
    search_body, _ = split_rerank_ext({"query": {}, "ext": {"rerank": RERANK}}, 2000)
    assert "ext" not in search_body


def test_the_query_text_can_come_from_a_path_in_the_body():
    body = {
        "query": {"bool": {"must": [{"match": {"title": {"query": "red panda"}}}]}},
        "ext": {"rerank": {**RERANK, "query_context": {"query_text_path": "query.bool.must.0.match.title.query"}}},
    }
    assert split_rerank_ext(body, 2000)[1].query_text == "red panda"


def test_options_and_timeout_come_from_ext_rerank():
    spec = {**RERANK, "mode": "combine", "score_mode": "max", "window_size": 7, "timeout_ms": 150, "strict": True}
    request = split_rerank_ext({"ext": {"rerank": spec}}, 2000)[1]
    assert (request.options.mode, request.options.score_mode, request.options.window_size) == ("combine", "max", 7)
    assert request.timeout_s == 0.15 and request.strict


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("yes", "ext.rerank must be an object"),
        ({**RERANK, "windowsize": 3}, r"unknown keys \['windowsize'\]"),
        ({**RERANK, "query_context": "panda"}, "query_context must be"),
        ({**RERANK, "query_context": {"query_text": ""}}, "must give a non-empty string"),
        ({**RERANK, "query_context": {"query_text_path": "query.match.body"}}, "the body has no 'match' there"),
        ({**RERANK, "query_context": {"query_text_path": "query"}}, "must give a non-empty string"),
        ({**RERANK, "window_size": -2}, "ext.rerank: window_size must be a positive integer"),
        ({**RERANK, "document_fields": "title"}, "must be a list of field names"),
        ({**RERANK, "timeout_ms": 0}, "timeout_ms must be a positive number"),
        ({**RERANK, "strict": "yes"}, "strict must be true or false"),
    ],
)
def test_a_bad_ext_rerank_says_what_to_fix(spec, message):
    body = {"query": {"match_all": {}}, "ext": {"rerank": spec}}
    with pytest.raises(InvalidRerankRequest, match=message):
        split_rerank_ext(body, 2000)


# --- over HTTP, with nothing behind the gateway ----------------------------------------------


@pytest.fixture(scope="module")
def lonely_gateway():
    settings = GatewaySettings(
        opensearch_url=f"http://127.0.0.1:{unused_port()}",
        reranker_address=f"127.0.0.1:{unused_port()}",
        port=0,
        health_timeout_s=1.0,
    )
    with running_gateway(settings) as url:
        yield url


def call(method: str, url: str, body: dict | None = None) -> tuple[int, dict]:
    response = urllib3.request(method, url, json=body, timeout=30, retries=False)
    return response.status, json.loads(response.data)


def test_a_search_answers_502_when_opensearch_is_unreachable(lonely_gateway):
    search = {"query": {"match_all": {}}, "ext": {"rerank": RERANK}}
    status, body = call("POST", f"{lonely_gateway}/articles/_search", search)
    assert status == 502
    assert body["error"]["type"] == "opensearch_unreachable"
    assert "--opensearch-url" in body["error"]["reason"]


def test_a_proxied_request_answers_502_when_opensearch_is_unreachable(lonely_gateway):
    status, body = call("GET", f"{lonely_gateway}/articles/_count")
    assert (status, body["status"], body["error"]["type"]) == (502, 502, "opensearch_unreachable")


def test_a_bad_ext_rerank_answers_400_before_searching(lonely_gateway):
    status, body = call("POST", f"{lonely_gateway}/articles/_search", {"ext": {"rerank": {**RERANK, "mode": "best"}}})
    assert status == 400
    assert body["error"] == {"type": "invalid_rerank_request", "reason": body["error"]["reason"]}
    assert "mode must be one of replace, combine, rrf" in body["error"]["reason"]


def test_a_bad_size_url_parameter_answers_400(lonely_gateway):
    status, body = call("POST", f"{lonely_gateway}/articles/_search?size=ten", {"ext": {"rerank": RERANK}})
    assert status == 400 and "URL parameter size" in body["error"]["reason"]


def test_health_is_503_when_opensearch_is_unreachable(lonely_gateway):
    status, body = call("GET", f"{lonely_gateway}/_rerank/health")
    assert status == 503
    assert body["status"] == "unavailable"
    assert body["opensearch"]["status"] == "unreachable"
    assert body["reranker"]["status"] == "unavailable"
