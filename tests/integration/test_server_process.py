"""`rerank-server` as a user runs it: a process, flags, signals."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading

import pytest
from rerank_client import RerankClient, UnavailableError
from rerank_server.testing.harness import free_port, wait_until_serving

LONG_DOCUMENTS = [f"passage {i}: " + "the giant panda eats bamboo in the mountains " * 40 for i in range(200)]


@pytest.fixture
def server_process(tiny_model_dir):
    port = free_port()
    env = {**os.environ, "RERANK_MODEL": str(tiny_model_dir), "RERANK_SERVED_MODEL_NAME": "tiny-process"}
    process = subprocess.Popen(
        [sys.executable, "-m", "rerank_server", "--port", str(port), "--batch-size", "4", "--shutdown-grace", "60"],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_until_serving(f"127.0.0.1:{port}", timeout=120)
        yield process, f"127.0.0.1:{port}"
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(30)


def test_the_cli_serves_the_model_named_by_flags_and_environment(server_process):
    _, address = server_process
    with RerankClient(address) as client:
        response = client.rerank("what is a panda?", ["a bear", "a car"])
        assert response.model == "tiny-process"
        assert client.model_info().models[0].name == "tiny-process"


def test_sigterm_finishes_calls_in_flight_then_exits_cleanly(server_process):
    process, address = server_process
    outcome: dict[str, object] = {}
    started = threading.Event()

    def long_call():
        with RerankClient(address, timeout=120) as client:
            started.set()
            try:
                outcome["response"] = client.rerank("panda", LONG_DOCUMENTS, max_length=256)
            except Exception as error:  # reported below
                outcome["error"] = error

    caller = threading.Thread(target=long_call)
    caller.start()
    started.wait(10)
    # The call is in flight once its tokens reach the queue; the log cannot say
    # when, so give it a moment (the call itself takes seconds on a CPU).
    threading.Event().wait(0.5)
    process.send_signal(signal.SIGTERM)
    caller.join(120)
    assert "error" not in outcome, outcome.get("error")
    assert len(outcome["response"].results) == len(LONG_DOCUMENTS)
    assert process.wait(60) == 0
    log = process.stderr.read()
    assert "finishing calls in flight" in log and '"message": "stopped"' in log
    with RerankClient(address, timeout=2) as client, pytest.raises(UnavailableError):
        client.rerank("panda", ["after shutdown"])


def test_a_model_that_cannot_load_stops_the_server_with_its_reason(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "rerank_server", "--model", str(tmp_path / "missing"), "--port", str(free_port())],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert "the server stopped" in result.stderr and "missing" in result.stderr
