"""rerank-gateway: flags (each with a RERANK_GATEWAY_* environment equivalent) -> settings -> uvicorn.

The only module of the gateway that reads the environment.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Mapping
from dataclasses import fields

from .settings import GatewaySettings

HELP = {
    "opensearch_url": "OpenSearch's URL; user:password@ in it is sent as basic auth",
    "reranker_address": "host:port of the rerank gRPC server",
    "reranker_api_key": "API key sent to the reranker as 'authorization: Bearer KEY'",
    "reranker_ca_file": "PEM CA bundle to check the reranker's certificate; turns TLS on",
    "reranker_cert_file": "PEM client certificate for a reranker that wants mutual TLS",
    "reranker_key_file": "PEM private key of --reranker-cert-file",
    "rerank_timeout_ms": "the reranker's deadline when ext.rerank has no timeout_ms",
    "opensearch_timeout_s": "OpenSearch's deadline for each request",
    "health_timeout_s": "each backend's deadline in GET /_rerank/health",
    "host": "address to listen on; 0.0.0.0 to serve other machines",
    "port": "port to listen on; 0 picks a free one",
    "log_level": "DEBUG, INFO, WARNING or ERROR",
}


def flag_name(field_name: str) -> str:
    return "--" + field_name.replace("_", "-")


def env_name(field_name: str) -> str:
    return "RERANK_GATEWAY_" + field_name.upper()


def parse_settings(argv: list[str] | None = None, environ: Mapping[str, str] | None = None) -> GatewaySettings:
    environ = os.environ if environ is None else environ
    parser = argparse.ArgumentParser(
        prog="rerank-gateway",
        description="HTTP gateway in front of OpenSearch that reranks searches carrying ext.rerank.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    for field in fields(GatewaySettings):
        parser.add_argument(
            flag_name(field.name),
            type=type(field.default),
            default=environ.get(env_name(field.name), field.default),
            help=f"{HELP[field.name]} [env {env_name(field.name)}]",
        )
    args = parser.parse_args(argv)
    try:
        # argparse converts flags, not defaults taken from the environment.
        return GatewaySettings(**{f.name: type(f.default)(getattr(args, f.name)) for f in fields(GatewaySettings)})
    except ValueError as error:
        parser.error(str(error))


def main(argv: list[str] | None = None) -> None:
    settings = parse_settings(argv)
    import uvicorn

    from .app import create_app

    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger(__name__).info(
        "rerank-gateway on http://%s:%d -> OpenSearch %s, reranker %s",
        settings.host, settings.port, settings.opensearch_url, settings.reranker_address,
    )
    uvicorn.run(
        create_app(settings), host=settings.host, port=settings.port,
        log_level=settings.log_level.lower(), lifespan="on",
    )


if __name__ == "__main__":
    sys.exit(main())
