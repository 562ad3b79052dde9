#!/usr/bin/env bash
# Installs into .venv (first run) and starts rerank-server; arguments go to it.
#   scripts/serve.sh                                  # BAAI/bge-reranker-v2-gemma from the Hugging Face hub
#   scripts/serve.sh --model /path/to/model --port 50051
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
[[ -x "$root/.venv/bin/rerank-server" ]] || "$root/scripts/install.sh"
exec "$root/.venv/bin/rerank-server" "$@"
