"""Session fixtures: one tiny random Gemma saved to disk, one loaded scorer, one
real gRPC server on a free loopback port, and clients of it."""

from __future__ import annotations

import pytest
import trustme
from rerank_client import RerankClient
from rerank_server.config import Settings
from rerank_server.scoring.llm_yes import LlmYesScorer
from rerank_server.testing.harness import running_server, wait_until_serving
from rerank_server.scoring.cross_encoder import CrossEncoderScorer
from rerank_server.testing.tiny_model import build_tiny_gemma, build_tiny_xlm_roberta


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory):
    """A random GemmaForCausalLM and its tokenizer, saved like a real model."""
    return build_tiny_gemma(tmp_path_factory.mktemp("tiny-gemma"))


@pytest.fixture(scope="session")
def tiny_scorer(tiny_model_dir):
    return LlmYesScorer.load(str(tiny_model_dir), name="tiny-gemma", device="cpu", dtype="float32")


@pytest.fixture(scope="session")
def tiny_m3_dir(tmp_path_factory):
    """A random XLMRobertaForSequenceClassification (bge-reranker-v2-m3's architecture)."""
    return build_tiny_xlm_roberta(tmp_path_factory.mktemp("tiny-m3"))


@pytest.fixture(scope="session")
def tiny_m3_scorer(tiny_m3_dir):
    return CrossEncoderScorer.load(str(tiny_m3_dir), name="tiny-m3", device="cpu", dtype="float32")


@pytest.fixture(scope="session")
def server_settings(tiny_model_dir):
    return Settings(model=str(tiny_model_dir), served_model_name="tiny-gemma", port=0, batch_size=8)


@pytest.fixture(scope="session")
def rerank_server(server_settings, tiny_scorer):
    """A real server (app.run) on 127.0.0.1 and a free port, SERVING."""
    with running_server(server_settings, lambda: tiny_scorer) as handle:
        wait_until_serving(handle.address)
        yield handle


@pytest.fixture(scope="session")
def rerank_address(rerank_server):
    return rerank_server.address


@pytest.fixture
def client(rerank_address):
    with RerankClient(rerank_address, timeout=60) as client:
        yield client


@pytest.fixture(scope="session")
def pki(tmp_path_factory):
    """A CA, a server certificate for 127.0.0.1 and a client certificate, as files."""
    folder = tmp_path_factory.mktemp("pki")
    ca = trustme.CA()
    server_cert = ca.issue_cert("127.0.0.1", "localhost")
    client_cert = ca.issue_cert("client@example.com")
    files = {
        "ca": folder / "ca.pem",
        "cert": folder / "server.pem",
        "key": folder / "server.key",
        "client_cert": folder / "client.pem",
        "client_key": folder / "client.key",
    }
    ca.cert_pem.write_to_path(files["ca"])
    server_cert.private_key_pem.write_to_path(files["key"])
    for blob in server_cert.cert_chain_pems:
        blob.write_to_path(files["cert"], append=True)
    client_cert.private_key_pem.write_to_path(files["client_key"])
    for blob in client_cert.cert_chain_pems:
        blob.write_to_path(files["client_cert"], append=True)
    return files
