# Helpers shared by scripts/opensearch.sh and scripts/elasticsearch.sh, which source this file
# after defining log and die, and set run_dir (a node's run directory) and service_user (the
# system user a node runs as when started by root).
# shellcheck shell=bash disable=SC2154  # run_dir and service_user come from the sourcing script

# maven_get COORDINATES:TYPE DIR: copies one artifact from Maven Central into DIR.
maven_get() {
  command -v mvn >/dev/null || die "Maven (mvn) is needed to fetch $1; run scripts/install_system.sh"
  log "fetching $1 from Maven Central"
  mvn -q -B org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy \
    "-Dartifact=$1" "-DoutputDirectory=$2" >&2
}

# The feature version of the java $1 (17, 21, 25), or 0 when it does not run.
java_feature() {
  local spec
  spec="$("$1" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p')" || true
  [[ "$spec" =~ ^[0-9]+$ ]] && echo "$spec" || echo 0
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

running_pid() {
  local pid
  pid="$(cat "$run_dir/pid" 2>/dev/null)" || return 1
  kill -0 "$pid" 2>/dev/null && echo "$pid"
}

# Prints the cluster health JSON; with $1 > 0, waits up to $1 s for yellow and fails unless it came.
health() {
  python3 - "$(cat "$run_dir/url")" "$1" <<'EOF'
import sys, urllib.request
url, wait = sys.argv[1], int(sys.argv[2])
query = f"/_cluster/health?wait_for_status=yellow&timeout={wait}s" if wait else "/_cluster/health"
with urllib.request.urlopen(url + query, timeout=wait + 5) as response:
    print(response.read().decode())
EOF
}

as_service_user() {
  if [[ $(id -u) -eq 0 ]]; then
    id -u "$service_user" >/dev/null 2>&1 \
      || useradd --system --no-create-home --shell /usr/sbin/nologin "$service_user"
    chown -R "$service_user:" "$run_dir"
    runuser -u "$service_user" -- test -x "$run_dir/config" \
      || die "user $service_user cannot reach $run_dir: every parent folder needs o+x (or use one under /tmp)"
    runuser -u "$service_user" -- "$@"
  else
    "$@"
  fi
}
