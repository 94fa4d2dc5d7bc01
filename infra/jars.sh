#!/usr/bin/env bash
# Resolve the JVM jars declared in infra/jvm/*/pom.xml from Maven Central into
# the jar cache, once per version of the poms. Prints nothing on success
# except progress; `infra/jars.sh path kafka|connectors` prints a directory.
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

JVM_DIR="$ZONGZHI_ROOT/infra/jvm"
JARS_HOME="$ZONGZHI_CACHE/jars/$(zz_hash_files "$JVM_DIR/kafka/pom.xml" "$JVM_DIR/connectors/pom.xml")"

resolve() {
  zz_require_java17
  zz_require_maven
  [[ -f "$JARS_HOME/.complete" ]] && return 0
  zz_log "resolving JVM jars from Maven Central into $JARS_HOME (once)"
  rm -rf "$JARS_HOME.tmp"; mkdir -p "$JARS_HOME.tmp"
  (cd "$JVM_DIR/kafka" && mvn -q -B dependency:copy-dependencies \
      -DincludeScope=runtime -DoutputDirectory="$JARS_HOME.tmp/kafka" >&2) \
    || zz_die "Maven could not resolve the Kafka broker jars (infra/jvm/kafka/pom.xml)"
  (cd "$JVM_DIR/connectors" && mvn -q -B dependency:copy-dependencies \
      -DexcludeTransitive=true -DoutputDirectory="$JARS_HOME.tmp/connectors" >&2) \
    || zz_die "Maven could not resolve the connector jars (infra/jvm/connectors/pom.xml)"
  touch "$JARS_HOME.tmp/.complete"
  rm -rf "$JARS_HOME"; mv "$JARS_HOME.tmp" "$JARS_HOME"
}

case "${1:-resolve}" in
  resolve) resolve ;;
  path)
    resolve
    case "${2:-}" in
      kafka|connectors) echo "$JARS_HOME/$2" ;;
      *) zz_die "usage: infra/jars.sh path kafka|connectors (got '${2:-}')" ;;
    esac ;;
  *) zz_die "usage: infra/jars.sh resolve|path kafka|connectors (got '$1')" ;;
esac
