"""rerank-server: flags (each with a RERANK_* environment equivalent) -> Settings -> serve.

The only module that reads the environment.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
from collections.abc import Mapping

from pydantic import ValidationError

from .config import DEFAULT_MODEL, ModelSpec, Settings
from .logs import configure_logging

# flag -> (type, help). The default comes from Settings; RERANK_<FLAG> overrides it.
FLAGS: dict[str, tuple[type, str]] = {
    "host": (str, "address to bind; 0.0.0.0 to serve other machines"),
    "port": (int, "gRPC port to bind; 0 picks a free one"),
    "http-port": (int, "port of the Cohere-shaped HTTP API (/v1/rerank, /v2/rerank, /health); 0 turns it off"),
    "max-message-bytes": (int, "largest gRPC request message or HTTP request body"),
    "device": (str, "auto (cuda when present, else cpu), cpu, cuda, cuda:N"),
    "dtype": (str, "auto (bfloat16 on GPU, float32 on CPU), float32, bfloat16, float16"),
    "max-length": (int, "default token budget of a (query, document) pair (default: 1024 for "
                        "llm-yes-logit models, 512 for cross-encoders)"),
    "max-documents": (int, "most documents in one request"),
    "max-prompt-chars": (int, "longest custom prompt, in characters"),
    "max-query-chars": (int, "longest query, in characters; 0 = no limit"),
    "max-document-chars": (int, "longest document, in characters; 0 = no limit"),
    "max-request-tokens": (int, "most tokens one request may feed the model; 0 = no limit"),
    "batch-size": (int, "most pairs in one forward pass"),
    "max-batch-tokens": (int, "most padded tokens in one forward pass"),
    "max-wait-ms": (float, "how long an idle model waits to fill a batch"),
    "max-padding-ratio": (float, "padding a batch may hold, as a share of its real tokens "
                                 "(default: 0.1 on CPU, where padding is pure waste; no bound on GPU)"),
    "max-queued-pairs": (int, "pairs that may wait per model; past it requests get RESOURCE_EXHAUSTED"),
    "cache-size": (int, "entries in each model's score cache; 0 turns it off"),
    "shutdown-grace": (float, "seconds calls in flight get to finish on SIGTERM"),
    "log-level": (str, "DEBUG, INFO, WARNING or ERROR"),
    "metrics-port": (int, "port of the Prometheus /metrics endpoint; 0 turns it off"),
    "tls-cert": (str, "PEM certificate chain; with --tls-key serves gRPC and HTTP over TLS"),
    "tls-key": (str, "PEM private key of --tls-cert"),
    "tls-client-ca": (str, "PEM CA bundle: clients must present a certificate it signed (mutual TLS)"),
}
# Flags that may repeat; their variable holds a comma-separated list.
LIST_FLAGS: dict[str, str] = {
    "model": "model to serve, SOURCE or NAME=SOURCE (a Hugging Face id or a local directory); repeat "
             f"it to serve several, the first is the default (default: {DEFAULT_MODEL})",
    "model-kind": "force a model's kind, NAME=KIND with KIND llm-yes-logit or cross-encoder "
                  "(default: detected from the model's config)",
    "api-key": "accept this bearer key ('authorization: Bearer KEY'); repeat for several; health stays open",
}


def env_name(flag: str) -> str:
    return "RERANK_" + flag.upper().replace("-", "_")


def build_parser(environ: Mapping[str, str]) -> argparse.ArgumentParser:
    defaults = Settings()
    parser = argparse.ArgumentParser(
        prog="rerank-server",
        description="gRPC reranking server for bge-reranker-v2-gemma and bge-reranker-v2-m3.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    for flag, help_text in LIST_FLAGS.items():
        value = environ.get(env_name(flag), "")
        parser.add_argument(
            f"--{flag}",
            action="append",
            default=None,
            help=f"{help_text} [env {env_name(flag)}, comma-separated]",
        )
        parser.set_defaults(**{f"{flag.replace('-', '_')}_env": [v for v in value.split(",") if v]})
    parser.add_argument(
        "--served-model-name",
        default=environ.get(env_name("served-model-name"), ""),
        help=f"name of the first model in requests (default: its source) [env {env_name('served-model-name')}]",
    )
    parser.add_argument(
        "--api-key-file",
        default=environ.get(env_name("api-key-file")),
        help=f"file of accepted keys, one a line (# comments) [env {env_name('api-key-file')}]",
    )
    parser.add_argument(
        "--models-file",
        default=environ.get(env_name("models-file")),
        help='JSON list of models, [{"name": ..., "source": ..., "kind": ..., "max_length": ...}], '
             f"served after any --model [env {env_name('models-file')}]",
    )
    for flag, (kind, help_text) in FLAGS.items():
        field = flag.replace("-", "_")
        parser.add_argument(
            f"--{flag}",
            type=kind,
            default=environ.get(env_name(flag), getattr(defaults, field)),
            help=f"{help_text} [env {env_name(flag)}]",
        )
    return parser


def model_specs(args: argparse.Namespace) -> tuple[ModelSpec, ...]:
    specs = [ModelSpec.parse(text) for text in (args.model or args.model_env)]
    if args.models_file:
        with open(args.models_file, encoding="utf-8") as file:
            specs += [ModelSpec(**entry) for entry in json.load(file)]
    if not specs:
        specs = [ModelSpec(source=DEFAULT_MODEL)]
    if args.served_model_name:
        specs[0] = specs[0].model_copy(update={"name": args.served_model_name})
    kinds = dict(text.partition("=")[::2] for text in (args.model_kind or args.model_kind_env))
    unknown = sorted(set(kinds) - {spec.served_name for spec in specs})
    if unknown:
        raise ValueError(f"--model-kind names no served model: {', '.join(unknown)}")
    return tuple(spec.model_copy(update={"kind": kinds.get(spec.served_name, spec.kind)}) for spec in specs)


def api_keys(args: argparse.Namespace) -> tuple[str, ...]:
    keys = list(args.api_key or args.api_key_env)
    if args.api_key_file:
        with open(args.api_key_file, encoding="utf-8") as file:
            keys += [line.strip() for line in file if line.strip() and not line.lstrip().startswith("#")]
    return tuple(keys)


def parse_settings(argv: list[str] | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    parser = build_parser(os.environ if environ is None else environ)
    args = parser.parse_args(argv)
    values = {flag.replace("-", "_"): getattr(args, flag.replace("-", "_")) for flag in FLAGS}
    try:
        return Settings(models=model_specs(args), api_keys=api_keys(args), **values)
    except (ValidationError, ValueError, OSError) as error:
        parser.error(_describe(error))


def _describe(error: Exception) -> str:
    if not isinstance(error, ValidationError):
        return str(error)
    return "; ".join(
        f"--{'-'.join(map(str, e['loc'])).replace('_', '-') or 'settings'}: {e['msg']}" for e in error.errors()
    )


def main(argv: list[str] | None = None) -> None:
    settings = parse_settings(argv)
    configure_logging(settings.log_level)
    # Imported late: torch takes seconds to import, --help should not.
    from transformers.utils import logging as transformers_logging

    from .app import run

    transformers_logging.disable_progress_bar()  # keeps the JSON log one object a line

    try:
        asyncio.run(run(settings))
    except Exception as error:
        logging.getLogger("rerank_server").critical("the server stopped: %s", error, exc_info=True)
        raise SystemExit(1) from None


if __name__ == "__main__":
    main()
