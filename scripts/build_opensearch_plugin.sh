#!/usr/bin/env bash
# Builds the grpc_rerank OpenSearch plugin zip for one OpenSearch version:
#
#   scripts/build_opensearch_plugin.sh [OPENSEARCH_VERSION]     (default 2.19.6)
#
# A plugin zip installs only into the exact OpenSearch version it was built against. Runs the
# unit tests of the plugin and of its shared core (Maven Surefire) and leaves exactly one zip in
# plugin_client/opensearch-plugin/target/releases/; prints its path on stdout. Extra Maven
# arguments may follow in MAVEN_ARGS (e.g. MAVEN_ARGS=-DskipTests while iterating).
#
# 2.x plugins build and run on Java 17. OpenSearch 3.x needs Java 21+ (JAVA_HOME) and a port of
# the plugin to its API (e.g. org.opensearch.client.Client moved to org.opensearch.transport.client).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
version="${1:-2.19.6}"
[[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || { echo "usage: $0 [OPENSEARCH_VERSION such as 2.19.6]" >&2; exit 2; }
releases="$root/plugin_client/opensearch-plugin/target/releases"
mvn_args=(-B -q -f "$root/plugin_client/pom.xml" ${MAVEN_ARGS:-})

# The Java client's own suite runs against a live server (tests/integration); here it is only
# a library of the plugin.
mvn "${mvn_args[@]}" -pl java -DskipTests install >&2
rm -rf "$releases"
mvn "${mvn_args[@]}" -pl plugin-core,opensearch-plugin "-Dopensearch.version=$version" install >&2
zips=("$releases"/*.zip)
((${#zips[@]} == 1)) && [[ -f "${zips[0]}" ]] || { echo "expected one zip in $releases, found: ${zips[*]}" >&2; exit 1; }
echo "${zips[0]}"
