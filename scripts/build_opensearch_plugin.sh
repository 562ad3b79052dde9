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
# 2.x (built and tested: 2.19.x) builds on Java 17, with the JDK Maven finds. 3.x (built and
# tested: 3.3.0) needs Java 21+: JAVA_HOME when it is one, else $JAVA21_FALLBACK; Maven's profile
# opensearch3 (-Dopensearch.major=3) then compiles src/main/opensearch3/java, where the classes
# whose imports 3.0 moved live, instead of src/main/opensearch2/java.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
version="${1:-2.19.6}"
[[ "$version" =~ ^([23])\.[0-9]+\.[0-9]+$ ]] || { echo "usage: $0 [OPENSEARCH_VERSION: a 2.x or 3.x release such as 2.19.6 or 3.3.0]" >&2; exit 2; }
major="${BASH_REMATCH[1]}"
releases="$root/plugin_client/opensearch-plugin/target/releases"
mvn_args=(-B -q -f "$root/plugin_client/pom.xml" ${MAVEN_ARGS:-})
JAVA21_FALLBACK=/usr/lib/jvm/temurin-25-jdk-amd64

# The feature version (17, 21, 25; 1 for 1.8) of the java in the JDK home $1, or of the java on
# PATH; 0 when there is none.
java_feature() {
  local java="${1:+$1/bin/}java" spec
  spec="$("$java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p')" || true
  spec="${spec%%.*}"
  [[ "$spec" =~ ^[0-9]+$ ]] && echo "$spec" || echo 0
}

if ((major == 3)) && (($(java_feature "${JAVA_HOME:-}") < 21)); then
  [[ -x "$JAVA21_FALLBACK/bin/java" ]] \
    || { echo "OpenSearch $version needs Java 21+: set JAVA_HOME to a JDK 21 or newer" >&2; exit 1; }
  echo "build_opensearch_plugin.sh: OpenSearch $version needs Java 21+; building with $JAVA21_FALLBACK" >&2
  export JAVA_HOME="$JAVA21_FALLBACK"
fi

# The Java client's own suite runs against a live server (tests/integration); here it is only
# a library of the plugin.
mvn "${mvn_args[@]}" -pl java -DskipTests install >&2
# clean: the other major's classes (and an incremental compile that missed the switch) must not
# reach the jar.
mvn "${mvn_args[@]}" -pl plugin-core,opensearch-plugin "-Dopensearch.version=$version" "-Dopensearch.major=$major" \
  clean install >&2
zips=("$releases"/*.zip)
((${#zips[@]} == 1)) && [[ -f "${zips[0]}" ]] || { echo "expected one zip in $releases, found: ${zips[*]}" >&2; exit 1; }
echo "${zips[0]}"
