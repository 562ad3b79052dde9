"""OpenSearch's own way to rerank, for tests and benchmarks: a node with ML Commons and the
HTTP connector of docker/opensearch pointed at our Cohere-shaped HTTP API.

    with ml_commons_node() as opensearch_url:
        model_id = connect_ml_commons(opensearch_url, "http://127.0.0.1:8080", "tiny-gemma")
        scores = ml_predict(opensearch_url, model_id, "what is a panda?", ["hi", "a bear"])

ML Commons and job-scheduler zips are on Maven Central for 2.19.1 (a plugin must match its
core exactly, so the node runs 2.19.1, not the 2.19.6 of the other tests). neural-search,
which brings the `rerank` search response processor, is not on Maven Central: the node has
no `rerank` processor, so apply.sh runs with SKIP_PIPELINE=1 and stops after its check
prediction.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import tempfile
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
OPENSEARCH_SCRIPT = ROOT / "scripts" / "opensearch.sh"
APPLY_SCRIPT = ROOT / "docker" / "opensearch" / "apply.sh"

ML_COMMONS_VERSION = "2.19.1"
ML_COMMONS_PLUGINS = (
    f"org.opensearch.plugin:opensearch-job-scheduler:{ML_COMMONS_VERSION}.0",
    f"org.opensearch.plugin:opensearch-ml-plugin:{ML_COMMONS_VERSION}.0",
)


class MlCommonsError(RuntimeError):
    """The node did not start, or apply.sh did not connect it to the reranker."""


@contextlib.contextmanager
def ml_commons_node(heap: str = "1g", start_timeout: int = 420) -> Iterator[str]:
    """Starts a single OpenSearch 2.19.1 node with job-scheduler and ML Commons
    (scripts/opensearch.sh fetches the zips once into .cache/opensearch), yields its URL
    and stops it. Raises MlCommonsError with the script's output when it cannot start."""
    # Under /tmp: as root the node runs as the "opensearch" user, which must reach its run dir.
    run_dir = tempfile.mkdtemp(prefix="rerank-ml-commons-")
    env = {
        **os.environ,
        "OPENSEARCH_RUN_DIR": run_dir,
        "OPENSEARCH_VERSION": ML_COMMONS_VERSION,
        "OPENSEARCH_PLUGINS": " ".join(ML_COMMONS_PLUGINS),
        "OPENSEARCH_HEAP": heap,  # ML Commons refuses to deploy when its heap is nearly full
    }
    try:
        try:
            started = subprocess.run(
                [str(OPENSEARCH_SCRIPT), "start"], env=env, capture_output=True, text=True, timeout=start_timeout
            )
        except subprocess.TimeoutExpired as error:
            raise MlCommonsError(f"scripts/opensearch.sh start took over {start_timeout} s:\n{error.stderr}") from None
        if started.returncode != 0:
            raise MlCommonsError(
                f"scripts/opensearch.sh start (OpenSearch {ML_COMMONS_VERSION} with ML Commons) failed "
                f"with exit code {started.returncode}:\n{started.stderr}"
            )
        yield started.stdout.strip().splitlines()[-1]
    finally:
        subprocess.run([str(OPENSEARCH_SCRIPT), "stop"], env=env, capture_output=True, timeout=120)
        shutil.rmtree(run_dir, ignore_errors=True)


def connect_ml_commons(
    opensearch_url: str,
    reranker_url: str,
    reranker_model: str,
    *,
    model_name: str = "bge-reranker-v2-gemma",
    api_key: str = "none",
    timeout: int = 300,
) -> str:
    """Runs docker/opensearch/apply.sh (cluster settings, model group, the HTTP connector to
    reranker_url/v1/rerank, the remote model registered and deployed, one check prediction;
    the search pipeline skipped) and returns the model id. Re-running it reuses what exists
    by name. Raises MlCommonsError with apply.sh's log when a step fails."""
    env = {
        **os.environ,
        "OPENSEARCH_URL": opensearch_url,
        "RERANKER_URL": reranker_url,
        "RERANKER_MODEL": reranker_model,
        "RERANKER_API_KEY": api_key,
        "MODEL_NAME": model_name,
        "WAIT_SECONDS": str(timeout),
        "SKIP_PIPELINE": "1",
    }
    applied = subprocess.run(["bash", str(APPLY_SCRIPT)], env=env, capture_output=True, text=True, timeout=timeout + 60)
    model_id = applied.stdout.strip()
    if applied.returncode != 0 or not model_id:
        raise MlCommonsError(f"docker/opensearch/apply.sh failed with exit code {applied.returncode}:\n{applied.stderr}")
    return model_id


def ml_predict(opensearch_url: str, model_id: str, query: str, documents: list[str], timeout: float = 60) -> list[float]:
    """ML Commons' text_similarity prediction: one score per document, in document order."""
    request = urllib.request.Request(
        f"{opensearch_url}/_plugins/_ml/_predict/text_similarity/{model_id}",
        data=json.dumps({"query_text": query, "text_docs": documents}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = json.load(response)
    except urllib.error.HTTPError as error:
        raise MlCommonsError(f"_predict with model {model_id}: HTTP {error.code}: {error.read().decode()}") from None
    return [output["data"][0] for output in body["inference_results"][0]["output"]]
