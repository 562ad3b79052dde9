#!/usr/bin/env bash
# The test command: installs everything into .venv, checks the generated code and
# the contract, then runs the whole pytest suite. Extra arguments go to pytest.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
scripts/install.sh
export PATH="$root/.venv/bin:$PATH"
scripts/gen_protos.sh --check
scripts/gen_go.sh --check
scripts/lint_protos.sh
python -m pytest "$@"
