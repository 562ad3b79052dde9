"""The grpc_rerank plugin on OpenSearch 3.x: the zip built from the same source tree by
`scripts/build_opensearch_plugin.sh 3.3.0` (Java 21+, unit tests on the way), installed into a
second real node, 3.3.0, with the session's gRPC server (tiny model) and an index of 2 shards.

A focused subset of test_grpc_rerank_plugin.py (which runs everything on 2.19.6), imported from
it and run here against the 3.x node: this module overrides the fixtures `opensearch_url` and
`opensearch` with the 3.x node's, and the imported `index` and `target` fixtures use them. The
rescorer's scores equal the Python client's, the pipeline pages through one reranked window, and
a stopped reranker fails open, visibly. A node that cannot start here fails these tests, with
its reason; it never skips them."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from opensearchpy import OpenSearch

from tests.integration.opensearch.test_grpc_rerank_plugin import (  # noqa: F401 (fixtures and tests, run here)
    index,
    target,
    test_pipeline_pages_agree_with_one_reranked_window,
    test_reranker_stopped_fails_open_with_a_marker_a_counter_and_every_hit,
    test_rescorer_replace_orders_every_hit_by_the_rerankers_score,
    test_the_plugin_is_installed_and_the_index_spans_two_shards,
)

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

VERSION = "3.3.0"
SCRIPTS = Path(__file__).resolve().parents[3] / "scripts"


@pytest.fixture(scope="module")
def plugin_zip_3x(tmp_path_factory) -> Path:
    """The plugin zip for 3.3.0, copied out of target/, which the next build (any version) cleans."""
    done = subprocess.run(
        [str(SCRIPTS / "build_opensearch_plugin.sh"), VERSION], capture_output=True, text=True, timeout=1500
    )
    if done.returncode != 0:
        pytest.fail(f"scripts/build_opensearch_plugin.sh {VERSION} failed:\n{done.stdout}\n{done.stderr}")
    built = Path(done.stdout.strip().splitlines()[-1])
    assert built.name.endswith(f"-opensearch-{VERSION}.zip"), built
    copy = tmp_path_factory.mktemp("plugin-3x") / built.name
    shutil.copy2(built, copy)
    return copy


@pytest.fixture(scope="module")
def opensearch_url(plugin_zip_3x) -> Iterator[str]:
    """A second real node, OpenSearch 3.3.0 (scripts/opensearch.sh picks a Java 21+), with the zip."""
    # Under /tmp: as root the node runs as the "opensearch" user, which must reach its run dir.
    run_dir = Path(tempfile.mkdtemp(prefix="rerank-opensearch3-"))
    env = {**os.environ, "OPENSEARCH_VERSION": VERSION, "OPENSEARCH_RUN_DIR": str(run_dir),
           "OPENSEARCH_PLUGINS": str(plugin_zip_3x)}
    script = str(SCRIPTS / "opensearch.sh")
    started = subprocess.run([script, "start"], env=env, capture_output=True, text=True, timeout=420)
    if started.returncode != 0:
        shutil.rmtree(run_dir, ignore_errors=True)
        pytest.fail(f"the OpenSearch {VERSION} node did not start (scripts/opensearch.sh start):\n{started.stderr}")
    try:
        yield started.stdout.strip().splitlines()[-1]
    finally:
        subprocess.run([script, "stop"], env=env, capture_output=True, timeout=120)
        shutil.rmtree(run_dir, ignore_errors=True)


@pytest.fixture(scope="module")
def opensearch(opensearch_url) -> Iterator[OpenSearch]:
    client = OpenSearch(opensearch_url, timeout=60)
    yield client
    client.close()


def test_these_tests_run_on_the_3x_node(opensearch, index):
    assert opensearch.info()["version"]["number"] == VERSION
