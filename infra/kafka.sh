#!/usr/bin/env bash
# Single-node Apache Kafka broker (KRaft) from Maven Central jars, on loopback,
# with SASL/SCRAM over TLS and ACLs (kafka.security in infra/config/zongzhi.yaml).
# Usage: infra/kafka.sh start|stop|status|topics|acls|reset
# `start` makes the local CA, the broker's certificate and the principals'
# passwords on first use (in $ZONGZHI_VAR/<kafka.security.secrets_dir>),
# creates every topic declared in the config, applies the raw topics'
# retention and grants each principal its ACLs; all of it idempotent.
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

CFG="${ZONGZHI_CONFIG:-$ZONGZHI_ROOT/infra/config/zongzhi.yaml}"
BOOTSTRAP="$(zz_config kafka.bootstrap_servers)"
HOST="${BOOTSTRAP%%:*}"; PORT="${BOOTSTRAP##*:}"
CONTROLLER_PORT="$(zz_config kafka.controller_port)"
PARTITIONS="$(zz_config kafka.partitions)"
RETENTION_BYTES="$(zz_config kafka.retention_bytes_per_partition)"
RAW_RETENTION_MS="$(( $(zz_config kafka.raw_retention_hours) * 3600000 ))"
RAW_SEGMENT_MS="$(( $(zz_config kafka.raw_segment_minutes) * 60000 ))"
PROTOCOL="$(zz_config kafka.protocol)"
MECHANISM="$(zz_config kafka.mechanism)"
SUPER_USER="$(zz_config kafka.super_user)"
NAME_PREFIX="$(zz_config kafka.name_prefix)"
SECRETS="$ZONGZHI_VAR/$(zz_config kafka.secrets_dir)"
BROKER_DN="CN=zongzhi-kafka-broker"
KDIR="$ZONGZHI_VAR/kafka"
PIDFILE="$ZONGZHI_VAR/run/kafka.pid"
LOG="$ZONGZHI_VAR/log/kafka.out"
ADMIN_CLIENT="$SECRETS/admin-client.properties"
# Written after storage is formatted with SCRAM users; storage without it
# was made by a plaintext broker.
SECURED_MARK="$KDIR/secured"

[[ "$PROTOCOL" == "SASL_SSL" ]] || zz_die "kafka.security.protocol='$PROTOCOL' is not supported; allowed: SASL_SSL"
case "$MECHANISM" in SCRAM-SHA-256|SCRAM-SHA-512) ;;
  *) zz_die "kafka.security.mechanism='$MECHANISM' is not supported; allowed: SCRAM-SHA-256, SCRAM-SHA-512" ;;
esac

classpath() { echo "$(bash "$ZONGZHI_ROOT/infra/jars.sh" path kafka)/*"; }

kjava() {
  java -Xms256m -Xmx${ZONGZHI_KAFKA_HEAP:-1g} -XX:+UseG1GC \
    -Dlog4j2.configurationFile="$ZONGZHI_ROOT/infra/kafka/log4j2.properties" \
    -Dkafka.logs.dir="$ZONGZHI_VAR/log" -cp "$CP" "$@"
}

# The command-line tools: short-lived, so a small heap and a quick JIT.
ktool() {
  java -Xms64m -Xmx256m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC \
    -Dlog4j2.configurationFile="$ZONGZHI_ROOT/infra/kafka/log4j2.properties" \
    -Dkafka.logs.dir="$ZONGZHI_VAR/log" -cp "$CP" "$@"
}

# "<name> <topic>" for every topic declared under kafka.topics.
declared_topic_pairs() {
  awk '/^kafka:/{k=1;next} /^[^ #]/{k=0} k && /^  topics:/{t=1;next} k && t && /^    [a-z_]+:/{n=$1; sub(":$","",n); print n, $2; next} k && t && /^  [^ ]/{t=0}' "$CFG"
}
declared_topics() { declared_topic_pairs | awk '{print $2}'; }
# Topics of raw records (clear personal data): every name with raw_ in it.
raw_topics() { declared_topic_pairs | awk '$1 ~ /(^|_)raw_/ {print $2}'; }
topic_named() { declared_topic_pairs | awk -v n="$1" '$1==n {print $2}'; }

# "<principal> <role> <value>" lines from kafka.security.principals: roles
# reads/writes/describes list topic names, transactions is true or false.
principal_roles() {
  awk '
    /^kafka:/{k=1;next} /^[^ #]/{k=0}
    k && /^    principals:/{p=1;next}
    k && p && /^      [a-z_]+:[ ]*$/{name=$1; sub(":$","",name); next}
    k && p && /^        [a-z_]+:/{
      role=$1; sub(":$","",role); v=$0; sub(/^[^:]*:[ ]*/,"",v); sub(/[ ]+#.*$/,"",v)
      gsub(/[][,]/," ",v); n=split(v, items, " ")
      for (i=1;i<=n;i++) print name, role, items[i]
      next
    }
    k && p && /^ {0,5}[^ #]/{p=0}
  ' "$CFG"
}
principals() { principal_roles | awk '{print $1}' | uniq; }

is_ready() { (exec 3<>"/dev/tcp/$HOST/$PORT") 2>/dev/null; }

random_password() { openssl rand -hex 24; }

# Mode 700 folder, mode 600 files (umask 077 from common.sh), made once.
ensure_password() {
  local file="$SECRETS/$1.password"
  [[ -s "$file" ]] || random_password > "$file"
  chmod 600 "$file"
}

# A local CA and the broker's key and certificate (for the broker's address),
# in PEM: ca.pem is what clients trust, broker.pem the broker's key store.
ensure_tls() {
  mkdir -p "$SECRETS"; chmod 700 "$ZONGZHI_VAR/secrets" "$SECRETS"
  if [[ ! -s "$SECRETS/ca.pem" || ! -s "$SECRETS/ca.key" ]]; then
    rm -f "$SECRETS/broker.pem"
    openssl req -x509 -new -newkey rsa:2048 -nodes -sha256 -days 3650 \
      -subj "/CN=zongzhi local Kafka CA" -keyout "$SECRETS/ca.key" -out "$SECRETS/ca.pem" >>"$LOG" 2>&1 \
      || zz_die "could not create the Kafka CA in $SECRETS (see $LOG)"
    zz_log "created a local CA for Kafka in $SECRETS"
  fi
  if [[ ! -s "$SECRETS/broker.pem" ]]; then
    local tmp; tmp="$(mktemp -d "$SECRETS/.broker.XXXXXX")"
    printf 'subjectAltName=IP:%s,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n' "$HOST" > "$tmp/ext"
    openssl req -new -newkey rsa:2048 -nodes -subj "/${BROKER_DN}" \
      -keyout "$tmp/key.pem" -out "$tmp/csr.pem" >>"$LOG" 2>&1 \
    && openssl x509 -req -in "$tmp/csr.pem" -CA "$SECRETS/ca.pem" -CAkey "$SECRETS/ca.key" \
      -CAcreateserial -days 3650 -sha256 -extfile "$tmp/ext" -out "$tmp/cert.pem" >>"$LOG" 2>&1 \
    && openssl pkcs8 -topk8 -nocrypt -in "$tmp/key.pem" -out "$tmp/key8.pem" \
      || { rm -rf "$tmp"; zz_die "could not create the Kafka broker certificate in $SECRETS (see $LOG)"; }
    cat "$tmp/key8.pem" "$tmp/cert.pem" "$SECRETS/ca.pem" > "$SECRETS/broker.pem"
    rm -rf "$tmp" "$SECRETS/ca.srl"
    zz_log "created the Kafka broker's certificate for $HOST"
  fi
  ensure_password "$SUPER_USER"
  local p; for p in $(principals); do ensure_password "$p"; done
  local jaas="org.apache.kafka.common.security.scram.ScramLoginModule required username=\"$SUPER_USER\" password=\"$(cat "$SECRETS/$SUPER_USER.password")\";"
  printf '%s\n' "security.protocol=$PROTOCOL" "sasl.mechanism=$MECHANISM" "sasl.jaas.config=$jaas" \
    "ssl.truststore.type=PEM" "ssl.truststore.location=$SECRETS/ca.pem" > "$ADMIN_CLIENT"
  chmod 600 "$SECRETS"/*
}

write_server_properties() {
  sed -e "s|@HOST@|$HOST|g" -e "s|@PORT@|$PORT|g" -e "s|@CONTROLLER_PORT@|$CONTROLLER_PORT|g" \
      -e "s|@DATA_DIR@|$KDIR/data|g" -e "s|@PARTITIONS@|$PARTITIONS|g" \
      -e "s|@RETENTION_BYTES@|$RETENTION_BYTES|g" -e "s|@SECRETS@|$SECRETS|g" \
      -e "s|@MECHANISM@|$MECHANISM|g" -e "s|@MECHANISM_LC@|${MECHANISM,,}|g" \
      -e "s|@SUPER_USER@|$SUPER_USER|g" -e "s|@SUPER_PASSWORD@|$(cat "$SECRETS/$SUPER_USER.password")|g" \
      -e "s|@BROKER_DN@|$BROKER_DN|g" \
      "$ZONGZHI_ROOT/infra/kafka/server.properties.template" > "$KDIR/server.properties"
  chmod 600 "$KDIR/server.properties"
}

# Format KRaft storage with the SCRAM users (once: existing storage was
# checked by refuse_plaintext_storage).
ensure_storage() {
  [[ -f "$KDIR/data/meta.properties" ]] && return 0
  local cluster_id scram=() p
  for p in "$SUPER_USER" $(principals); do
    scram+=(--add-scram "$MECHANISM=[name=$p,password=$(cat "$SECRETS/$p.password")]")
  done
  cluster_id="$(ktool kafka.tools.StorageTool random-uuid 2>>"$LOG")" || zz_die "Kafka StorageTool failed (see $LOG)"
  ktool kafka.tools.StorageTool format -t "$cluster_id" -c "$KDIR/server.properties" "${scram[@]}" >>"$LOG" 2>&1 \
    || zz_die "formatting Kafka storage failed (see $LOG)"
  mkdir -p "$KDIR/users"
  for p in $(principals); do : > "$KDIR/users/$p"; done
  : > "$SECURED_MARK"
  zz_log "formatted KRaft storage in $KDIR/data (cluster $cluster_id) with SCRAM users $SUPER_USER $(principals | tr '\n' ' ')"
}

admin_tool() { ktool "$@" --bootstrap-server "$BOOTSTRAP" --command-config "$ADMIN_CLIENT"; }

# Principals declared after the storage was formatted get their SCRAM user
# now (a marker per user lives beside the storage).
ensure_users() {
  local p
  for p in $(principals); do
    [[ -f "$KDIR/users/$p" ]] && continue
    admin_tool kafka.admin.ConfigCommand --alter --entity-type users --entity-name "$p" \
      --add-config "$MECHANISM=[password=$(cat "$SECRETS/$p.password")]" >>"$LOG" 2>&1 \
      || zz_die "could not create the Kafka SCRAM user '$p' (see $LOG)"
    : > "$KDIR/users/$p"
    zz_log "created Kafka user $p"
  done
}

# Topics and grants go through one admin client in the project's venv
# (pipelines/io/kafka_provision.py): as Kafka's CLI tools they were some forty
# JVMs, about a minute on a fresh broker.
provision() { "$(bash "$ZONGZHI_ROOT/infra/venv.sh")" -m pipelines.io.kafka_provision "$@"; }

ensure_topics() {
  local out
  out="$(declared_topics | provision topics 2>>"$LOG")" \
    || zz_die "could not create the declared Kafka topics (see $LOG)"
  [[ -z "$out" ]] || while read -r line; do zz_log "$line"; done <<<"$out"
}

# The ACL commands the principals' roles call for, one per line.
acl_commands() {
  local p role value topic
  while read -r p role value; do
    case "$role" in
      reads)
        topic="$(topic_named "$value")"; [[ -n "$topic" ]] || zz_die "kafka.security.principals.$p.reads names topic '$value', which kafka.topics does not declare"
        echo "--allow-principal User:$p --operation Read --operation Describe --topic $topic"
        echo "--allow-principal User:$p --operation Read --operation Describe --group $NAME_PREFIX --resource-pattern-type prefixed" ;;
      writes)
        topic="$(topic_named "$value")"; [[ -n "$topic" ]] || zz_die "kafka.security.principals.$p.writes names topic '$value', which kafka.topics does not declare"
        echo "--allow-principal User:$p --operation Write --operation Describe --topic $topic"
        echo "--allow-principal User:$p --operation IdempotentWrite --cluster" ;;
      describes)
        topic="$(topic_named "$value")"; [[ -n "$topic" ]] || zz_die "kafka.security.principals.$p.describes names topic '$value', which kafka.topics does not declare"
        echo "--allow-principal User:$p --operation Describe --topic $topic"
        echo "--allow-principal User:$p --operation Describe --group $NAME_PREFIX --resource-pattern-type prefixed" ;;
      transactions)
        [[ "$value" == "true" ]] && echo "--allow-principal User:$p --operation Write --operation Describe --transactional-id $NAME_PREFIX --resource-pattern-type prefixed" ;;
      *) zz_die "kafka.security.principals.$p has role '$role'; allowed: reads, writes, describes, transactions" ;;
    esac
  done < <(principal_roles)
}

# Grants and the raw topics' configs, applied when what the config asks for
# changed since the last time (a stamp of it lives beside the storage). The
# grants for one principal and operation set go in one command.
ensure_grants() {
  local commands stamp
  commands="$(acl_commands | sort -u)" || exit 1
  stamp="$(printf '%s\n%s %s %s\n' "$commands" "$RAW_RETENTION_MS" "$RAW_SEGMENT_MS" "$(raw_topics | tr '\n' ' ')" | sha256sum | cut -c1-16)"
  [[ "$(cat "$KDIR/grants.stamp" 2>/dev/null)" == "$stamp" ]] && return 0
  # shellcheck disable=SC2046
  provision grants $(raw_topics) <<<"$commands" >>"$LOG" 2>&1 \
    || zz_die "could not grant the Kafka ACLs or set the raw topics' retention (see $LOG)"
  echo "$stamp" > "$KDIR/grants.stamp"
  zz_log "granted Kafka ACLs to $(principals | tr '\n' ' ')and set raw retention to $(( RAW_RETENTION_MS / 3600000 )) h"
}

# Storage without the mark was formatted (and may be served right now) by the
# earlier plaintext broker: never reuse it silently.
refuse_plaintext_storage() {
  if [[ -f "$KDIR/data/meta.properties" && ! -f "$SECURED_MARK" ]]; then
    zz_die "Kafka storage in $KDIR/data was made by a plaintext broker (no SCRAM users, no ACLs): run \`infra/kafka.sh reset\` to delete it (its topics are lost; produce their records again afterwards)"
  fi
}

cmd_start() {
  refuse_plaintext_storage
  zz_require_java17
  command -v openssl >/dev/null 2>&1 || zz_die "openssl is required to make Kafka's TLS certificates: install it (Debian: apt-get install openssl)"
  CP="$(classpath)"
  if ! zz_pid_alive "$PIDFILE"; then
    if is_ready; then zz_die "port $HOST:$PORT is taken by another process; stop it or change kafka.bootstrap_servers"; fi
    mkdir -p "$KDIR/data"; chmod 700 "$KDIR" "$KDIR/data"
    ensure_tls
    write_server_properties
    ensure_storage
    nohup java -Xms256m -Xmx${ZONGZHI_KAFKA_HEAP:-1g} -XX:+UseG1GC \
      -Dlog4j2.configurationFile="$ZONGZHI_ROOT/infra/kafka/log4j2.properties" \
      -Dkafka.logs.dir="$ZONGZHI_VAR/log" -cp "$CP" kafka.Kafka "$KDIR/server.properties" \
      >>"$LOG" 2>&1 < /dev/null &
    echo $! > "$PIDFILE"
  fi
  zz_wait_for "Kafka broker on $BOOTSTRAP" 90 is_ready
  ensure_users
  ensure_topics
  ensure_grants
  zz_log "Kafka ready on $BOOTSTRAP ($PROTOCOL, $MECHANISM)"
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
  acls) acl_commands | sort -u ;;
  reset) cmd_stop; rm -rf "$KDIR"; zz_log "Kafka data removed (the CA, certificates and passwords in $SECRETS are kept)" ;;
  *) zz_die "usage: infra/kafka.sh start|stop|status|topics|acls|reset (got '${1:-}')" ;;
esac
