#!/usr/bin/env bash
# Single-node Apache Kafka broker (KRaft) from Maven Central jars, on loopback.
# Usage: infra/kafka.sh start|stop|status|topics|reset
# `start` also creates every topic declared in infra/config/zongzhi.yaml.
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

BOOTSTRAP="$(zz_config kafka.bootstrap_servers)"
HOST="${BOOTSTRAP%%:*}"; PORT="${BOOTSTRAP##*:}"
CONTROLLER_PORT="$(zz_config kafka.controller_port)"
PARTITIONS="$(zz_config kafka.partitions)"
RETENTION_BYTES="$(zz_config kafka.retention_bytes_per_partition)"
KDIR="$ZONGZHI_VAR/kafka"
PIDFILE="$ZONGZHI_VAR/run/kafka.pid"
LOG="$ZONGZHI_VAR/log/kafka.out"

classpath() { echo "$(bash "$ZONGZHI_ROOT/infra/jars.sh" path kafka)/*"; }

kjava() {
  java -Xms256m -Xmx${ZONGZHI_KAFKA_HEAP:-1g} -XX:+UseG1GC \
    -Dlog4j2.configurationFile="$ZONGZHI_ROOT/infra/kafka/log4j2.properties" \
    -Dkafka.logs.dir="$ZONGZHI_VAR/log" -cp "$CP" "$@"
}

declared_topics() {
  awk '/^kafka:/{k=1;next} /^[^ #]/{k=0} k && /^  topics:/{t=1;next} k && t && /^    [a-z_]+:/{print $2; next} k && t && /^  [^ ]/{t=0}' \
    "${ZONGZHI_CONFIG:-$ZONGZHI_ROOT/infra/config/zongzhi.yaml}"
}

is_ready() { (exec 3<>"/dev/tcp/$HOST/$PORT") 2>/dev/null; }

ensure_topics() {
  local existing t
  existing="$(kjava org.apache.kafka.tools.TopicCommand --bootstrap-server "$BOOTSTRAP" --list 2>>"$LOG")" \
    || zz_die "could not list Kafka topics at $BOOTSTRAP (see $LOG)"
  for t in $(declared_topics); do
    grep -qx "$t" <<<"$existing" && continue
    kjava org.apache.kafka.tools.TopicCommand --bootstrap-server "$BOOTSTRAP" --create --if-not-exists \
      --topic "$t" --partitions "$PARTITIONS" --replication-factor 1 >>"$LOG" 2>&1 \
      || zz_die "could not create Kafka topic '$t' (see $LOG)"
    zz_log "created topic $t"
  done
}

cmd_start() {
  zz_require_java17
  CP="$(classpath)"
  if ! zz_pid_alive "$PIDFILE"; then
    if is_ready; then zz_die "port $HOST:$PORT is taken by another process; stop it or change kafka.bootstrap_servers"; fi
    mkdir -p "$KDIR/data"
    sed -e "s|@HOST@|$HOST|g" -e "s|@PORT@|$PORT|g" -e "s|@CONTROLLER_PORT@|$CONTROLLER_PORT|g" \
        -e "s|@DATA_DIR@|$KDIR/data|g" -e "s|@PARTITIONS@|$PARTITIONS|g" \
        -e "s|@RETENTION_BYTES@|$RETENTION_BYTES|g" \
        "$ZONGZHI_ROOT/infra/kafka/server.properties.template" > "$KDIR/server.properties"
    if [[ ! -f "$KDIR/data/meta.properties" ]]; then
      local cluster_id
      cluster_id="$(kjava kafka.tools.StorageTool random-uuid 2>>"$LOG")" || zz_die "Kafka StorageTool failed (see $LOG)"
      kjava kafka.tools.StorageTool format -t "$cluster_id" -c "$KDIR/server.properties" >>"$LOG" 2>&1 \
        || zz_die "formatting Kafka storage failed (see $LOG)"
      zz_log "formatted KRaft storage in $KDIR/data (cluster $cluster_id)"
    fi
    nohup java -Xms256m -Xmx${ZONGZHI_KAFKA_HEAP:-1g} -XX:+UseG1GC \
      -Dlog4j2.configurationFile="$ZONGZHI_ROOT/infra/kafka/log4j2.properties" \
      -Dkafka.logs.dir="$ZONGZHI_VAR/log" -cp "$CP" kafka.Kafka "$KDIR/server.properties" \
      >>"$LOG" 2>&1 < /dev/null &
    echo $! > "$PIDFILE"
  fi
  zz_wait_for "Kafka broker on $BOOTSTRAP" 90 is_ready
  ensure_topics
  zz_log "Kafka ready on $BOOTSTRAP"
}

cmd_stop() { zz_stop_pidfile "Kafka" "$PIDFILE"; }

cmd_status() {
  if zz_pid_alive "$PIDFILE" && is_ready; then echo "kafka: up ($BOOTSTRAP)"; else echo "kafka: down"; return 3; fi
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  topics) declared_topics ;;
  reset) cmd_stop; rm -rf "$KDIR"; zz_log "Kafka data removed" ;;
  *) zz_die "usage: infra/kafka.sh start|stop|status|topics|reset (got '${1:-}')" ;;
esac
