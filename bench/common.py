"""What every system runner shares: its command line, the clock, peak memory and
the JSON it hands back to bench.run. Stdlib and torch only, because the
FlagEmbedding runner imports it from its own venv."""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import torch

WARMUP_PAIRS = 4
"""Pairs each system scores before the clock starts (first-call allocations)."""


def system_parser(description: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--model", required=True, help="saved model directory")
    parser.add_argument("--workload", required=True, help="requests JSON from bench.workload")
    parser.add_argument("--result", required=True, help="where to write this system's JSON")
    parser.add_argument("--max-length", type=int, default=1024)
    parser.add_argument("--threads", type=int, default=0, help="torch threads; 0 keeps torch's default")
    return parser


def configure_threads(threads: int) -> int:
    if threads:
        torch.set_num_threads(threads)
    return torch.get_num_threads()


def rss_bytes() -> int:
    """Resident set size now."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def peak_rss_bytes() -> int:
    """Highest resident set size of this process so far: its VmHWM. Not
    getrusage's ru_maxrss, which Linux carries over exec from the process that
    spawned this one, so every system would report at least bench.run's peak."""
    return process_peak_rss_bytes(os.getpid())


def process_peak_rss_bytes(pid: int) -> int:
    """VmHWM, the peak resident set size, of another live process."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmHWM for process {pid}")


class Clock:
    def __enter__(self) -> Clock:
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc) -> None:
        self.seconds = time.perf_counter() - self.start


def write_result(path: str, result: dict, scores: list[float] | None = None) -> None:
    """Writes the JSON bench.run reads; scores go to a side file for the parity check."""
    if scores is not None:
        scores_path = Path(path).with_suffix(".scores.json")
        scores_path.write_text(json.dumps(scores))
        result["scores_file"] = str(scores_path)
    result.setdefault("peak_rss_bytes", peak_rss_bytes())
    result.setdefault("torch_threads", torch.get_num_threads())
    result.setdefault("torch_version", torch.__version__)
    Path(path).write_text(json.dumps(result, indent=2))
