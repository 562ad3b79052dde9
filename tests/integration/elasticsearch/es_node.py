"""A real Elasticsearch node as the tests see it: plain HTTP (urllib) with JSON bodies, the
cluster settings, the sample corpus, and scripts/elasticsearch.sh for this node's run dir."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.data.search_corpus import MAPPINGS, documents

SCRIPT = Path(__file__).resolve().parents[3] / "scripts" / "elasticsearch.sh"


@dataclass(frozen=True)
class Response:
    status: int
    headers: dict[str, str]
    body: dict

    @property
    def warning(self) -> str:
        return self.headers.get("Warning", "")


@dataclass(frozen=True)
class ElasticsearchNode:
    url: str
    run_dir: Path

    @property
    def config_dir(self) -> Path:
        return self.run_dir / "config"

    def request(self, method: str, path: str, body: dict | str | None = None) -> Response:
        """One HTTP call; error statuses come back as responses too."""
        data = None if body is None else (body if isinstance(body, str) else json.dumps(body)).encode()
        content_type = "application/x-ndjson" if isinstance(body, str) else "application/json"
        request = urllib.request.Request(f"{self.url}{path}", data=data, method=method, headers={"Content-Type": content_type})
        try:
            with urllib.request.urlopen(request, timeout=120) as answer:
                return Response(answer.status, dict(answer.headers), json.loads(answer.read() or b"{}"))
        except urllib.error.HTTPError as error:
            return Response(error.code, dict(error.headers), json.loads(error.read() or b"{}"))

    def ok(self, method: str, path: str, body: dict | str | None = None) -> dict:
        """The body of a call that must succeed (200 or 201)."""
        answer = self.request(method, path, body)
        assert 200 <= answer.status < 300, answer.body
        return answer.body

    def put_settings(self, **settings) -> Response:
        """PUT _cluster/settings (persistent); rerank__grpc__target=... names rerank.grpc.target, None resets."""
        body = {"persistent": {key.replace("__", "."): value for key, value in settings.items()}}
        return self.request("PUT", "/_cluster/settings", body)

    def load_corpus(self, index: str, *, shards: int, extra: list[dict] = ()) -> int:
        """(Re)creates index with `shards` shards and no replica, loads tests/data/search_corpus.jsonl
        and `extra` (each with an "id"), refreshes; returns the number of documents."""
        self.request("DELETE", f"/{index}")
        self.ok("PUT", f"/{index}", {"settings": {"number_of_shards": shards, "number_of_replicas": 0}, "mappings": MAPPINGS})
        lines = []
        for document in [*documents(), *extra]:
            source = {key: value for key, value in document.items() if key != "id"}
            lines += [json.dumps({"index": {"_index": index, "_id": document["id"]}}), json.dumps(source, ensure_ascii=False)]
        result = self.ok("POST", "/_bulk?refresh=true", "\n".join(lines) + "\n")
        assert not result["errors"], result["items"]
        return len(lines) // 2

    def script(self, *args: str, stdin: str | None = None) -> str:
        """Runs scripts/elasticsearch.sh for this node; fails the test with its output if it fails."""
        env = {**os.environ, "ELASTICSEARCH_RUN_DIR": str(self.run_dir)}
        done = subprocess.run([str(SCRIPT), *args], env=env, input=stdin, capture_output=True, text=True, timeout=420)
        if done.returncode != 0:
            pytest.fail(f"scripts/elasticsearch.sh {' '.join(args)} failed:\n{done.stderr}")
        return done.stdout


def unused_port() -> int:
    """A loopback port nothing listens on (until someone binds it)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
