"""Reliability suites: bad input, fuzzing, load, faults, drain, deadlines.

Each suite records its figures (counts, latency percentiles, RSS growth) with
support.record(); they are printed at the end of the run and, when
RERANK_RELIABILITY_REPORT names a file, written there as JSON:

    RERANK_RELIABILITY_REPORT=/tmp/reliability.json .venv/bin/python -m pytest -q tests/reliability
"""

from __future__ import annotations

import json
import os
import platform
import time

from tests.reliability.support import FIGURES

_STARTED = time.monotonic()


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if not FIGURES:
        return
    seconds = round(time.monotonic() - _STARTED, 1)
    terminalreporter.section("reliability figures")
    for suite, figures in sorted(FIGURES.items()):
        terminalreporter.write_line(f"{suite}: " + ", ".join(f"{k}={v}" for k, v in figures.items()))
    path = os.environ.get("RERANK_RELIABILITY_REPORT")
    if path:
        report = {
            "seconds": seconds,
            "exit_status": int(exitstatus),
            "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "load": os.getloadavg()},
            "suites": FIGURES,
        }
        with open(path, "w", encoding="utf-8") as file:
            json.dump(report, file, indent=2, sort_keys=True)
        terminalreporter.write_line(f"written to {path}")
