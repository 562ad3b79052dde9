"""The gateway guarding itself, in front of a stand-in OpenSearch that records what reaches it:
API keys, whose credentials go upstream, which caller headers go on, TLS and mutual TLS on its
listener, no query text in its logs, and the settings behind all of it."""

from __future__ import annotations

import base64
import logging
import ssl

import httpx
import pytest
from rerank_client.gateway.cli import build_parser, describe, parse_settings
from rerank_client.gateway.settings import GatewaySettings
from rerank_client.gateway.testing import fake_opensearch, running_gateway, unused_port

KEY = "gateway-key-1"
RERANK = {"query_context": {"query_text": "giant panda"}, "document_fields": ["title"]}
SEARCH = {"query": {"match_all": {}}, "size": 3}


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def bearer(key: str) -> dict[str, str]:
    return {"authorization": f"Bearer {key}"}


@pytest.fixture(scope="module")
def fake():
    with fake_opensearch() as fake:
        yield fake


@pytest.fixture
def received(fake):
    """What reaches OpenSearch during the test."""
    fake.requests.clear()
    return fake.requests


def gateway(fake, **settings) -> GatewaySettings:
    return GatewaySettings(
        opensearch_url=fake.url, reranker_address=f"127.0.0.1:{unused_port()}", port=0, health_timeout_s=1.0,
        **settings,
    )


@pytest.fixture(scope="module")
def keyed_gateway(fake):
    settings = gateway(fake, api_keys=(KEY, "gateway-key-2"), opensearch_user="gateway", opensearch_password="pw")
    with running_gateway(settings) as url:
        yield url


# --- API keys ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({}, "needs an API key"),
        ({"authorization": "Bearer"}, "needs an API key"),
        ({"authorization": basic("gateway", "pw")}, "needs an API key"),
        (bearer("wrong"), "not valid"),
        (bearer(KEY[:-1]), "not valid"),
    ],
    ids=["missing", "bearer without a key", "basic auth", "wrong", "a prefix of a key"],
)
def test_a_request_without_a_valid_key_gets_401_and_reaches_nothing(keyed_gateway, received, headers, reason):
    response = httpx.post(f"{keyed_gateway}/articles/_search", json=SEARCH, headers=headers)
    assert response.status_code == 401
    assert response.json()["error"]["type"] == "unauthenticated" and reason in response.json()["error"]["reason"]
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert received == []


def test_every_key_is_accepted_whatever_the_schemes_case(keyed_gateway, received):
    for headers in (bearer(KEY), bearer("gateway-key-2"), {"authorization": f"bearer {KEY}"}):
        assert httpx.post(f"{keyed_gateway}/articles/_search", json=SEARCH, headers=headers).status_code == 200
    assert len(received) == 3


def test_health_needs_no_key(keyed_gateway):
    response = httpx.get(f"{keyed_gateway}/_rerank/health", timeout=30)
    assert response.status_code == 200 and response.json()["opensearch"]["status"] == "green"


# --- what goes upstream ------------------------------------------------------------------------------


CALLER_HEADERS = {
    "x-opaque-id": "trace-1",
    "x-proxy-user": "admin",
    "x-proxy-roles": "all_access",
    "x-forwarded-for": "10.0.0.1",
    "securitytenant": "global",
}


def test_opensearch_sees_the_gateways_credentials_and_never_the_callers_key(keyed_gateway, received):
    headers = {**bearer(KEY), **CALLER_HEADERS}
    assert httpx.post(f"{keyed_gateway}/articles/_search", json=SEARCH, headers=headers).status_code == 200
    reranked = httpx.post(
        f"{keyed_gateway}/articles/_search", json={**SEARCH, "ext": {"rerank": RERANK}}, headers=headers, timeout=30
    )
    assert reranked.status_code == 200 and reranked.json()["ext"]["rerank"]["status"].startswith("skipped")
    assert len(received) == 2
    for request in received:
        assert request.headers["authorization"] == basic("gateway", "pw")
        assert request.headers["x-opaque-id"] == "trace-1"
        assert not {"x-proxy-user", "x-proxy-roles", "x-forwarded-for", "securitytenant"} & set(request.headers)


def test_the_callers_authorization_goes_on_only_when_forwarded(fake, received):
    settings = gateway(fake, forward_authorization=True, opensearch_user="gateway", opensearch_password="pw")
    with running_gateway(settings) as url:
        httpx.post(f"{url}/articles/_search", json=SEARCH, headers={"authorization": basic("alice", "a")})
        httpx.post(f"{url}/articles/_search", json={**SEARCH, "ext": {"rerank": RERANK}},
                   headers={"authorization": basic("bob", "b")}, timeout=30)
        httpx.post(f"{url}/articles/_search", json=SEARCH)
    assert [r.headers["authorization"] for r in received] == [
        basic("alice", "a"), basic("bob", "b"), basic("gateway", "pw")
    ]


def test_without_keys_or_forwarding_the_callers_authorization_stays_at_the_gateway(fake, received):
    with running_gateway(gateway(fake)) as url:
        httpx.post(f"{url}/articles/_search", json=SEARCH, headers={"authorization": basic("alice", "a")})
    assert "authorization" not in received[0].headers


# --- TLS on the gateway's listener ---------------------------------------------------------------------


def client_context(pki, certificate: bool = False) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(pki["ca"]))
    if certificate:
        context.load_cert_chain(str(pki["client_cert"]), str(pki["client_key"]))
    return context


def test_tls_serves_callers_that_trust_the_ca_and_nothing_in_plaintext(fake, pki):
    settings = gateway(fake, tls_cert=str(pki["cert"]), tls_key=str(pki["key"]))
    with running_gateway(settings) as url:
        assert url.startswith("https://")
        assert httpx.post(f"{url}/articles/_search", json=SEARCH, verify=client_context(pki)).status_code == 200
        with pytest.raises(httpx.ConnectError):  # the system's CAs do not know this one
            httpx.post(f"{url}/articles/_search", json=SEARCH)
        with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
            httpx.post(url.replace("https://", "http://") + "/articles/_search", json=SEARCH)


def test_mutual_tls_refuses_callers_without_a_certificate(fake, pki):
    settings = gateway(fake, tls_cert=str(pki["cert"]), tls_key=str(pki["key"]), tls_client_ca=str(pki["ca"]))
    with running_gateway(settings) as url:
        response = httpx.post(f"{url}/articles/_search", json=SEARCH, verify=client_context(pki, certificate=True))
        assert response.status_code == 200
        with pytest.raises((httpx.ConnectError, httpx.ReadError, httpx.RemoteProtocolError)):
            httpx.post(f"{url}/articles/_search", json=SEARCH, verify=client_context(pki))


# --- logs -------------------------------------------------------------------------------------------------


def test_logs_hold_no_query_text_or_key(fake, caplog):
    secret, url_secret = "query-5d1c-private", "urlquery-77ab-private"
    settings = gateway(fake, api_keys=(KEY,))
    with caplog.at_level(logging.DEBUG), running_gateway(settings) as url:
        rerank = {**RERANK, "query_context": {"query_text": secret}}
        body = {"query": {"match": {"title": secret}}, "ext": {"rerank": rerank}}
        assert httpx.post(f"{url}/articles/_search", json=body, headers=bearer(KEY), timeout=30).status_code == 200
        assert httpx.get(f"{url}/articles/_search", params={"q": url_secret}, headers=bearer(KEY)).status_code == 200
        assert httpx.get(f"{url}/articles/_count", params={"q": url_secret}).status_code == 401
    # httpx and httpcore log this test's own calls, not the gateway's.
    gateway_records = [r for r in caplog.records if not r.name.startswith(("httpx", "httpcore"))]
    lines = [record.getMessage() for record in gateway_records]
    assert "POST /articles/_search 200" in "\n".join(lines)  # the requests were logged
    assert any("/articles/_search [status:200" in line for line in lines)  # and opensearch-py's calls
    assert not [line for line in lines if secret in line or url_secret in line or KEY in line]


def test_an_encoded_line_break_cannot_forge_a_log_line(fake, caplog):
    with caplog.at_level(logging.INFO, logger="rerank_client.gateway.access"), running_gateway(gateway(fake)) as url:
        httpx.get(f"{url}/articles%0A2026-01-01 INFO forged%0A/_search")
    (line,) = [r.getMessage() for r in caplog.records if r.name == "rerank_client.gateway.access"]
    assert line.startswith("GET /articles%0A2026-01-01%20INFO%20forged%0A/_search ") and "\n" not in line


# --- settings -------------------------------------------------------------------------------------------------


def test_the_defaults_forward_searches_only_and_want_no_key():
    settings = GatewaySettings()
    assert (settings.passthrough, settings.api_keys, settings.forward_authorization) == ("search", (), False)
    assert (settings.max_body_bytes, settings.max_window_size, settings.max_rerank_timeout_ms) == (1048576, 1000, 30000)


def test_keys_come_from_flags_the_environment_or_a_file(tmp_path):
    keys = tmp_path / "keys"
    keys.write_text("# the gateway's keys\nkey-a\n\n  key-b  \n")
    assert parse_settings(["--api-key", "x", "--api-key", "y"], {}).api_keys == ("x", "y")
    assert parse_settings([], {"RERANK_GATEWAY_API_KEY": "x,y"}).api_keys == ("x", "y")
    assert parse_settings(["--api-key-file", str(keys)], {}).api_keys == ("key-a", "key-b")
    assert parse_settings([], {"RERANK_GATEWAY_API_KEY_FILE": str(keys)}).api_keys == ("key-a", "key-b")


def test_secrets_come_from_files_and_never_show_in_repr_or_the_first_log_line(tmp_path):
    password = tmp_path / "password"
    password.write_text("pass-9f2e\n")
    settings = parse_settings(
        ["--opensearch-user", "gateway", "--opensearch-password-file", str(password), "--api-key", "key-3c4d",
         "--reranker-api-key", "rkey-8a1b"],
        {},
    )
    assert settings.opensearch_password == "pass-9f2e"
    shown = repr(settings) + describe(settings)
    assert not [secret for secret in ("pass-9f2e", "key-3c4d", "rkey-8a1b") if secret in shown]
    from_environment = {"RERANK_GATEWAY_OPENSEARCH_PASSWORD": "env-pass-5e6f", "RERANK_GATEWAY_RERANKER_API_KEY": "r"}
    assert parse_settings(["--opensearch-user", "g"], from_environment).opensearch_password == "env-pass-5e6f"
    assert "env-pass-5e6f" not in build_parser(from_environment).format_help()
    in_url = GatewaySettings(opensearch_url="https://admin:url-pass-1@search.local:9200")
    assert "url-pass-1" not in describe(in_url) and "https://search.local:9200" in describe(in_url)


def test_passthrough_and_forwarding_flags():
    assert parse_settings(["--passthrough", "read"], {}).passthrough == "read"
    assert parse_settings([], {"RERANK_GATEWAY_PASSTHROUGH": "all"}).passthrough == "all"
    assert parse_settings(["--forward-authorization"], {}).forward_authorization is True
    assert parse_settings([], {"RERANK_GATEWAY_FORWARD_AUTHORIZATION": "true"}).forward_authorization is True
    assert parse_settings([], {"RERANK_GATEWAY_FORWARD_AUTHORIZATION": "false"}).forward_authorization is False


@pytest.mark.parametrize(
    ("argv", "environ", "message"),
    [
        (["--passthrough", "writes"], {}, "invalid choice: 'writes'"),
        ([], {"RERANK_GATEWAY_PASSTHROUGH": "writes"}, "passthrough must be one of search, read, all"),
        (["--forward-authorization", "--api-key", "k"], {}, "use one or the other"),
        (["--tls-cert", "cert.pem"], {}, "tls_cert and tls_key go together"),
        (["--tls-client-ca", "ca.pem"], {}, "needs tls_cert and tls_key"),
        (["--opensearch-password", "p"], {}, "opensearch_password needs opensearch_user"),
        (["--opensearch-ca-file", "ca.pem"], {}, "the URL must start with https://"),
        (["--opensearch-user", "u", "--opensearch-url", "http://a:b@h:9200"], {}, "give OpenSearch's user once"),
        (["--max-body-bytes", "0"], {}, "max_body_bytes must be positive"),
        (["--rerank-timeout-ms", "60000"], {}, "must not exceed max_rerank_timeout_ms"),
        ([], {"RERANK_GATEWAY_FORWARD_AUTHORIZATION": "maybe"}, "expected true or false"),
        (["--api-key-file", "/no/such/keys"], {}, "No such file"),
        (["--opensearch-user", "u", "--opensearch-password-file", "p.txt"], {"RERANK_GATEWAY_OPENSEARCH_PASSWORD": "p"},
         "give --opensearch-password or --opensearch-password-file, not both"),
    ],
)
def test_bad_settings_stop_the_cli_with_their_reason(argv, environ, message, capsys):
    with pytest.raises(SystemExit):
        parse_settings(argv, environ)
    assert message in capsys.readouterr().err
