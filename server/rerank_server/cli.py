"""rerank-server: flags (each with a RERANK_* environment equivalent) -> Settings -> serve.

The only module that reads the environment.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys

from pydantic import ValidationError

from .config import Settings

# flag -> (type, help). The default comes from Settings; RERANK_<FLAG> overrides it.
FLAGS: dict[str, tuple[type, str]] = {
    "model": (str, "Hugging Face model id or local directory to serve"),
    "served-model-name": (str, "name requests use for the model (default: --model)"),
    "host": (str, "address to bind; 0.0.0.0 to serve other machines"),
    "port": (int, "port to bind; 0 picks a free one"),
    "device": (str, "auto (cuda when present, else cpu), cpu, cuda, cuda:N"),
    "dtype": (str, "auto (bfloat16 on GPU, float32 on CPU), float32, bfloat16, float16"),
    "max-length": (int, "default token budget of a (query, document) pair"),
    "max-documents": (int, "most documents in one request"),
    "max-prompt-chars": (int, "longest custom prompt, in characters"),
    "batch-size": (int, "most pairs in one forward pass"),
    "max-batch-tokens": (int, "most padded tokens in one forward pass"),
    "max-wait-ms": (float, "how long an idle model waits to fill a batch"),
    "max-queued-pairs": (int, "pairs that may wait; past it requests get RESOURCE_EXHAUSTED"),
    "cache-size": (int, "entries in the score cache; 0 turns it off"),
    "shutdown-grace": (float, "seconds calls in flight get to finish on SIGTERM"),
    "log-level": (str, "DEBUG, INFO, WARNING or ERROR"),
}


def env_name(flag: str) -> str:
    return "RERANK_" + flag.upper().replace("-", "_")


def parse_settings(argv: list[str] | None = None, environ: dict[str, str] | None = None) -> Settings:
    environ = os.environ if environ is None else environ
    defaults = Settings()
    parser = argparse.ArgumentParser(
        prog="rerank-server",
        description="gRPC reranking server for bge-reranker-v2-gemma.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    for flag, (kind, help_text) in FLAGS.items():
        field = flag.replace("-", "_")
        parser.add_argument(
            f"--{flag}",
            type=kind,
            default=environ.get(env_name(flag), getattr(defaults, field)),
            help=f"{help_text} [env {env_name(flag)}]",
        )
    args = parser.parse_args(argv)
    try:
        return Settings(**vars(args))
    except ValidationError as error:
        problems = "; ".join(
            f"--{'-'.join(map(str, e['loc'])).replace('_', '-') or 'settings'}: {e['msg']}" for e in error.errors()
        )
        parser.error(problems)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(level: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    logging.basicConfig(level=level.upper(), handlers=[handler], force=True)


def main(argv: list[str] | None = None) -> None:
    settings = parse_settings(argv)
    configure_logging(settings.log_level)
    # Imported late: torch takes seconds to import, --help should not.
    from transformers.utils import logging as transformers_logging

    from .app import run
    from .scoring.registry import load_scorer

    transformers_logging.disable_progress_bar()  # keeps the JSON log one object a line

    try:
        asyncio.run(run(settings, lambda: load_scorer(settings)))
    except Exception as error:
        logging.getLogger("rerank_server").critical("the server stopped: %s", error, exc_info=True)
        raise SystemExit(1) from None


if __name__ == "__main__":
    main()
