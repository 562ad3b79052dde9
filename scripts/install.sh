#!/usr/bin/env bash
# Creates .venv and installs the server, the client, the generated protos and
# the test tools into it, all from PyPI and this repository. Safe to re-run.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
venv="${RERANK_VENV:-$root/.venv}"
python="${PYTHON:-python3}"

if [[ ! -x "$venv/bin/python" ]]; then
  "$python" -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --upgrade "pip>=24"
"$venv/bin/python" -m pip install --quiet \
  -e "$root/protos/python" \
  -e "$root/plugin_client[all]" \
  -e "$root/server" \
  -r "$root/tests/requirements.txt"
echo "installed into $venv"
