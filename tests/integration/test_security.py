"""TLS, mutual TLS and API keys on gRPC and HTTP; no caller text in logs."""

from __future__ import annotations

import logging
import ssl

import cohere
import grpc
import httpx
import pytest
from rerank_client import RerankClient, UnauthenticatedError, UnavailableError
from rerank_server.config import Settings
from rerank_server.logs import JsonFormatter
from rerank_server.testing.harness import free_port, running_server, wait_until_serving

QUERY = "what is a panda?"
KEY = "s3cret-key-1"


def tls_context(pki, client_certificate: bool = False) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(pki["ca"]))
    if client_certificate:
        context.load_cert_chain(str(pki["client_cert"]), str(pki["client_key"]))
    return context


def serve(tiny_model_dir, tiny_scorer, **settings):
    config = Settings(model=str(tiny_model_dir), served_model_name="tiny-gemma", port=0, **settings)
    return running_server(config, lambda: tiny_scorer)


def test_tls_serves_grpc_and_http_to_clients_that_trust_the_ca(tiny_model_dir, tiny_scorer, pki):
    http_port = free_port()
    with serve(tiny_model_dir, tiny_scorer, tls_cert=str(pki["cert"]), tls_key=str(pki["key"]), http_port=http_port) as handle:
        ca = pki["ca"].read_bytes()
        wait_until_serving(handle.address, credentials=grpc.ssl_channel_credentials(ca))
        with RerankClient(handle.address, root_certificates=ca) as client:
            assert len(client.rerank(QUERY, ["a", "b"]).results) == 2
        with RerankClient(handle.address, timeout=3) as plaintext, pytest.raises(UnavailableError):
            plaintext.rerank(QUERY, ["a"])
        response = httpx.post(
            f"https://127.0.0.1:{http_port}/v1/rerank", json={"query": QUERY, "documents": ["a"]}, verify=tls_context(pki)
        )
        assert response.status_code == 200
        with pytest.raises(httpx.ConnectError):
            httpx.post(f"https://127.0.0.1:{http_port}/v1/rerank", json={"query": QUERY, "documents": ["a"]})


def test_mutual_tls_refuses_clients_without_a_certificate(tiny_model_dir, tiny_scorer, pki):
    http_port = free_port()
    settings = dict(
        tls_cert=str(pki["cert"]), tls_key=str(pki["key"]), tls_client_ca=str(pki["ca"]), http_port=http_port
    )
    with serve(tiny_model_dir, tiny_scorer, **settings) as handle:
        ca, cert, key = (pki[name].read_bytes() for name in ("ca", "client_cert", "client_key"))
        wait_until_serving(handle.address, credentials=grpc.ssl_channel_credentials(ca, key, cert))
        with RerankClient(handle.address, root_certificates=ca, private_key=key, certificate_chain=cert) as client:
            assert len(client.rerank(QUERY, ["a"]).results) == 1
        with RerankClient(handle.address, root_certificates=ca, timeout=3) as anonymous, pytest.raises(UnavailableError):
            anonymous.rerank(QUERY, ["a"])
        url = f"https://127.0.0.1:{http_port}/v1/rerank"
        body = {"query": QUERY, "documents": ["a"]}
        assert httpx.post(url, json=body, verify=tls_context(pki, client_certificate=True)).status_code == 200
        with pytest.raises((httpx.ConnectError, httpx.ReadError, httpx.RemoteProtocolError)):
            httpx.post(url, json=body, verify=tls_context(pki))


@pytest.fixture(scope="module")
def keyed_server(tiny_model_dir, tiny_scorer):
    http_port = free_port()
    with serve(tiny_model_dir, tiny_scorer, api_keys=(KEY, "other-key"), http_port=http_port) as handle:
        wait_until_serving(handle.address)  # health needs no key
        yield handle.address, f"http://127.0.0.1:{http_port}"


def test_grpc_calls_need_a_valid_key(keyed_server):
    address, _ = keyed_server
    with RerankClient(address) as anonymous, pytest.raises(UnauthenticatedError, match="needs an API key"):
        anonymous.rerank(QUERY, ["a"])
    with RerankClient(address, metadata=[("authorization", "Bearer wrong")]) as wrong:
        with pytest.raises(UnauthenticatedError, match="not valid"):
            wrong.rerank(QUERY, ["a"])
        with pytest.raises(UnauthenticatedError):
            wrong.model_info()
    with RerankClient(address, metadata=[("authorization", f"Bearer {KEY}")]) as client:
        assert len(client.rerank(QUERY, ["a"]).results) == 1
        assert client.model_info().default_model == "tiny-gemma"


def test_http_calls_need_a_valid_key_and_health_does_not(keyed_server):
    _, base_url = keyed_server
    body = {"query": QUERY, "documents": ["a"]}
    assert httpx.get(base_url + "/health").status_code == 200
    missing = httpx.post(base_url + "/v1/rerank", json=body)
    assert missing.status_code == 401 and "needs an API key" in missing.json()["message"]
    wrong = httpx.post(base_url + "/v1/rerank", json=body, headers={"authorization": "Bearer nope"})
    assert wrong.status_code == 401
    ok = httpx.post(base_url + "/v1/rerank", json=body, headers={"authorization": f"Bearer {KEY}"})
    assert ok.status_code == 200


def test_the_cohere_sdk_sends_its_api_key_as_a_bearer_key(keyed_server):
    _, base_url = keyed_server
    response = cohere.ClientV2(api_key=KEY, base_url=base_url).rerank(model="tiny-gemma", query=QUERY, documents=["a"])
    assert len(response.results) == 1
    with pytest.raises(cohere.errors.UnauthorizedError):
        cohere.ClientV2(api_key="nope", base_url=base_url).rerank(model="tiny-gemma", query=QUERY, documents=["a"])


def test_logs_hold_no_query_or_document_text(rerank_address, caplog):
    secret_query, secret_document = "query-7f3a9c-private", "document-b41e22-private"
    formatter = JsonFormatter()
    with caplog.at_level(logging.DEBUG, logger="rerank_server"):
        with RerankClient(rerank_address) as client:
            client.rerank(secret_query, [secret_document, "x"])
            with pytest.raises(Exception):
                client.rerank(secret_query, [])
    lines = [formatter.format(record) for record in caplog.records]
    assert any('"method": "Rerank"' in line for line in lines)  # the calls were logged
    assert not any(secret_query in line or secret_document in line for line in lines)


def test_the_gateway_reaches_a_reranker_that_wants_mutual_tls_and_a_key(tiny_model_dir, tiny_scorer, pki):
    from rerank_client.gateway.settings import GatewaySettings
    from rerank_client.gateway.testing import running_gateway, unused_port

    settings = dict(
        tls_cert=str(pki["cert"]), tls_key=str(pki["key"]), tls_client_ca=str(pki["ca"]), api_keys=(KEY,)
    )
    with serve(tiny_model_dir, tiny_scorer, **settings) as handle:
        ca, cert, key = (pki[name].read_bytes() for name in ("ca", "client_cert", "client_key"))
        wait_until_serving(handle.address, credentials=grpc.ssl_channel_credentials(ca, key, cert))
        base = dict(opensearch_url=f"http://127.0.0.1:{unused_port()}", reranker_address=handle.address, port=0)
        trusted = GatewaySettings(
            **base, reranker_ca_file=str(pki["ca"]), reranker_cert_file=str(pki["client_cert"]),
            reranker_key_file=str(pki["client_key"]), reranker_api_key=KEY,
        )
        with running_gateway(trusted) as url:
            health = httpx.get(url + "/_rerank/health", timeout=30).json()
        assert health["reranker"]["status"] == "serving", health
        keyless = GatewaySettings(
            **base, reranker_ca_file=str(pki["ca"]), reranker_cert_file=str(pki["client_cert"]),
            reranker_key_file=str(pki["client_key"]),
        )
        with running_gateway(keyless) as url:
            health = httpx.get(url + "/_rerank/health", timeout=30).json()
        assert health["reranker"]["status"] == "unavailable" and "UNAUTHENTICATED" in health["reranker"]["error"]
