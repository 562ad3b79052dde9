#!/usr/bin/env bash
# A real single-node Elasticsearch on 127.0.0.1 for the tests and the demo.
#
#   scripts/elasticsearch.sh start    fetch (once), start, wait for yellow/green, print the URL
#   scripts/elasticsearch.sh status   print the URL and cluster health; exit 3 when not running
#   scripts/elasticsearch.sh stop     stop its whole process group and wait for it to exit
#   scripts/elasticsearch.sh keystore NAME [--remove]
#                                  add (or replace) the secure setting NAME in the node's
#                                  keystore, its value read from stdin, or remove it; a running
#                                  node reads the keystore again on POST _nodes/reload_secure_settings
#
# The distribution is Elasticsearch's integ-test zip from Maven Central (no bundled JDK, no ML or
# geoip modules; security is in it and on by default, so the node turns it off), fetched with
# Maven and cached under .cache/elasticsearch. Elasticsearch refuses to run as root, so as root
# it runs as the system user "elasticsearch", created on first use. Only the URL goes to stdout.
# The launcher starts the server JVM as its child: the node runs in a session of its own, and
# stop signals that whole process group.
#
# Environment:
#   ELASTICSEARCH_VERSION  8.x release to run (default 8.19.21, the newest integ-test zip on
#                          Maven Central; there is none for 9.x)
#   ELASTICSEARCH_PLUGINS  plugins to install before the node starts, space-separated: a zip's
#                          path, or Maven coordinates group:artifact:version of a plugin zip. The
#                          node then runs from its own copy of the distribution in its run dir.
#   ELASTICSEARCH_RUN_DIR  config, data, logs, pid and url of one node
#                          (default .cache/elasticsearch/run); give each concurrent node its own
#   ELASTICSEARCH_HEAP     JVM heap (default 512m)
#   ELASTICSEARCH_START_TIMEOUT  seconds to wait for yellow (default 180)
#   JAVA_HOME              a Java 17 or newer (default: the java on PATH); tested on 17
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
version="${ELASTICSEARCH_VERSION:-8.19.21}"
cache="$root/.cache/elasticsearch"
dist="$cache/elasticsearch-$version"
run_dir="${ELASTICSEARCH_RUN_DIR:-$cache/run}"
read -r -a plugins <<<"${ELASTICSEARCH_PLUGINS:-}"
# A node with plugins runs from its own copy, so the cached distribution stays pristine.
if ((${#plugins[@]})) || [[ -d "$run_dir/home" ]]; then home="$run_dir/home"; else home="$dist"; fi
heap="${ELASTICSEARCH_HEAP:-512m}"
start_timeout="${ELASTICSEARCH_START_TIMEOUT:-180}"
service_user=elasticsearch

log() { echo "elasticsearch.sh: $*" >&2; }
die() { log "$*"; exit 1; }
# shellcheck source=scripts/lib/search_node.sh
source "$root/scripts/lib/search_node.sh"

fetch() {
  [[ -x "$dist/bin/elasticsearch" ]] && return
  local zip="$cache/elasticsearch-$version.zip"
  mkdir -p "$cache"
  if [[ ! -s "$zip" ]]; then
    maven_get "org.elasticsearch.distribution.integ-test-zip:elasticsearch:$version:zip" "$cache" \
      || die "Maven could not fetch Elasticsearch $version; set ELASTICSEARCH_VERSION to an 8.x integ-test zip on Maven Central"
  fi
  # Python's zipfile rather than unzip, which minimal images lack; it drops the exec bits.
  python3 -m zipfile -e "$zip" "$cache.tmp-$$"
  chmod +x "$cache.tmp-$$/elasticsearch-$version"/bin/*
  mv "$cache.tmp-$$/elasticsearch-$version" "$dist"
  rm -rf "$cache.tmp-$$"
}

# Copies the distribution into the run dir and installs ELASTICSEARCH_PLUGINS there.
install_plugins() {
  ((${#plugins[@]})) || return 0
  cp -r "$dist" "$home"
  local plugin zip
  for plugin in "${plugins[@]}"; do
    if [[ -f "$plugin" ]]; then
      zip="$(readlink -f "$plugin")"
    else
      [[ "$plugin" =~ ^[^:/]+:[^:/]+:[^:/]+$ ]] || die "ELASTICSEARCH_PLUGINS: $plugin is neither a zip file nor group:artifact:version"
      IFS=: read -r _ artifact plugin_version <<<"$plugin"
      zip="$cache/plugins/$artifact-$plugin_version.zip"
      [[ -s "$zip" ]] || maven_get "$plugin:zip" "$cache/plugins" || die "Maven could not fetch the plugin $plugin"
    fi
    log "installing plugin $zip"
    ES_JAVA_HOME="$java" ES_PATH_CONF="$run_dir/config" \
      "$home/bin/elasticsearch-plugin" install --batch "file://$zip" >"$run_dir/logs/plugin-install.out" 2>&1 \
      || { cat "$run_dir/logs/plugin-install.out" >&2; die "could not install the plugin $plugin"; }
  done
}

java_home() {
  local java_bin
  if [[ -n "${JAVA_HOME:-}" ]]; then
    java_bin="$JAVA_HOME/bin/java"
  else
    java_bin="$(readlink -f "$(command -v java)")" || die "no java on PATH; install openjdk-17-jdk-headless or set JAVA_HOME"
  fi
  (($(java_feature "$java_bin") >= 17)) || die "$java_bin is not Java 17 or newer (Elasticsearch $version needs it); set JAVA_HOME"
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
  mkdir -p "$run_dir/data" "$run_dir/logs" "$run_dir/tmp"
  cp -r "$dist/config" "$run_dir/config"
  install_plugins
  cat >>"$run_dir/config/elasticsearch.yml" <<YML
cluster.name: rerank-test
node.name: rerank-test-node
network.host: 127.0.0.1
http.port: $http_port
transport.port: $transport_port
discovery.type: single-node
path.data: $run_dir/data
path.logs: $run_dir/logs
# The integ-test zip holds the security module, on by default; the tests' node runs without it.
xpack.security.enabled: false
# A nearly full disk must not block shard allocation in tests.
cluster.routing.allocation.disk.threshold_enabled: false
YML
  # jvm.options writes GC logs and crash files relative to the working directory.
  sed -i -e "s#ErrorFile=hs_err#ErrorFile=$run_dir/logs/hs_err#" -e "s#file=gc.log#file=$run_dir/logs/gc.log#" \
    "$run_dir/config/jvm.options"
  echo "http://127.0.0.1:$http_port" >"$run_dir/url"
  log "starting Elasticsearch $version on $(cat "$run_dir/url") (heap $heap, Java $java)"
  # setsid -w: the launcher and the server JVM it starts get a process group of their own (stop
  # signals all of it), and the launcher's exit status still tells whether the node came up.
  (cd "$run_dir" && as_service_user env ES_JAVA_HOME="$java" ES_PATH_CONF="$run_dir/config" ES_TMPDIR="$run_dir/tmp" \
    ES_JAVA_OPTS="-Xms$heap -Xmx$heap" \
    setsid -w "$home/bin/elasticsearch" -d -p "$run_dir/pid" >"$run_dir/logs/launcher.out" 2>&1) \
    || { cat "$run_dir/logs/launcher.out" >&2; die "Elasticsearch did not start; its logs are in $run_dir/logs"; }
  local pid
  pid="$(running_pid)" || { tail -n 40 "$run_dir/logs/launcher.out" >&2; die "Elasticsearch exited during start; its logs are in $run_dir/logs"; }
  ps -o pgid= -p "$pid" | tr -d ' ' >"$run_dir/pgid"
  local deadline=$((SECONDS + start_timeout))
  until health 1 >/dev/null 2>&1; do
    if ! running_pid >/dev/null; then
      tail -n 40 "$run_dir/logs/launcher.out" "$run_dir/logs/rerank-test.log" >&2 2>/dev/null || true
      die "Elasticsearch exited during start; its logs are in $run_dir/logs"
    fi
    ((SECONDS < deadline)) || { stop; die "Elasticsearch was not yellow within ${start_timeout}s; see $run_dir/logs"; }
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

# Signals the node's process group (the server JVM and anything it started); the pid alone when
# the group is unknown.
signal_node() {
  local pgid
  pgid="$(cat "$run_dir/pgid" 2>/dev/null)" || pgid=""
  if [[ "$pgid" =~ ^[0-9]+$ ]] && ((pgid > 1)); then
    kill "-$1" -- "-$pgid" 2>/dev/null || true
  else
    kill "-$1" "$2" 2>/dev/null || true
  fi
}

stop() {
  local pid
  if ! pid="$(running_pid)"; then
    log "not running"
    rm -f "$run_dir/pid" "$run_dir/pgid"
    return
  fi
  signal_node TERM "$pid"
  for _ in $(seq 1 60); do
    kill -0 "$pid" 2>/dev/null || { rm -f "$run_dir/pid" "$run_dir/pgid"; log "stopped"; return; }
    sleep 0.5
  done
  log "still running after 30 s; killing it"
  signal_node KILL "$pid"
  rm -f "$run_dir/pid" "$run_dir/pgid"
}

keystore() {
  local name="${1:?usage: $0 keystore NAME (the value on stdin)}" java
  [[ -d "$run_dir/config" ]] || die "no node in $run_dir: start it first"
  java="$(java_home)"
  local tool=("env" "ES_JAVA_HOME=$java" "ES_PATH_CONF=$run_dir/config" "$home/bin/elasticsearch-keystore")
  [[ -f "$run_dir/config/elasticsearch.keystore" ]] || as_service_user "${tool[@]}" create >/dev/null
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
