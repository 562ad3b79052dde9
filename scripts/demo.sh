#!/usr/bin/env bash
# One command: OpenSearch + a reranker + rerank-gateway, the sample corpus, a few
# queries printed as BM25 order next to reranked order, then everything stops.
#
#   scripts/demo.sh                          tiny random model: the reranked order is noise
#   RERANK_MODEL=BAAI/bge-reranker-v2-gemma scripts/demo.sh    a real model (dir or hub id)
#
# Needs scripts/install.sh run first (the .venv), Java 17 and Maven (OpenSearch).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bin="${RERANK_VENV:-$root/.venv}/bin"
work="$(mktemp -d /tmp/rerank-demo-XXXXXX)"
chmod 755 "$work"  # OpenSearch runs as its own user (when we are root) and must reach its run dir
export OPENSEARCH_RUN_DIR="$work/opensearch"
pids=()

cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  "$root/scripts/opensearch.sh" stop 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { "$bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

echo "== OpenSearch"
mkdir -p "$OPENSEARCH_RUN_DIR"
opensearch_url="$("$root/scripts/opensearch.sh" start)"

echo "== reranker"
model="${RERANK_MODEL:-}"
served_name=()
if [[ -z "$model" ]]; then
  model="$work/tiny-gemma"
  served_name=(--served-model-name tiny-random-gemma)
  "$bin/python" -m rerank_server.testing.tiny_model "$model" >"$work/tiny-model.log" 2>&1 \
    || { cat "$work/tiny-model.log" >&2; exit 1; }
  cat <<'EOF'
  ************************************************************************
  * No RERANK_MODEL given: using a TINY RANDOM model built for tests.    *
  * Its scores are RANDOM, so the reranked order below means nothing.   *
  * Set RERANK_MODEL=BAAI/bge-reranker-v2-gemma (or a local copy) for    *
  * real relevance.                                                      *
  ************************************************************************
EOF
fi
rerank_port="$(free_port)"
"$bin/rerank-server" --model "$model" "${served_name[@]}" --port "$rerank_port" --log-level WARNING &
pids+=($!)
"$bin/python" -c "from rerank_server.testing.harness import wait_until_serving as w; w('127.0.0.1:$rerank_port', 600)"

echo "== rerank-gateway"
gateway_port="$(free_port)"
"$bin/rerank-gateway" --opensearch-url "$opensearch_url" --reranker-address "127.0.0.1:$rerank_port" \
  --port "$gateway_port" --log-level WARNING &
pids+=($!)

echo "== corpus"
"$bin/python" "$root/tests/data/search_corpus.py" "$opensearch_url" articles

"$bin/python" - "$opensearch_url" "http://127.0.0.1:$gateway_port" <<'EOF'
import json, sys, time, urllib.request

opensearch_url, gateway_url = sys.argv[1:]

def post(url, body):
    request = urllib.request.Request(url, json.dumps(body).encode(), {"content-type": "application/json"})
    with urllib.request.urlopen(request, timeout=120) as response:
        return json.load(response)

deadline = time.monotonic() + 30
while True:  # the gateway is a separate process: wait for its health to answer
    try:
        health = json.load(urllib.request.urlopen(gateway_url + "/_rerank/health", timeout=5))
        break
    except OSError:
        if time.monotonic() > deadline:
            sys.exit("rerank-gateway did not answer within 30 s")
        time.sleep(0.2)
print(f"gateway health: {health['status']} (OpenSearch {health['opensearch']['status']}, "
      f"reranker {health['reranker']['status']})")

for query in ["what do giant pandas eat", "how do bears survive winter", "python asyncio coroutines"]:
    body = {"query": {"multi_match": {"query": query, "fields": ["title", "body"]}}, "size": 5}
    bm25 = post(f"{opensearch_url}/articles/_search", body)["hits"]["hits"]
    rerank = {"query_context": {"query_text": query}, "document_fields": ["title", "body"], "window_size": 10}
    reranked = post(f"{gateway_url}/articles/_search", {**body, "ext": {"rerank": rerank}})
    status = reranked["ext"]["rerank"]
    print(f"\nquery: {query!r}   (rerank {status['status']}, model {status['model']}, {status['took']} ms)")
    print(f"  {'BM25':<44} {'reranked (window of 10)':<44}")
    for left, right in zip(bm25, reranked["hits"]["hits"]):
        print(f"  {left['_score']:6.2f} {left['_source']['title'][:36]:<37} "
              f"{right['_score']:6.3f} {right['_source']['title'][:36]:<37}")
EOF
echo
echo "== done; stopping everything"
