#!/usr/bin/env bash
# Builds the grpc_rerank Elasticsearch plugin zip for one Elasticsearch version:
#
#   scripts/build_elasticsearch_plugin.sh [ELASTICSEARCH_VERSION]     (default 8.19.21)
#
# A plugin zip installs only into the exact Elasticsearch version it was built against. Runs the
# unit tests of the plugin and of its shared core (Maven Surefire) and leaves exactly one zip in
# plugin_client/elasticsearch-plugin/target/releases/; prints its path on stdout. Extra Maven
# arguments may follow in MAVEN_ARGS (e.g. MAVEN_ARGS=-DskipTests while iterating).
#
# Built and tested on Java 17: 8.19.21 (the default: the newest release whose integ-test zip and
# jars are on Maven Central) and 8.18.0. 9.x has no integ-test zip there: not built.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
version="${1:-8.19.21}"
[[ "$version" =~ ^8\.[0-9]+\.[0-9]+$ ]] || { echo "usage: $0 [ELASTICSEARCH_VERSION: an 8.x release such as 8.19.21]" >&2; exit 2; }
releases="$root/plugin_client/elasticsearch-plugin/target/releases"
mvn_args=(-B -q -f "$root/plugin_client/pom.xml" ${MAVEN_ARGS:-})

# The Java client's own suite runs against a live server (tests/integration); here it is only
# a library of the plugin.
mvn "${mvn_args[@]}" -pl java -DskipTests install >&2
# A clean plugin module: no class compiled against another version, no zip built for one. (Only
# this module: the core's build output is shared with the OpenSearch plugin's build.)
mvn "${mvn_args[@]}" -pl elasticsearch-plugin clean >&2
mvn "${mvn_args[@]}" -pl plugin-core,elasticsearch-plugin "-Delasticsearch.version=$version" install >&2
zips=("$releases"/*.zip)
((${#zips[@]} == 1)) && [[ -f "${zips[0]}" ]] || { echo "expected one zip in $releases, found: ${zips[*]}" >&2; exit 1; }
echo "${zips[0]}"
