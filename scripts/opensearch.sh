#!/usr/bin/env bash
# A real single-node OpenSearch on 127.0.0.1 for the tests and the demo.
#
#   scripts/opensearch.sh start    fetch (once), start, wait for yellow/green, print the URL
#   scripts/opensearch.sh status   print the URL and cluster health; exit 3 when not running
#   scripts/opensearch.sh stop     stop it and wait for it to exit
#   scripts/opensearch.sh keystore NAME [--remove]
#                                  add (or replace) the secure setting NAME in the node's
#                                  keystore, its value read from stdin, or remove it; a running
#                                  node reads the keystore again on POST _nodes/reload_secure_settings
#
# The distribution is OpenSearch's integ-test zip from Maven Central (no security
# plugin, no bundled JDK), fetched with Maven and cached under .cache/opensearch.
# OpenSearch refuses to run as root, so as root it runs as the system user
# "opensearch", created on first use. Only the URL goes to stdout.
#
# Environment:
#   OPENSEARCH_VERSION     2.19.x or 3.x release to run (default 2.19.6)
#   OPENSEARCH_PLUGINS     plugins to install before the node starts, space-separated: a zip's
#                          path, or Maven coordinates group:artifact:version of a plugin zip
#                          (e.g. org.opensearch.plugin:opensearch-job-scheduler:2.19.1.0). The
#                          node then runs from its own copy of the distribution in its run dir.
#   OPENSEARCH_RUN_DIR     config, data, logs, pid and url of one node
#                          (default .cache/opensearch/run); give each concurrent node its own
#   OPENSEARCH_HEAP        JVM heap (default 512m)
#   OPENSEARCH_START_TIMEOUT  seconds to wait for yellow (default 180)
#   JAVA_HOME              2.x: a Java 17 (default: the java on PATH, when it is 17);
#                          3.x: a Java 21+ (default: JAVA_HOME or the java on PATH when it is
#                          21+, else /usr/lib/jvm/temurin-25-jdk-amd64)
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
version="${OPENSEARCH_VERSION:-2.19.6}"
java21_fallback=/usr/lib/jvm/temurin-25-jdk-amd64
cache="$root/.cache/opensearch"
dist="$cache/opensearch-$version"
run_dir="${OPENSEARCH_RUN_DIR:-$cache/run}"
read -r -a plugins <<<"${OPENSEARCH_PLUGINS:-}"
# A node with plugins runs from its own copy, so the cached distribution stays pristine.
if ((${#plugins[@]})) || [[ -d "$run_dir/home" ]]; then home="$run_dir/home"; else home="$dist"; fi
heap="${OPENSEARCH_HEAP:-512m}"
start_timeout="${OPENSEARCH_START_TIMEOUT:-180}"
service_user=opensearch

log() { echo "opensearch.sh: $*" >&2; }
die() { log "$*"; exit 1; }
# shellcheck source=scripts/lib/search_node.sh
source "$root/scripts/lib/search_node.sh"

fetch() {
  [[ -x "$dist/bin/opensearch" ]] && return
  local zip="$cache/opensearch-$version.zip"
  mkdir -p "$cache"
  if [[ ! -s "$zip" ]]; then
    maven_get "org.opensearch.distribution.integ-test-zip:opensearch:$version:zip" "$cache" \
      || die "Maven could not fetch OpenSearch $version; set OPENSEARCH_VERSION to a 2.19.x or 3.x on Maven Central"
  fi
  # Python's zipfile rather than unzip, which minimal images lack; it drops the exec bits.
  python3 -m zipfile -e "$zip" "$cache.tmp-$$"
  chmod +x "$cache.tmp-$$/opensearch-$version"/bin/*
  mv "$cache.tmp-$$/opensearch-$version" "$dist"
  rm -rf "$cache.tmp-$$"
}

# Copies the distribution into the run dir and installs OPENSEARCH_PLUGINS there.
install_plugins() {
  ((${#plugins[@]})) || return 0
  cp -r "$dist" "$home"
  local plugin zip
  for plugin in "${plugins[@]}"; do
    if [[ -f "$plugin" ]]; then
      zip="$(readlink -f "$plugin")"
    else
      [[ "$plugin" =~ ^[^:/]+:[^:/]+:[^:/]+$ ]] || die "OPENSEARCH_PLUGINS: $plugin is neither a zip file nor group:artifact:version"
      IFS=: read -r _ artifact plugin_version <<<"$plugin"
      zip="$cache/plugins/$artifact-$plugin_version.zip"
      [[ -s "$zip" ]] || maven_get "$plugin:zip" "$cache/plugins" || die "Maven could not fetch the plugin $plugin"
    fi
    log "installing plugin $zip"
    OPENSEARCH_JAVA_HOME="$java" OPENSEARCH_PATH_CONF="$run_dir/config" \
      "$home/bin/opensearch-plugin" install --batch "file://$zip" >"$run_dir/logs/plugin-install.out" 2>&1 \
      || { cat "$run_dir/logs/plugin-install.out" >&2; die "could not install the plugin $plugin"; }
  done
}

# The JDK home the node runs on: Java 17 for 2.x (as tested), Java 21+ for 3.x.
java_home() {
  local java_bin
  if [[ -n "${JAVA_HOME:-}" ]]; then
    java_bin="$JAVA_HOME/bin/java"
  elif ! java_bin="$(readlink -f "$(command -v java)")"; then
    [[ "$version" == 3.* ]] || die "no java on PATH; install openjdk-17-jdk-headless or set JAVA_HOME"
    java_bin=""
  fi
  if [[ "$version" == 3.* ]]; then
    if [[ -z "$java_bin" ]] || (($(java_feature "$java_bin") < 21)); then
      [[ -x "$java21_fallback/bin/java" ]] \
        || die "OpenSearch $version needs Java 21+ and ${java_bin:-no java} is older; set JAVA_HOME to a Java 21+"
      java_bin="$java21_fallback/bin/java"
    fi
  else
    "$java_bin" -version 2>&1 | grep -q 'version "17' \
      || die "$java_bin is not Java 17 (OpenSearch $version is tested on it); set JAVA_HOME to a Java 17"
  fi
  dirname "$(dirname "$java_bin")"
}

start() {
  if running_pid >/dev/null; then
    log "already running"
    cat "$run_dir/url"
    return
  fi
  fetch
  local java http_port transport_port
  java="$(java_home)"
  http_port="$(free_port)"
  transport_port="$(free_port)"
  rm -rf "$run_dir"
  ((${#plugins[@]})) || home="$dist"
  mkdir -p "$run_dir/data" "$run_dir/logs"
  cp -r "$dist/config" "$run_dir/config"
  install_plugins
  cat >>"$run_dir/config/opensearch.yml" <<EOF
cluster.name: rerank-test
node.name: rerank-test-node
network.host: 127.0.0.1
http.port: $http_port
transport.port: $transport_port
discovery.type: single-node
path.data: $run_dir/data
path.logs: $run_dir/logs
# A nearly full disk must not block shard allocation in tests.
cluster.routing.allocation.disk.threshold_enabled: false
EOF
  # jvm.options writes GC logs, heap dumps and crash files relative to the (root-owned) install.
  sed -i -e "s#logs/#$run_dir/logs/#g" -e "s#HeapDumpPath=data#HeapDumpPath=$run_dir/data#" "$run_dir/config/jvm.options"
  echo "http://127.0.0.1:$http_port" >"$run_dir/url"
  log "starting OpenSearch $version on $(cat "$run_dir/url") (heap $heap, Java $java)"
  as_service_user env OPENSEARCH_JAVA_HOME="$java" OPENSEARCH_PATH_CONF="$run_dir/config" \
    OPENSEARCH_JAVA_OPTS="-Xms$heap -Xmx$heap" \
    "$home/bin/opensearch" -d -p "$run_dir/pid" >"$run_dir/logs/launcher.out" 2>&1 \
    || { cat "$run_dir/logs/launcher.out" >&2; die "OpenSearch did not start"; }
  local deadline=$((SECONDS + start_timeout)) pid_deadline=$((SECONDS + 30))
  until health 1 >/dev/null 2>&1; do
    # -p writes the pid file early in bootstrap: no file in time, or a dead pid, is a failed start.
    if { [[ -f "$run_dir/pid" ]] && ! running_pid >/dev/null; } || { [[ ! -f "$run_dir/pid" ]] && ((SECONDS > pid_deadline)); }; then
      tail -n 40 "$run_dir/logs/launcher.out" "$run_dir/logs/rerank-test.log" >&2 2>/dev/null || true
      die "OpenSearch exited during start; its logs are in $run_dir/logs"
    fi
    ((SECONDS < deadline)) || { stop; die "OpenSearch was not yellow within ${start_timeout}s; see $run_dir/logs"; }
    sleep 0.5
  done
  log "ready"
  cat "$run_dir/url"
}

status() {
  running_pid >/dev/null || { log "not running"; exit 3; }
  cat "$run_dir/url"
  health 0
}

stop() {
  local pid
  if ! pid="$(running_pid)"; then
    log "not running"
    rm -f "$run_dir/pid"
    return
  fi
  kill "$pid"
  for _ in $(seq 1 60); do
    kill -0 "$pid" 2>/dev/null || { rm -f "$run_dir/pid"; log "stopped"; return; }
    sleep 0.5
  done
  log "still running after 30 s; killing it"
  kill -9 "$pid" 2>/dev/null || true
  rm -f "$run_dir/pid"
}

keystore() {
  local name="${1:?usage: $0 keystore NAME (the value on stdin)}" java
  [[ -d "$run_dir/config" ]] || die "no node in $run_dir: start it first"
  java="$(java_home)"
  local tool=("env" "OPENSEARCH_JAVA_HOME=$java" "OPENSEARCH_PATH_CONF=$run_dir/config" "$home/bin/opensearch-keystore")
  [[ -f "$run_dir/config/opensearch.keystore" ]] || as_service_user "${tool[@]}" create >/dev/null
  if [[ "${2:-}" == --remove ]]; then
    as_service_user "${tool[@]}" remove "$name" >/dev/null
    log "keystore: $name removed"
  else
    as_service_user "${tool[@]}" add --force --stdin "$name" >/dev/null
    log "keystore: $name set"
  fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  keystore) keystore "${2:-}" "${3:-}" ;;
  *) echo "usage: $0 start|stop|status|keystore NAME [--remove]" >&2; exit 2 ;;
esac
