# shellcheck shell=bash
# Helpers shared by apply.sh and load_sample.sh: HTTP to OpenSearch with curl, JSON with python3
# (the loader image has both; no jq). Sourced, never run.

OPENSEARCH_URL="${OPENSEARCH_URL:-http://localhost:9200}"
OPENSEARCH_URL="${OPENSEARCH_URL%/}"

log() { echo "$(basename "$0"): $*" >&2; }
die() { log "$*"; exit 1; }

# os_call METHOD PATH [BODY]: prints the response body; exits on a transport error or a non-2xx status
# (printing OpenSearch's error). With OS_ALLOW_STATUS=404 (say), that status is returned as 44.
os_call() {
  local method="$1" path="$2" body="${3:-}" status out
  out="$(mktemp)"
  local -a args=(--silent --show-error --output "$out" --write-out '%{http_code}' -X "$method"
    -H 'Content-Type: application/json' ${OPENSEARCH_AUTH:+--user "$OPENSEARCH_AUTH"})
  [[ -n "$body" ]] && args+=(--data-binary "$body")
  status="$(curl "${args[@]}" "$OPENSEARCH_URL$path")" || { rm -f "$out"; die "$method $path: no answer from $OPENSEARCH_URL"; }
  if [[ "$status" == 2* ]]; then
    cat "$out"; rm -f "$out"; return 0
  fi
  if [[ -n "${OS_ALLOW_STATUS:-}" && "$status" == "$OS_ALLOW_STATUS" ]]; then
    rm -f "$out"; return 44
  fi
  log "$method $path -> HTTP $status: $(cat "$out")"
  rm -f "$out"
  exit 1
}

# json_get PATH: reads JSON on stdin, prints the value at a dotted PATH (numbers index lists);
# prints nothing when the path is absent, so callers test for an empty result.
json_get() {
  python3 -c '
import json, sys
value = json.load(sys.stdin)
for key in sys.argv[1].split("."):
    try:
        value = value[int(key)] if isinstance(value, list) else value[key]
    except (KeyError, IndexError, ValueError, TypeError):
        sys.exit(0)
print(value if isinstance(value, str) else json.dumps(value))
' "$1"
}

# render FILE NAME=VALUE...: prints FILE with each {{NAME}} replaced by VALUE escaped for a JSON
# string. Fails when a placeholder is left unfilled or the result is not JSON, so a typo in a
# name stops the script instead of reaching OpenSearch.
render() {
  python3 - "$@" <<'PY'
import json, re, sys
path, pairs = sys.argv[1], sys.argv[2:]
values = dict(pair.split("=", 1) for pair in pairs)
text = open(path, encoding="utf-8").read()
def fill(match):
    name = match.group(1)
    if name not in values:
        sys.exit(f"{path}: no value for {{{{{name}}}}}")
    return json.dumps(values[name])[1:-1]
text = re.sub(r"\{\{([A-Z_]+)\}\}", fill, text)
json.loads(text)
sys.stdout.write(text)
PY
}

# wait_for_cluster SECONDS: until the cluster is yellow or green.
wait_for_cluster() {
  local deadline=$((SECONDS + $1))
  until curl --silent --fail ${OPENSEARCH_AUTH:+--user "$OPENSEARCH_AUTH"} \
      "$OPENSEARCH_URL/_cluster/health?wait_for_status=yellow&timeout=5s" >/dev/null; do
    ((SECONDS < deadline)) || die "OpenSearch at $OPENSEARCH_URL was not yellow within $1 s"
    sleep 2
  done
}
