#!/usr/bin/env bash
# Lints protos/ with buf (the @bufbuild/buf package from the npm registry).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
tools="$root/.cache/tools"
if [[ ! -x "$tools/node_modules/.bin/buf" ]]; then
  mkdir -p "$tools"
  npm install --silent --no-audit --no-fund --prefix "$tools" "@bufbuild/buf@1.75.0" >/dev/null
fi
cd "$root/protos"
"$tools/node_modules/.bin/buf" lint
echo "buf lint: protos/ is clean"
