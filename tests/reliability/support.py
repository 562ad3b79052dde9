"""Helpers shared by the reliability suites: servers (in this process or as a
`python -m rerank_server` process), the response invariants every OK answer
must hold, and the figures each suite reports (see conftest.py)."""

from __future__ import annotations

import contextlib
import math
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import psutil
from rerank.v1 import rerank_pb2
from rerank_server.config import Settings
from rerank_server.testing.harness import ServerHandle, free_port, running_server, wait_until_serving

QUERY = "what is a panda?"
SERVED_NAME = "tiny-gemma"

# Figures of this run, by suite; conftest.py prints them and writes them to
# $RERANK_RELIABILITY_REPORT at the end of the session.
FIGURES: dict[str, dict] = {}


def record(suite: str, **figures) -> None:
    FIGURES.setdefault(suite, {}).update(figures)


def percentiles(seconds: Sequence[float]) -> dict[str, float]:
    """p50 and p99 (nearest rank) in milliseconds."""
    if not seconds:
        return {"p50_ms": float("nan"), "p99_ms": float("nan")}
    ordered = sorted(seconds)

    def rank(p: float) -> float:
        return round(ordered[min(len(ordered) - 1, max(0, math.ceil(p * len(ordered)) - 1))] * 1000, 1)

    return {"p50_ms": rank(0.50), "p99_ms": rank(0.99)}


def rss_mib(pid: int | None = None) -> float:
    return psutil.Process(pid or os.getpid()).memory_info().rss / 2**20


# --- servers ------------------------------------------------------------------------------------


@dataclass
class Served:
    """A running in-process server: its handle and where each front end listens."""

    handle: ServerHandle
    http_url: str | None = None
    metrics_url: str | None = None

    @property
    def address(self) -> str:
        return self.handle.address


@contextlib.contextmanager
def serving(model_dir, scorer, *, http: bool = False, metrics: bool = False, **settings) -> Iterator[Served]:
    """The real server (app.run) on free loopback ports, SERVING, with `scorer`."""
    http_port = free_port() if http else 0
    metrics_port = free_port() if metrics else 0
    config = Settings(
        model=str(model_dir), served_model_name=SERVED_NAME, port=0, http_port=http_port,
        metrics_port=metrics_port, **settings,
    )
    with running_server(config, lambda: scorer) as handle:
        wait_until_serving(handle.address)
        yield Served(
            handle,
            http_url=f"http://127.0.0.1:{http_port}" if http else None,
            metrics_url=f"http://127.0.0.1:{metrics_port}/metrics" if metrics else None,
        )


@dataclass
class ServerProcess:
    """`python -m rerank_server` as an operator runs it, on a fixed port so it can
    be killed and started again where clients already point."""

    model_dir: str
    port: int = field(default_factory=free_port)
    args: tuple[str, ...] = ()
    process: subprocess.Popen | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self, timeout: float = 180.0) -> ServerProcess:
        env = {**os.environ, "RERANK_MODEL": self.model_dir, "RERANK_SERVED_MODEL_NAME": SERVED_NAME,
               "RERANK_LOG_LEVEL": "INFO"}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "rerank_server", "--port", str(self.port), *self.args],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )
        # stderr is drained on a thread so a chatty server never blocks on a full pipe.
        self.log: list[str] = []
        self._log_reader = threading.Thread(target=lambda: self.log.extend(self.process.stderr), daemon=True)
        self._log_reader.start()
        try:
            wait_until_serving(self.address, timeout=timeout)
        except TimeoutError:
            self.kill()
            raise AssertionError(f"the server did not serve:\n{''.join(self.log)[-3000:]}") from None
        return self

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def signal(self, signum: int) -> None:
        assert self.process is not None
        self.process.send_signal(signum)

    def kill(self) -> int:
        """SIGKILL, as the OOM killer or a lost node would; returns the exit code."""
        if self.process is None:
            return 0
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        return self.wait(60)

    def wait(self, timeout: float) -> int:
        """The exit code, once the process ended and its log is read to the end."""
        assert self.process is not None
        code = self.process.wait(timeout)
        self._log_reader.join(30)
        return code


@contextlib.contextmanager
def server_process(model_dir, *args: str) -> Iterator[ServerProcess]:
    server = ServerProcess(str(model_dir), args=args)
    try:
        yield server.start()
    finally:
        server.kill()


# --- what an OK answer must be ------------------------------------------------------------------


def check_response(request: rerank_pb2.RerankRequest, response: rerank_pb2.RerankResponse) -> None:
    """The contract of an OK Rerank answer, for any request."""
    n = len(request.documents)
    expected = min(request.top_n, n) if request.top_n else n
    assert len(response.results) == expected, (len(response.results), expected)
    indices = [r.index for r in response.results]
    assert len(set(indices)) == len(indices) and all(0 <= i < n for i in indices), indices
    if expected == n:
        assert sorted(indices) == list(range(n))
    keys = [(-r.score, r.index) for r in response.results]
    assert keys == sorted(keys), "results must be sorted by score descending, ties by index"
    for result in response.results:
        document = request.documents[result.index]
        assert result.id == document.id
        assert result.text == (document.text if request.return_text else "")
        assert math.isfinite(result.score)
        if not request.raw_scores:
            assert 0.0 <= result.score <= 1.0
    assert response.usage.pairs == n
    assert response.model == (request.model or SERVED_NAME)


def check_cohere_response(body: dict, documents: list, top_n: int | None, return_documents: bool, raw: bool) -> None:
    """The same contract in the Cohere JSON shape."""
    n = len(documents)
    expected = min(top_n, n) if top_n else n
    results = body["results"]
    assert len(results) == expected
    indices = [r["index"] for r in results]
    assert len(set(indices)) == expected and all(0 <= i < n for i in indices)
    keys = [(-r["relevance_score"], r["index"]) for r in results]
    assert keys == sorted(keys)
    for result in results:
        assert isinstance(result["relevance_score"], float) and math.isfinite(result["relevance_score"])
        if not raw:
            assert 0.0 <= result["relevance_score"] <= 1.0
        document = documents[result["index"]]
        text = document if isinstance(document, str) else document["text"]
        if return_documents:
            assert result["document"] == {"text": text}
        else:
            assert "document" not in result
    assert body["model"] == SERVED_NAME


def metric(url: str, name: str, **labels) -> float:
    """One sample of a server's /metrics (0 when absent)."""
    import httpx
    from prometheus_client.parser import text_string_to_metric_families

    for family in text_string_to_metric_families(httpx.get(url, timeout=30).text):
        for sample in family.samples:
            if sample.name == name and sample.labels == labels:
                return sample.value
    return 0.0
