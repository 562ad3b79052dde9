#!/usr/bin/env bash
# Creates the Elasticsearch (8.19+ / 9.1+) rerank inference endpoint $INFERENCE_ID: the `custom`
# service calling rerank-server's Cohere-shaped /v1/rerank (rerank-endpoint.json).
#
#   ELASTICSEARCH_URL [http://localhost:9200]   ELASTICSEARCH_AUTH  user:password, if any
#   RERANKER_URL [http://reranker:8080]  as Elasticsearch reaches it
#   RERANKER_MODEL [BAAI/bge-reranker-v2-gemma]   RERANKER_API_KEY [none]
#   INFERENCE_ID [rerank-server]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
# render (placeholders -> JSON) is shared with the OpenSearch scripts.
# shellcheck source=docker/opensearch/lib.sh
source "$here/../opensearch/lib.sh"

ELASTICSEARCH_URL="${ELASTICSEARCH_URL:-http://localhost:9200}"
RERANKER_URL="${RERANKER_URL:-http://reranker:8080}"
INFERENCE_ID="${INFERENCE_ID:-rerank-server}"

body="$(render "$here/rerank-endpoint.json" RERANKER_URL="${RERANKER_URL%/}" \
  RERANKER_MODEL="${RERANKER_MODEL:-BAAI/bge-reranker-v2-gemma}" \
  RERANKER_API_KEY="${RERANKER_API_KEY:-none}")"
curl --silent --show-error --fail-with-body -X PUT -H 'Content-Type: application/json' \
  ${ELASTICSEARCH_AUTH:+--user "$ELASTICSEARCH_AUTH"} \
  --data-binary "$body" "${ELASTICSEARCH_URL%/}/_inference/rerank/$INFERENCE_ID"
echo
log "search with a text_similarity_reranker retriever and inference_id $INFERENCE_ID (search.json)"
