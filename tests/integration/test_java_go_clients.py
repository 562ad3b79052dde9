"""The Java and Go clients' own test suites, run against the session's real server.

Each suite gets the server's address in RERANK_ADDR; a suite that fails prints its
tool's output. The first Maven run downloads the build's plugins and libraries into
~/.m2 (a few minutes on a fresh machine); later runs are offline-fast.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
JAVA_DIR = ROOT / "plugin_client" / "java"
GO_DIR = ROOT / "plugin_client" / "go"


def run_tool(command: list[str], cwd: Path, timeout: float, env: dict[str, str] | None = None) -> str:
    """Runs command, failing the test with its output when it fails or overruns."""
    if shutil.which(command[0]) is None:
        pytest.fail(f"{command[0]} is not installed: run scripts/install_system.sh")
    try:
        done = subprocess.run(
            command, cwd=cwd, env={**os.environ, **(env or {})}, capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired as error:
        pytest.fail(f"{' '.join(command)} did not finish in {timeout:.0f}s:\n{error.stdout}\n{error.stderr}")
    if done.returncode != 0:
        pytest.fail(f"{' '.join(command)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
    return done.stdout + done.stderr


def surefire_counts(reports: Path) -> dict[str, int]:
    """Sums tests, failures, errors and skipped over Surefire's XML reports."""
    counts = dict.fromkeys(("tests", "failures", "errors", "skipped"), 0)
    for report in reports.glob("TEST-*.xml"):
        suite = ElementTree.parse(report).getroot()
        for key in counts:
            counts[key] += int(suite.get(key, 0))
    return counts


@pytest.mark.slow
@pytest.mark.timeout(1500)
def test_java_client_suite_passes_against_the_server(rerank_address):
    reports = JAVA_DIR / "target" / "surefire-reports"
    shutil.rmtree(reports, ignore_errors=True)
    output = run_tool(["mvn", "-B", "-q", "test"], JAVA_DIR, timeout=1400, env={"RERANK_ADDR": rerank_address})

    counts = surefire_counts(reports)
    # A live test that skipped would pass without checking anything.
    assert counts["tests"] > 0 and counts["skipped"] == 0, f"{counts}\n{output}"
    assert counts["failures"] == counts["errors"] == 0, f"{counts}\n{output}"
    print(f"Java client: {counts['tests']} passed, 0 failed")


@pytest.mark.slow
def test_go_client_suite_passes_against_the_server(rerank_address):
    output = run_tool(["go", "test", "-count=1", "./..."], GO_DIR, timeout=540, env={"RERANK_ADDR": rerank_address})

    assert "ok  \tgithub.com/rerank-service/rerank/plugin_client/go/rerank" in output, output


@pytest.mark.slow
def test_generated_go_code_matches_the_protos():
    output = run_tool(["bash", str(ROOT / "scripts" / "gen_go.sh"), "--check"], ROOT, timeout=540)

    assert "generated Go code matches protos/" in output, output
