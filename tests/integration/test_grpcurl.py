"""grpcurl against the real server, through server reflection only (no .proto given):
what an operator debugging a deployment would type."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TOOLS_BIN = ROOT / ".cache" / "tools" / "bin"
GRPCURL_VERSION = "v1.9.4"


@pytest.fixture(scope="module")
def grpcurl() -> Path:
    """grpcurl at a pinned version, installed from the Go module proxy on first use."""
    binary = TOOLS_BIN / "grpcurl"
    if not binary.exists():
        done = subprocess.run(
            ["go", "install", f"github.com/fullstorydev/grpcurl/cmd/grpcurl@{GRPCURL_VERSION}"],
            env={**os.environ, "GOBIN": str(TOOLS_BIN)},
            capture_output=True,
            text=True,
            timeout=540,
        )
        assert done.returncode == 0, f"go install grpcurl failed:\n{done.stderr}"
    return binary


@pytest.fixture
def grpcurl_run(grpcurl, rerank_address):
    """Runs `grpcurl -plaintext [flags] ADDRESS *verb`."""

    def run(*verb: str, flags: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
        command = [str(grpcurl), "-plaintext", "-max-time", "60", *flags, rerank_address, *verb]
        return subprocess.run(command, capture_output=True, text=True, timeout=90)

    return run


@pytest.fixture
def grpcurl_call(grpcurl_run):
    """Like grpcurl_run, for calls that must succeed; returns their stdout."""

    def call(*verb: str, flags: tuple[str, ...] = ()) -> str:
        done = grpcurl_run(*verb, flags=flags)
        assert done.returncode == 0, f"{' '.join(done.args)} exited {done.returncode}:\n{done.stderr}"
        return done.stdout

    return call


def test_list_shows_the_services_through_reflection(grpcurl_call):
    services = grpcurl_call("list").split()

    assert {"rerank.v1.Reranker", "grpc.health.v1.Health"} <= set(services), services


def test_describe_shows_the_reranker_methods(grpcurl_call):
    description = grpcurl_call("describe", "rerank.v1.Reranker")

    assert "rpc Rerank ( .rerank.v1.RerankRequest ) returns ( .rerank.v1.RerankResponse );" in description
    assert "rpc GetModelInfo ( .rerank.v1.GetModelInfoRequest )" in description


def test_health_check_is_serving(grpcurl_call):
    answer = json.loads(grpcurl_call("grpc.health.v1.Health/Check"))

    assert answer == {"status": "SERVING"}


def test_rerank_call_answers_sorted_results(grpcurl_call):
    request = {
        "query": "what is a panda?",
        "documents": [
            {"id": "a", "text": "The giant panda is a bear species endemic to China."},
            {"id": "b", "text": "Paris is the capital of France."},
            {"id": "c", "text": "Pandas eat bamboo."},
        ],
        "top_n": 2,
        "return_text": True,
    }
    answer = json.loads(grpcurl_call("rerank.v1.Reranker/Rerank", flags=("-d", json.dumps(request))))

    results = answer["results"]
    assert answer["model"] == "tiny-gemma"
    assert len(results) == 2
    assert [r["score"] for r in results] == sorted((r["score"] for r in results), reverse=True)
    by_id = {d["id"]: d["text"] for d in request["documents"]}
    assert all(by_id[r["id"]] == r["text"] for r in results), results
    assert int(answer["usage"]["pairs"]) == 3


def test_bad_request_shows_the_status_and_the_reason(grpcurl_run):
    request = json.dumps({"query": "", "documents": [{"text": "d"}]})
    done = grpcurl_run("rerank.v1.Reranker/Rerank", flags=("-d", request))

    assert done.returncode != 0
    assert "Code: InvalidArgument" in done.stderr and "query" in done.stderr, done.stderr
