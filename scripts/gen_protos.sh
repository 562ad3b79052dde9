#!/usr/bin/env bash
# Generates the Python code of protos/ into protos/python (the rerank-protos package).
# Never edit the generated files by hand; run this after changing a .proto.
# With --check, generates into a temporary folder and fails when the checked-in code differs.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
python="${PYTHON:-python}"

generate() {
  local out="$1"
  mkdir -p "$out/rerank/v1"
  "$python" -m grpc_tools.protoc -I "$root/protos" \
    --python_out="$out" --pyi_out="$out" --grpc_python_out="$out" \
    "$root/protos/rerank/v1/rerank.proto"
  : > "$out/rerank/__init__.py"
  : > "$out/rerank/v1/__init__.py"
}

if [[ "${1:-}" == "--check" ]]; then
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  generate "$tmp"
  if ! diff -ru "$root/protos/python/rerank" "$tmp/rerank"; then
    echo "protos/python is out of date: run scripts/gen_protos.sh and commit the result" >&2
    exit 1
  fi
  echo "generated Python code matches protos/"
else
  generate "$root/protos/python"
fi
