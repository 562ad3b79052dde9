"""rerank-gateway: flags (each with a RERANK_GATEWAY_* environment equivalent) -> settings -> uvicorn.

The only module of the gateway that reads the environment, and the files secrets come from.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import fields

from .engines import AUTO, ENGINES, ENGINE_CHOICES
from .passthrough import PASSTHROUGH_CLASSES
from .settings import GatewaySettings, listener_tls_args, url_without_credentials

HELP = {
    "opensearch_url": "OpenSearch's or Elasticsearch's URL (the --opensearch-* flags name whichever engine "
                      "the gateway fronts); user:password@ in it is sent as basic auth",
    "engine": "the engine behind --opensearch-url: 'opensearch', 'elasticsearch' (8.x or newer), or 'auto' "
              "(asks GET / once, when first needed)",
    "opensearch_user": "the gateway's own OpenSearch user (basic auth)",
    "opensearch_password": "password of --opensearch-user (better: the environment or --opensearch-password-file)",
    "opensearch_ca_file": "PEM CA bundle to check an https OpenSearch's certificate; empty = the system's CAs",
    "forward_authorization": "send the caller's Authorization header on to OpenSearch (then the caller's "
                             "identity, not the gateway's, reaches OpenSearch); cannot go with --api-key",
    "reranker_address": "host:port of the rerank gRPC server",
    "reranker_api_key": "API key sent to the reranker as 'authorization: Bearer KEY'",
    "reranker_ca_file": "PEM CA bundle to check the reranker's certificate; turns TLS on",
    "reranker_cert_file": "PEM client certificate for a reranker that wants mutual TLS",
    "reranker_key_file": "PEM private key of --reranker-cert-file",
    "passthrough": "what goes to OpenSearch: 'search' (searches and the read-only calls of a search client), "
                   "'read' (also every GET/HEAD that changes nothing, and _mget/_explain/_analyze...) or 'all'; "
                   "anything else gets 403",
    "tls_cert": "PEM certificate chain; with --tls-key the gateway listens over HTTPS",
    "tls_key": "PEM private key of --tls-cert",
    "tls_client_ca": "PEM CA bundle: callers must present a certificate it signed (mutual TLS)",
    "max_body_bytes": "largest request body (after gzip), else 413",
    "max_window_size": "most hits one search may send to the reranker (window_size, or from + size), else 400",
    "max_rerank_timeout_ms": "longest ext.rerank.timeout_ms a caller may ask for, else 400",
    "rerank_timeout_ms": "the reranker's deadline when ext.rerank has no timeout_ms",
    "opensearch_timeout_s": "OpenSearch's deadline for each request",
    "health_timeout_s": "each backend's deadline in GET /_rerank/health",
    "host": "address to listen on; 0.0.0.0 to serve other machines",
    "port": "port to listen on; 0 picks a free one",
    "log_level": "DEBUG, INFO, WARNING or ERROR",
}
CHOICES = {"passthrough": PASSTHROUGH_CLASSES, "engine": ENGINE_CHOICES}
# Secrets: never shown as a default in --help, and may come from a file (its first line)
# instead: --NAME-file, RERANK_GATEWAY_NAME_FILE.
SECRETS = ("opensearch_password", "reranker_api_key")


def flag_name(field_name: str) -> str:
    return "--" + field_name.replace("_", "-")


def env_name(field_name: str) -> str:
    return "RERANK_GATEWAY_" + field_name.upper()


def boolean(text: str | bool) -> bool:
    if isinstance(text, bool):
        return text
    if text.strip().lower() in ("1", "true", "yes", "on"):
        return True
    if text.strip().lower() in ("0", "false", "no", "off", ""):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got {text!r}")


def _converter(default: object) -> Callable:
    return boolean if isinstance(default, bool) else type(default)


def build_parser(environ: Mapping[str, str]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rerank-gateway",
        description="HTTP gateway in front of OpenSearch or Elasticsearch that reranks searches carrying ext.rerank.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    for field in fields(GatewaySettings):
        if field.name == "api_keys":
            continue
        convert = _converter(field.default)
        secret = field.name in SECRETS
        parser.add_argument(
            flag_name(field.name),
            type=convert,
            default=None if secret else environ.get(env_name(field.name), field.default),
            choices=CHOICES.get(field.name),
            help=f"{HELP[field.name]} [env {env_name(field.name)}]",
            **({"nargs": "?", "const": True} if convert is boolean else {}),
        )
    for name in SECRETS:
        parser.add_argument(
            flag_name(name) + "-file",
            default=environ.get(env_name(name) + "_FILE"),
            help=f"file whose first line is {flag_name(name)} [env {env_name(name)}_FILE]",
        )
    parser.add_argument(
        "--api-key",
        action="append",
        default=None,
        help="accept this key from callers ('Authorization: Bearer KEY'); repeat for several; GET /_rerank/health "
             "stays open; no key = anyone who reaches the gateway may use it "
             f"[env {env_name('api_key')}, comma-separated]",
    )
    parser.add_argument(
        "--api-key-file",
        default=environ.get(env_name("api_key_file")),
        help=f"file of accepted keys, one a line (# comments) [env {env_name('api_key_file')}]",
    )
    parser.set_defaults(api_key_env=[key for key in environ.get(env_name("api_key"), "").split(",") if key.strip()])
    return parser


def parse_settings(argv: list[str] | None = None, environ: Mapping[str, str] | None = None) -> GatewaySettings:
    environ = os.environ if environ is None else environ
    parser = build_parser(environ)
    args = parser.parse_args(argv)
    try:
        values = {
            f.name: _converter(f.default)(getattr(args, f.name))
            for f in fields(GatewaySettings)
            if f.name not in ("api_keys", *SECRETS)
        }
        for name in SECRETS:
            values[name] = _secret(name, args, environ)
        return GatewaySettings(**values, api_keys=_api_keys(args))
    except (ValueError, OSError, argparse.ArgumentTypeError) as error:
        parser.error(str(error))


def _api_keys(args: argparse.Namespace) -> tuple[str, ...]:
    keys = [key.strip() for key in (args.api_key or args.api_key_env)]
    if args.api_key_file:
        with open(args.api_key_file, encoding="utf-8") as file:
            keys += [line.strip() for line in file if line.strip() and not line.lstrip().startswith("#")]
    return tuple(keys)


def _secret(name: str, args: argparse.Namespace, environ: Mapping[str, str]) -> str:
    """From its flag, else its variable, or from its file: one of them."""
    given = getattr(args, name)
    value = given if given is not None else environ.get(env_name(name), "")
    path = getattr(args, f"{name}_file")
    if not path:
        return value
    if value:
        raise ValueError(f"give {flag_name(name)} or {flag_name(name)}-file, not both (flags or environment)")
    with open(path, encoding="utf-8") as file:
        return file.readline().strip()


def describe(settings: GatewaySettings) -> str:
    """What the gateway serves, for its first log line; no secret in it."""
    upstream = url_without_credentials(settings.opensearch_url)
    engine = ENGINES[settings.engine].title if settings.engine != AUTO else "OpenSearch or Elasticsearch (auto)"
    return (
        f"rerank-gateway on {settings.url_scheme}://{settings.host}:{settings.port} -> {engine} {upstream}, "
        f"reranker {settings.reranker_address}; passthrough {settings.passthrough}; "
        f"API keys {'on' if settings.api_keys else 'off'}; "
        f"caller's Authorization {'forwarded' if settings.forward_authorization else 'not forwarded'}"
    )


def main(argv: list[str] | None = None) -> None:
    settings = parse_settings(argv)
    import uvicorn

    from .app import create_app
    from .logs import configure_logging

    configure_logging(settings.log_level)
    log = logging.getLogger(__name__)
    log.info("%s", describe(settings))
    if settings.listens_beyond_this_host and not settings.api_keys:
        log.warning(
            "no API keys (--api-key, --api-key-file): whoever reaches %s:%d may send what --passthrough %s admits",
            settings.host, settings.port, settings.passthrough,
        )
    uvicorn.run(
        create_app(settings), host=settings.host, port=settings.port, log_level=settings.log_level.lower(),
        lifespan="on", access_log=False, **listener_tls_args(settings),
    )


if __name__ == "__main__":
    sys.exit(main())
