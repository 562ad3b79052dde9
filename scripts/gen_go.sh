#!/usr/bin/env bash
# Generates the Go code of protos/ into plugin_client/go/rerankpb with buf and the
# pinned protoc-gen-go / protoc-gen-go-grpc. Never edit the generated files by hand;
# run this after changing a .proto.
# With --check, generates into a temporary folder and fails when the checked-in code differs.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
tools="$root/.cache/tools"
buf_version="1.75.0"
protoc_gen_go_version="v1.36.12"
protoc_gen_go_grpc_version="v1.6.2"
gomod="$root/plugin_client/go"

# install_go_tool NAME PACKAGE VERSION: go install PACKAGE@VERSION into $tools/bin unless
# that exact version is already there (the version is in every generated file's header).
install_go_tool() {
  local name="$1" package="$2" version="$3"
  if [[ "$("$tools/bin/$name" --version 2>/dev/null || true)" != *"${version#v}"* ]]; then
    GOBIN="$tools/bin" go install "$package@$version"
  fi
}

install_tools() {
  mkdir -p "$tools/bin"
  if [[ "$("$tools/node_modules/.bin/buf" --version 2>/dev/null || true)" != "$buf_version" ]]; then
    npm install --silent --no-audit --no-fund --prefix "$tools" "@bufbuild/buf@$buf_version" >/dev/null
  fi
  install_go_tool protoc-gen-go google.golang.org/protobuf/cmd/protoc-gen-go "$protoc_gen_go_version"
  install_go_tool protoc-gen-go-grpc google.golang.org/grpc/cmd/protoc-gen-go-grpc "$protoc_gen_go_grpc_version"
}

# generate OUT: writes OUT/rerankpb/rerank/v1/*.go
generate() {
  local out="$1"
  PATH="$tools/bin:$PATH" "$tools/node_modules/.bin/buf" generate "$root/protos" \
    --template "$gomod/buf.gen.yaml" --output "$out"
}

install_tools
if [[ "${1:-}" == "--check" ]]; then
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  generate "$tmp"
  if ! diff -ru "$gomod/rerankpb" "$tmp/rerankpb"; then
    echo "plugin_client/go/rerankpb is out of date: run scripts/gen_go.sh and commit the result" >&2
    exit 1
  fi
  echo "generated Go code matches protos/"
else
  rm -rf "$gomod/rerankpb"
  generate "$gomod"
  echo "generated plugin_client/go/rerankpb from protos/"
fi
