#!/usr/bin/env python3
"""Container health probe, installed in the images as `rerank-healthcheck`.

    rerank-healthcheck grpc [ADDRESS]   grpc.health.v1 Check; ADDRESS defaults to
                                        127.0.0.1:$RERANK_PORT (50051)
    rerank-healthcheck http URL         GET URL; healthy on a 2xx answer

Exit 0 when healthy, 1 otherwise, with one line on stderr saying why: what Docker's
HEALTHCHECK and compose's healthcheck expect. A script rather than a downloaded
grpc_health_probe binary: the image already has grpcio and grpcio-health-checking,
and the http mode needs only the standard library (the gateway image has no grpc_health).
"""

from __future__ import annotations

import argparse
import os
import sys
import urllib.error
import urllib.request


def check_grpc(address: str, service: str, timeout: float) -> str | None:
    """None when `service` is SERVING at `address`, else what is wrong."""
    import grpc  # imported here: the http mode must work without grpc installed
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    with grpc.insecure_channel(address) as channel:
        try:
            reply = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service=service), timeout=timeout
            )
        except grpc.RpcError as error:
            return f"{address}: {error.code().name}: {error.details()}"
    if reply.status != health_pb2.HealthCheckResponse.SERVING:
        return f"{address}: {health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)}"
    return None


def check_http(url: str, timeout: float) -> str | None:
    """None when GET `url` answers 2xx, else what is wrong."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 (local URL)
            status = response.status
    except urllib.error.HTTPError as error:
        status = error.code
    except (urllib.error.URLError, OSError) as error:
        return f"{url}: {error}"
    return None if 200 <= status < 300 else f"{url}: HTTP {status}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="rerank-healthcheck", description=__doc__.splitlines()[0])
    parser.add_argument("--timeout", type=float, default=3.0, help="seconds to wait for an answer")
    modes = parser.add_subparsers(dest="mode", required=True)
    grpc_mode = modes.add_parser("grpc", help="grpc.health.v1 Check")
    grpc_mode.add_argument("address", nargs="?", default=f"127.0.0.1:{os.environ.get('RERANK_PORT', '50051')}")
    grpc_mode.add_argument("--service", default="", help='service name to check ("" = the whole server)')
    http_mode = modes.add_parser("http", help="HTTP GET, healthy on 2xx")
    http_mode.add_argument("url")
    args = parser.parse_args(argv)

    if args.mode == "grpc":
        problem = check_grpc(args.address, args.service, args.timeout)
    else:
        problem = check_http(args.url, args.timeout)
    if problem:
        print(f"unhealthy: {problem}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
