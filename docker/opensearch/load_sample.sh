#!/usr/bin/env bash
# Creates the index $INDEX_NAME (mapping: index.json) and bulk-loads a JSON-lines corpus into it,
# one document a line with an "id" (the _id) and the index.json fields.
# Skips both when the index already exists, so the compose loader can run again.
#
#   OPENSEARCH_URL [http://localhost:9200]   INDEX_NAME [rerank-demo]
#   CORPUS [docker/sample/corpus.jsonl]      WAIT_SECONDS [300]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=docker/opensearch/lib.sh
source "$here/lib.sh"

INDEX_NAME="${INDEX_NAME:-rerank-demo}"
CORPUS="${CORPUS:-$here/../sample/corpus.jsonl}"
WAIT_SECONDS="${WAIT_SECONDS:-300}"
[[ -r "$CORPUS" ]] || die "cannot read the corpus $CORPUS"

wait_for_cluster "$WAIT_SECONDS"
if OS_ALLOW_STATUS=404 os_call GET "/$INDEX_NAME" >/dev/null; then
  log "index $INDEX_NAME exists; not loading $CORPUS again"
  exit 0
fi

log "creating index $INDEX_NAME"
os_call PUT "/$INDEX_NAME" "$(cat "$here/index.json")" >/dev/null

bulk="$(mktemp)"
trap 'rm -f "$bulk"' EXIT
python3 - "$CORPUS" "$INDEX_NAME" >"$bulk" <<'PY'
import json, sys
corpus, index = sys.argv[1], sys.argv[2]
with open(corpus, encoding="utf-8") as lines:
    for number, line in enumerate(lines, 1):
        if line.strip():
            doc = json.loads(line)
            if "id" not in doc:
                sys.exit(f"{corpus}:{number}: a document needs an id")
            print(json.dumps({"index": {"_index": index, "_id": doc["id"]}}))
            print(json.dumps(doc, ensure_ascii=False))
PY
result="$(os_call POST "/_bulk?refresh=wait_for" "@$bulk")"
[[ "$(json_get errors <<<"$result")" == false ]] || die "bulk load had errors: $result"
log "loaded $(($(wc -l <"$bulk") / 2)) documents into $INDEX_NAME"
