"""(d) The server through gRPC: `python -m rerank_server` in its own process with
its default batching settings, and 1, 4, 16 ... concurrent clients (asyncio
tasks, one channel each, in this process) sending the workload's requests, one
query with its 20 to 200 documents each, from a shared queue. The server's
peak memory is its own VmHWM; the clients run on the same 2 cores, which the
numbers include."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import grpc
from rerank.v1 import rerank_pb2, rerank_pb2_grpc
from rerank_server.testing.harness import wait_until_serving

from . import workload
from .common import process_peak_rss_bytes, system_parser, write_result

LISTENING = re.compile(r"listening on ([\w.\-\[\]:]+):(\d+)")


def start_server(model: str, max_length: int, threads: int, log_path: Path) -> tuple[subprocess.Popen, str]:
    """Starts `python -m rerank_server --model MODEL` (SOURCE or NAME=SOURCE) on a free port."""
    env = dict(os.environ)
    if threads:
        env["OMP_NUM_THREADS"] = str(threads)
    log = log_path.open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "rerank_server", "--model", model, "--port", "0", "--max-length", str(max_length)],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        match = LISTENING.search(log_path.read_text())
        if match:
            return process, f"127.0.0.1:{match.group(2)}"
        if process.poll() is not None:
            break
        time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"the server did not start; its log:\n{log_path.read_text()[-3000:]}")


def to_pb(request: dict) -> rerank_pb2.RerankRequest:
    return rerank_pb2.RerankRequest(
        query=request["query"],
        documents=[rerank_pb2.Document(id=str(i), text=text) for i, text in enumerate(request["documents"])],
        raw_scores=True,
    )


async def run_clients(address: str, requests: list[rerank_pb2.RerankRequest], clients: int):
    """Sends every request once with `clients` in flight; returns per-request
    latencies (s), raw scores in request order and tokens, and the wall time."""
    queue = list(range(len(requests)))
    queue.reverse()
    latencies: list[float] = [0.0] * len(requests)
    scores: list[list[float]] = [[] for _ in requests]
    tokens = [0] * len(requests)

    async def client() -> None:
        async with grpc.aio.insecure_channel(address) as channel:
            stub = rerank_pb2_grpc.RerankerStub(channel)
            while queue:
                index = queue.pop()
                start = time.perf_counter()
                response = await stub.Rerank(requests[index], timeout=600)
                latencies[index] = time.perf_counter() - start
                by_index = sorted(response.results, key=lambda r: r.index)
                scores[index] = [r.score for r in by_index]
                tokens[index] = response.usage.tokens

    start = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    return latencies, scores, tokens, time.perf_counter() - start


def main() -> None:
    parser = system_parser(__doc__)
    parser.add_argument("--clients", default="1,4,16", help="comma-separated concurrency levels")
    parser.add_argument("--served-name", default="", help="serve the model as NAME (--model NAME=DIR)")
    args = parser.parse_args()
    requests = workload.load(args.workload)
    messages = [to_pb(r) for r in requests]
    log_path = Path(args.result).with_suffix(".server.log")
    model = f"{args.served_name}={args.model}" if args.served_name else args.model
    process, address = start_server(model, args.max_length, args.threads, log_path)
    try:
        wait_until_serving(address, timeout=300)
        rss_loaded = process_peak_rss_bytes(process.pid)
        warmup = rerank_pb2.RerankRequest(query="warm-up", documents=[rerank_pb2.Document(text="a b c")] * 4)
        asyncio.run(run_clients(address, [warmup], 1))
        levels = []
        for clients in [int(c) for c in args.clients.split(",")]:
            latencies, scores, tokens, seconds = asyncio.run(run_clients(address, messages, clients))
            levels.append(
                {
                    "clients": clients,
                    "pairs": sum(map(len, scores)),
                    "requests": len(messages),
                    "seconds": seconds,
                    "latencies_s": latencies,
                    "tokens": sum(tokens),
                }
            )
        server_peak = process_peak_rss_bytes(process.pid)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:
            process.kill()
    write_result(
        args.result,
        {
            "system": "grpc",
            "levels": levels,
            "pairs": levels[0]["pairs"],
            "peak_rss_bytes": server_peak,
            "peak_rss_after_load_bytes": rss_loaded,
            "full_lm_head": False,
            "server_log": str(log_path),
        },
        [score for request_scores in scores for score in request_scores],
    )


if __name__ == "__main__":
    main()
