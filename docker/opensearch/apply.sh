#!/usr/bin/env bash
# Connects OpenSearch (2.19) to rerank-server through ML Commons and creates the search pipeline:
#
#   1. cluster-settings.json   trust the reranker's URL, allow private IPs, ML on any node
#   2. model-group.json        found by name or registered
#   3. connector.json          found by name or created: an HTTP connector to $RERANKER_URL/v1/rerank
#   4. model.json              found by name or registered (function_name remote), then deployed
#   5. predict-check.json      one text_similarity prediction: fails here, not at search time,
#                              when OpenSearch cannot reach the reranker
#   6. pipeline.json           PUT _search/pipeline/$PIPELINE_NAME, the rerank response processor
#                              (neural-search's; skipped with SKIP_PIPELINE=1)
#
# Safe to re-run: what exists (by name) is reused. To point an existing setup at another URL or
# model, delete the model and the connector in OpenSearch first.
#
# Environment (defaults in brackets):
#   OPENSEARCH_URL     [http://localhost:9200]         OPENSEARCH_AUTH  user:password for curl, if any
#   RERANKER_URL       [http://reranker:8080]  rerank-server's HTTP API as OpenSearch reaches it
#   RERANKER_MODEL     [BAAI/bge-reranker-v2-gemma]  the name the server serves (its `model`)
#   RERANKER_API_KEY   [none]  sent as a Bearer token (rerank-server's --api-key); ML Commons
#                      requires a credential even when the reranker checks none
#   PIPELINE_NAME      [rerank-pipeline]   DOCUMENT_FIELD [text]   the _source field to score
#   MODEL_NAME         [bge-reranker-v2-gemma]   CONNECTOR_NAME [rerank-server]
#   MODEL_GROUP_NAME   [rerank]   WAIT_SECONDS [300]
#   SKIP_PIPELINE      [0]  1: stop after step 5, for a node without the neural-search plugin
#                      (which brings the `rerank` processor; without it step 6 fails with
#                      "Invalid processor type rerank"), e.g. to call _predict or ml_inference only
# Prints the model id on stdout.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=docker/opensearch/lib.sh
source "$here/lib.sh"

RERANKER_URL="${RERANKER_URL:-http://reranker:8080}"
RERANKER_URL="${RERANKER_URL%/}"
RERANKER_MODEL="${RERANKER_MODEL:-BAAI/bge-reranker-v2-gemma}"
RERANKER_API_KEY="${RERANKER_API_KEY:-none}"
PIPELINE_NAME="${PIPELINE_NAME:-rerank-pipeline}"
DOCUMENT_FIELD="${DOCUMENT_FIELD:-text}"
MODEL_NAME="${MODEL_NAME:-bge-reranker-v2-gemma}"
CONNECTOR_NAME="${CONNECTOR_NAME:-rerank-server}"
MODEL_GROUP_NAME="${MODEL_GROUP_NAME:-rerank}"
WAIT_SECONDS="${WAIT_SECONDS:-300}"
SKIP_PIPELINE="${SKIP_PIPELINE:-0}"
ml=/_plugins/_ml

# find_id KIND NAME: the id of the ML Commons object KIND (models, connectors, model_groups)
# named NAME, or nothing. A missing system index (nothing registered yet) counts as none.
find_id() {
  local query result
  query="$(python3 -c 'import json, sys; print(json.dumps({"size": 1, "query": {"term": {"name.keyword": sys.argv[1]}}}))' "$2")"
  if result="$(OS_ALLOW_STATUS=404 os_call POST "$ml/$1/_search" "$query")"; then
    json_get hits.hits.0._id <<<"$result"
  fi
}

wait_for_cluster "$WAIT_SECONDS"

log "1/6 cluster settings: trusting $RERANKER_URL"
url_regex="$(python3 -c 'import re, sys; print("^" + re.escape(sys.argv[1]) + "/.*$")' "$RERANKER_URL")"
os_call PUT /_cluster/settings "$(render "$here/cluster-settings.json" RERANKER_URL_REGEX="$url_regex")" >/dev/null

model_id="$(find_id models "$MODEL_NAME")"
if [[ -z "$model_id" ]]; then
  log "2/6 model group $MODEL_GROUP_NAME"
  group_id="$(find_id model_groups "$MODEL_GROUP_NAME")"
  if [[ -z "$group_id" ]]; then
    group_id="$(os_call POST "$ml/model_groups/_register" \
      "$(render "$here/model-group.json" MODEL_GROUP_NAME="$MODEL_GROUP_NAME")" | json_get model_group_id)"
  fi

  log "3/6 connector $CONNECTOR_NAME -> $RERANKER_URL/v1/rerank"
  connector_id="$(find_id connectors "$CONNECTOR_NAME")"
  if [[ -z "$connector_id" ]]; then
    connector_id="$(os_call POST "$ml/connectors/_create" "$(render "$here/connector.json" \
      CONNECTOR_NAME="$CONNECTOR_NAME" RERANKER_URL="$RERANKER_URL" \
      RERANKER_MODEL="$RERANKER_MODEL" RERANKER_API_KEY="$RERANKER_API_KEY")" | json_get connector_id)"
  fi
  [[ -n "$group_id" && -n "$connector_id" ]] || die "no model group or connector id came back"

  log "4/6 registering model $MODEL_NAME"
  registered="$(os_call POST "$ml/models/_register" "$(render "$here/model.json" \
    MODEL_NAME="$MODEL_NAME" MODEL_GROUP_ID="$group_id" CONNECTOR_ID="$connector_id")")"
  model_id="$(json_get model_id <<<"$registered")"
  task_id="$(json_get task_id <<<"$registered")"
  deadline=$((SECONDS + WAIT_SECONDS))
  while [[ -z "$model_id" ]]; do  # older releases answer with the task only
    ((SECONDS < deadline)) || die "registration task $task_id gave no model id within $WAIT_SECONDS s"
    sleep 1
    model_id="$(os_call GET "$ml/tasks/$task_id" | json_get model_id)"
  done
else
  log "2-4/6 model $MODEL_NAME exists: $model_id"
fi

log "4/6 deploying model $model_id"
os_call POST "$ml/models/$model_id/_deploy" >/dev/null
deadline=$((SECONDS + WAIT_SECONDS))
until [[ "$(os_call GET "$ml/models/$model_id" | json_get model_state)" == DEPLOYED ]]; do
  ((SECONDS < deadline)) || die "model $model_id was not DEPLOYED within $WAIT_SECONDS s"
  sleep 1
done

log "5/6 checking OpenSearch -> reranker with one prediction"
prediction="$(os_call POST "$ml/_predict/text_similarity/$model_id" "$(cat "$here/predict-check.json")")"
scores="$(python3 -c '
import json, sys
outputs = json.load(sys.stdin)["inference_results"][0]["output"]
print(" ".join(str(o["data"][0]) for o in outputs))' <<<"$prediction")" \
  || die "unexpected prediction from model $model_id: $prediction"
log "   scores of the two check documents: $scores"

if [[ "$SKIP_PIPELINE" == 1 ]]; then
  log "6/6 search pipeline skipped (SKIP_PIPELINE=1)"
  log "done: predict with POST $ml/_predict/text_similarity/$model_id"
else
  log "6/6 search pipeline $PIPELINE_NAME (document field $DOCUMENT_FIELD)"
  os_call PUT "/_search/pipeline/$PIPELINE_NAME" \
    "$(render "$here/pipeline.json" MODEL_ID="$model_id" DOCUMENT_FIELD="$DOCUMENT_FIELD")" >/dev/null
  log "done: search with ?search_pipeline=$PIPELINE_NAME and ext.rerank.query_context.query_text"
fi
echo "$model_id"
