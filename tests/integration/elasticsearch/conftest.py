"""One real Elasticsearch node for the session (scripts/elasticsearch.sh: the integ-test zip,
security off, its own system user when root, free loopback ports) with our grpc_rerank plugin
installed (built by scripts/build_elasticsearch_plugin.sh, installed with
`bin/elasticsearch-plugin install --batch`), and the sample corpus loader. Plain urllib: the
`elasticsearch` Python client is not a dependency of these tests."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from rerank_server.config import Settings
from rerank_server.testing.harness import running_server, wait_until_serving

from tests.gated_scorer import GatedScorer
from tests.integration.elasticsearch.es_node import SCRIPT, ElasticsearchNode

SCRIPTS = SCRIPT.parent


@pytest.fixture(scope="session")
def elasticsearch_plugin_zip() -> Path:
    """The grpc_rerank plugin zip, built (with its unit tests) for the node's version:
    ELASTICSEARCH_VERSION when set (scripts/elasticsearch.sh runs that one), else the default."""
    version = [os.environ["ELASTICSEARCH_VERSION"]] if os.environ.get("ELASTICSEARCH_VERSION") else []
    done = subprocess.run(
        [str(SCRIPTS / "build_elasticsearch_plugin.sh"), *version], capture_output=True, text=True, timeout=1500
    )
    if done.returncode != 0:
        pytest.fail(f"scripts/build_elasticsearch_plugin.sh failed:\n{done.stdout}\n{done.stderr}")
    return Path(done.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="session")
def elasticsearch_node(elasticsearch_plugin_zip):
    # Under /tmp rather than pytest's tmp_path, whose parent is private to root:
    # as root the node runs as the "elasticsearch" user, which must reach its run dir.
    run_dir = Path(tempfile.mkdtemp(prefix="rerank-elasticsearch-"))
    env = {**os.environ, "ELASTICSEARCH_RUN_DIR": str(run_dir), "ELASTICSEARCH_PLUGINS": str(elasticsearch_plugin_zip)}
    started = subprocess.run([str(SCRIPT), "start"], env=env, capture_output=True, text=True, timeout=420)
    if started.returncode != 0:
        shutil.rmtree(run_dir, ignore_errors=True)
        pytest.fail(f"scripts/elasticsearch.sh start failed:\n{started.stderr}")
    try:
        yield ElasticsearchNode(started.stdout.strip().splitlines()[-1], run_dir)
    finally:
        subprocess.run([str(SCRIPT), "stop"], env=env, capture_output=True, timeout=120)
        shutil.rmtree(run_dir, ignore_errors=True)


@pytest.fixture
def gated_reranker(tiny_model_dir, tiny_scorer):
    """A reranker of our own, to stop mid-test; its model can be held or made to fail."""
    scorer = GatedScorer(tiny_scorer)
    settings = Settings(model=str(tiny_model_dir), served_model_name="tiny-gemma", port=0)
    with running_server(settings, lambda: scorer) as handle:
        wait_until_serving(handle.address)
        yield handle, scorer
        scorer.gate.set()
