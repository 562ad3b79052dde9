"""Session fixtures: one tiny random Gemma saved to disk, one loaded scorer, one
real gRPC server on a free loopback port, and clients of it."""

from __future__ import annotations

import pytest
from rerank_client import RerankClient
from rerank_server.config import Settings
from rerank_server.scoring.llm_yes import LlmYesScorer
from rerank_server.testing.harness import running_server, wait_until_serving
from rerank_server.testing.tiny_model import build_tiny_gemma


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory):
    """A random GemmaForCausalLM and its tokenizer, saved like a real model."""
    return build_tiny_gemma(tmp_path_factory.mktemp("tiny-gemma"))


@pytest.fixture(scope="session")
def tiny_scorer(tiny_model_dir):
    return LlmYesScorer.load(str(tiny_model_dir), name="tiny-gemma", device="cpu", dtype="float32")


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
