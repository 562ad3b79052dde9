"""One real OpenSearch node for the session (scripts/opensearch.sh) with our grpc_rerank
plugin installed (built by scripts/build_opensearch_plugin.sh), the sample corpus in it, and
gateways in front of it."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from opensearchpy import OpenSearch
from rerank_client.gateway.settings import GatewaySettings
from rerank_client.gateway.testing import running_gateway
from rerank_server.config import Settings
from rerank_server.testing.harness import running_server, wait_until_serving

from tests.data.search_corpus import load_corpus
from tests.gated_scorer import GatedScorer

SCRIPTS = Path(__file__).resolve().parents[3] / "scripts"
SCRIPT = SCRIPTS / "opensearch.sh"
INDEX = "articles"


@dataclass(frozen=True)
class OpenSearchNode:
    url: str
    run_dir: Path

    @property
    def config_dir(self) -> Path:
        return self.run_dir / "config"

    def script(self, *args: str, stdin: str | None = None) -> str:
        """Runs scripts/opensearch.sh for this node; fails the test with its output if it fails."""
        env = {**os.environ, "OPENSEARCH_RUN_DIR": str(self.run_dir)}
        done = subprocess.run([str(SCRIPT), *args], env=env, input=stdin, capture_output=True, text=True, timeout=420)
        if done.returncode != 0:
            pytest.fail(f"scripts/opensearch.sh {' '.join(args)} failed:\n{done.stderr}")
        return done.stdout


@pytest.fixture(scope="session")
def opensearch_plugin_zip() -> Path:
    """The grpc_rerank plugin zip, built (with its unit tests) for the node's version."""
    done = subprocess.run(
        [str(SCRIPTS / "build_opensearch_plugin.sh")], capture_output=True, text=True, timeout=1500
    )
    if done.returncode != 0:
        pytest.fail(f"scripts/build_opensearch_plugin.sh failed:\n{done.stdout}\n{done.stderr}")
    return Path(done.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="session")
def opensearch_node(opensearch_plugin_zip):
    # Under /tmp rather than pytest's tmp_path, whose parent is private to root:
    # as root the node runs as the "opensearch" user, which must reach its run dir.
    run_dir = Path(tempfile.mkdtemp(prefix="rerank-opensearch-"))
    env = {**os.environ, "OPENSEARCH_RUN_DIR": str(run_dir), "OPENSEARCH_PLUGINS": str(opensearch_plugin_zip)}
    started = subprocess.run([str(SCRIPT), "start"], env=env, capture_output=True, text=True, timeout=420)
    if started.returncode != 0:
        shutil.rmtree(run_dir, ignore_errors=True)
        pytest.fail(f"scripts/opensearch.sh start failed:\n{started.stderr}")
    try:
        yield OpenSearchNode(started.stdout.strip().splitlines()[-1], run_dir)
    finally:
        subprocess.run([str(SCRIPT), "stop"], env=env, capture_output=True, timeout=120)
        shutil.rmtree(run_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def opensearch_url(opensearch_node):
    return opensearch_node.url


@pytest.fixture(scope="session")
def opensearch(opensearch_url):
    client = OpenSearch(opensearch_url, timeout=60)
    yield client
    client.close()


@pytest.fixture(scope="session")
def articles(opensearch):
    """The name of an index holding tests/data/search_corpus.jsonl."""
    load_corpus(opensearch, INDEX)
    return INDEX


@pytest.fixture(scope="session")
def gateway_url(opensearch_url, rerank_address, articles):
    settings = GatewaySettings(opensearch_url=opensearch_url, reranker_address=rerank_address, port=0)
    with running_gateway(settings) as url:
        yield url


@pytest.fixture
def gated_reranker(tiny_model_dir, tiny_scorer):
    """A reranker of our own, to stop mid-test; its model can be held or made to fail."""
    scorer = GatedScorer(tiny_scorer)
    settings = Settings(model=str(tiny_model_dir), served_model_name="tiny-gemma", port=0)
    with running_server(settings, lambda: scorer) as handle:
        wait_until_serving(handle.address)
        yield handle, scorer
        scorer.gate.set()


@pytest.fixture
def gateway_of_gated_reranker(opensearch_url, articles, gated_reranker):
    handle, _ = gated_reranker
    settings = GatewaySettings(opensearch_url=opensearch_url, reranker_address=handle.address, port=0)
    with running_gateway(settings) as url:
        yield url
