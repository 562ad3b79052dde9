"""Graceful drain: `python -m rerank_server` under load gets SIGTERM. Every call
it accepted completes with the right answer, new calls are refused cleanly
(UNAVAILABLE), health turns NOT_SERVING, and the process exits 0 in the grace,
even with a health Watch stream open (as Envoy and grpc's client-side health
checking keep one)."""

from __future__ import annotations

import signal
import threading
import time
from dataclasses import dataclass

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from rerank_client import RerankClient, RerankError, UnavailableError

from tests.reliability.support import percentiles, record, server_process

CALLERS = 6
SHUTDOWN_GRACE = 60
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


@dataclass
class Call:
    started: float
    ended: float
    request: int
    outcome: object  # the response, or the error


def drain_requests() -> list[tuple[str, list[str]]]:
    """Requests that take the tiny model a while, so several are in the server at any moment."""
    return [
        (f"drain query {i}", [f"passage {i}-{j}: " + "the giant panda eats bamboo in the mountains " * (3 + j) for j in range(8)])
        for i in range(CALLERS * 2)
    ]


def test_sigterm_under_load_finishes_accepted_calls_refuses_new_ones_and_exits_0(tiny_model_dir):
    requests = drain_requests()
    with server_process(tiny_model_dir, "--batch-size", "4", "--shutdown-grace", str(SHUTDOWN_GRACE)) as server:
        with RerankClient(server.address, timeout=120) as client:
            alone = [[(r.index, r.score) for r in client.rerank(q, docs, raw_scores=True).results] for q, docs in requests]

        calls: list[Call] = []
        answered = threading.Semaphore(0)
        refused = threading.Event()

        def caller(number: int) -> None:
            with RerankClient(server.address, timeout=120) as own:
                for k in range(1000):
                    i = (number + k * CALLERS) % len(requests)
                    started = time.monotonic()
                    try:
                        outcome = own.rerank(*requests[i], raw_scores=True)
                    except RerankError as error:
                        outcome = error
                    calls.append(Call(started, time.monotonic(), i, outcome))
                    if isinstance(outcome, RerankError):
                        return  # refused (or worse, judged below): this caller is done
                    answered.release()

        health_updates: list[int] = []
        not_serving = threading.Event()
        channel = grpc.insecure_channel(server.address)
        watch = health_pb2_grpc.HealthStub(channel).Watch(health_pb2.HealthCheckRequest(service=""), timeout=300)

        def watch_health() -> None:
            """Keeps the stream open until the server ends it."""
            try:
                for update in watch:
                    health_updates.append(update.status)
                    if update.status == NOT_SERVING:
                        not_serving.set()
            except grpc.RpcError:
                pass

        threads = [threading.Thread(target=caller, args=(n,), daemon=True) for n in range(CALLERS)]
        watcher = threading.Thread(target=watch_health, daemon=True)
        watcher.start()
        for thread in threads:
            thread.start()
        for _ in range(2 * CALLERS):  # the load is on: calls are in the server right now
            assert answered.acquire(timeout=180)
        sigterm_at = time.monotonic()
        server.signal(signal.SIGTERM)

        assert not_serving.wait(60), health_updates
        with RerankClient(server.address, timeout=30) as late, pytest.raises(UnavailableError):
            late.rerank("a call after the drain began", ["x"])
        for thread in threads:
            thread.join(SHUTDOWN_GRACE + 60)
        exit_code = server.wait(SHUTDOWN_GRACE + 60)
        exited_at = time.monotonic()
        watcher.join(30)
        channel.close()
        watch.cancel()

    assert exit_code == 0, "".join(server.log)[-3000:]
    # Calls in flight took seconds; only something holding the server open (an open
    # health Watch) makes the drain last the whole grace.
    assert exited_at - sigterm_at < SHUTDOWN_GRACE, "the drain waited for the grace to run out"
    assert '"message": "stopped"' in "".join(server.log)
    in_flight = [c for c in calls if c.started < sigterm_at < c.ended]
    finished_after = [c for c in in_flight if not isinstance(c.outcome, RerankError)]
    for call in calls:
        if isinstance(call.outcome, RerankError):
            assert call.outcome.code == grpc.StatusCode.UNAVAILABLE, call.outcome  # never INTERNAL, CANCELLED, ...
        else:
            assert [index for index, _ in alone[call.request]] == [r.index for r in call.outcome.results]
            assert [r.score for r in call.outcome.results] == pytest.approx([s for _, s in alone[call.request]], abs=1e-5)
    assert finished_after, "no call was in the server when SIGTERM came"
    assert health_updates[-1] == NOT_SERVING
    record(
        "drain",
        callers=CALLERS, calls=len(calls), in_flight_at_sigterm=len(in_flight),
        in_flight_completed_ok=len(finished_after),
        refused_unavailable=sum(isinstance(c.outcome, RerankError) for c in calls),
        lost_or_broken=0, seconds_sigterm_to_exit=round(exited_at - sigterm_at, 1), shutdown_grace=SHUTDOWN_GRACE,
        **{f"call_{k}": v for k, v in percentiles([c.ended - c.started for c in calls]).items()},
    )
