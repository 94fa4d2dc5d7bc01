#!/usr/bin/env bash
# Local PostgreSQL for the serving tables: a private cluster in
# $ZONGZHI_VAR/postgres on loopback. Usage: infra/postgres.sh start|stop|status|psql
#
# PostgreSQL refuses to run as root. When this script runs as root (CI does),
# the server runs as the unprivileged 'postgres' system account that Debian's
# package creates; as any other user it runs as that user. Installing the
# server binaries (apt-get install postgresql) is the only step that needs
# root, and happens once per machine.
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

PGPORT="$(zz_config postgres.port)"
PGHOST="$(zz_config postgres.host)"
PGDATABASE="$(zz_config postgres.database)"
PGUSER_APP="$(zz_config postgres.user)"
PASSFILE="$ZONGZHI_VAR/secrets/postgres.password"

# Where the cluster lives. As root the server runs as 'postgres', which must
# be able to reach the folder: a checkout under a private home (/root is
# mode 700) cannot host it, so the cluster then lives in a folder of the
# 'postgres' account's own, one per checkout.
pg_base() {
  if [[ -n "${ZONGZHI_PG_DIR:-}" ]]; then echo "$ZONGZHI_PG_DIR"; return; fi
  if [[ "$(id -u)" == 0 ]] && ! runuser -u postgres -- test -x "$ZONGZHI_VAR" 2>/dev/null; then
    local home; home="$(getent passwd postgres | cut -d: -f6)"
    echo "${home:-/var/lib/postgresql}/zongzhi-$(printf '%s' "$ZONGZHI_VAR" | sha256sum | cut -c1-12)"
  else
    echo "$ZONGZHI_VAR/postgres"
  fi
}

pg_bin() {
  local d
  for d in "${ZONGZHI_PG_BIN:-}" /usr/lib/postgresql/*/bin; do
    [[ -n "$d" && -x "$d/pg_ctl" ]] && { echo "$d"; return; }
  done
  command -v pg_ctl >/dev/null 2>&1 && { dirname "$(readlink -f "$(command -v pg_ctl)")"; return; }
  return 1
}

ensure_binaries() {
  if ! BIN="$(pg_bin)"; then
    [[ "$(id -u)" == 0 ]] || zz_die "PostgreSQL server binaries are missing: install them once as root (apt-get install postgresql), or set ZONGZHI_PG_BIN"
    zz_log "installing PostgreSQL server from Debian packages (once per machine)"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null) \
      || zz_die "apt-get install postgresql failed; install PostgreSQL 15+ by hand or set ZONGZHI_PG_BIN"
    BIN="$(pg_bin)" || zz_die "PostgreSQL was installed but pg_ctl was not found"
  fi
}

# Run a command as the account that owns the cluster.
as_owner() {
  if [[ "$(id -u)" == 0 ]]; then
    id postgres >/dev/null 2>&1 || useradd --system --home-dir /var/lib/postgresql --shell /usr/sbin/nologin postgres
    (cd / && runuser -u postgres -- "$@")
  else
    "$@"
  fi
}

set_paths() {
  PGBASE="$(pg_base)"
  PGDATA="$PGBASE/data"
  PGSOCK="$PGBASE/socket"
  PGLOG="$PGBASE/postgres.log"
}

is_ready() { "$BIN/pg_isready" -q -h "$PGHOST" -p "$PGPORT" >/dev/null 2>&1; }

init_cluster() {
  mkdir -p "$PGBASE" "$ZONGZHI_VAR/secrets" "$PGSOCK"
  chmod 700 "$ZONGZHI_VAR/secrets"
  if [[ ! -s "$PASSFILE" ]]; then
    (umask 077; head -c 24 /dev/urandom | base64 | tr -d '/+=' > "$PASSFILE")
  fi
  if [[ ! -f "$PGDATA/PG_VERSION" ]]; then
    zz_log "initialising PostgreSQL cluster in $PGDATA"
    mkdir -p "$PGDATA"
    [[ "$(id -u)" == 0 ]] && { as_owner true; chown -R postgres "$PGBASE"; }
    chmod 700 "$PGDATA"
    as_owner "$BIN/initdb" -D "$PGDATA" -U postgres --auth-local=trust --auth-host=scram-sha-256 \
      -E UTF8 --locale=C.UTF-8 >"$ZONGZHI_VAR/log/postgres-init.log" 2>&1 \
      || zz_die "initdb failed (see $ZONGZHI_VAR/log/postgres-init.log)"
  fi
  [[ "$(id -u)" == 0 ]] && chown -R postgres "$PGBASE"
  touch "$PGLOG"; [[ "$(id -u)" == 0 ]] && chown postgres "$PGLOG"
  return 0
}

psql_admin() {
  as_owner "$BIN/psql" -v ON_ERROR_STOP=1 -q -h "$PGSOCK" -p "$PGPORT" -U postgres "$@"
}

provision() {
  local pw; pw="$(cat "$PASSFILE")"
  psql_admin -d postgres <<SQL >/dev/null
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$PGUSER_APP') THEN
    CREATE ROLE $PGUSER_APP LOGIN PASSWORD '$pw';
  ELSE
    ALTER ROLE $PGUSER_APP PASSWORD '$pw';
  END IF;
END \$\$;
SQL
  if ! psql_admin -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname='$PGDATABASE'" | grep -q 1; then
    psql_admin -d postgres -c "CREATE DATABASE $PGDATABASE OWNER $PGUSER_APP" >/dev/null
  fi
  PGPASSWORD="$pw" "$BIN/psql" -v ON_ERROR_STOP=1 -q -h "$PGHOST" -p "$PGPORT" -U "$PGUSER_APP" -d "$PGDATABASE" \
    -f "$ZONGZHI_ROOT/infra/postgres/schema.sql" >/dev/null 2>&1 \
    || zz_die "applying infra/postgres/schema.sql failed"
}

cmd_start() {
  ensure_binaries
  init_cluster
  if ! is_ready; then
    as_owner "$BIN/pg_ctl" -D "$PGDATA" -l "$PGLOG" -w -t 60 start \
      -o "-c listen_addresses=$PGHOST -c port=$PGPORT -c unix_socket_directories=$PGSOCK" >/dev/null \
      || zz_die "PostgreSQL did not start (see $PGLOG)"
  fi
  zz_wait_for "PostgreSQL on $PGHOST:$PGPORT" 60 is_ready
  provision
  zz_log "PostgreSQL ready on $PGHOST:$PGPORT, database $PGDATABASE"
}

cmd_stop() {
  BIN="$(pg_bin)" || return 0
  if [[ -f "$PGDATA/postmaster.pid" ]]; then
    as_owner "$BIN/pg_ctl" -D "$PGDATA" -m fast -w stop >/dev/null 2>&1 || true
    zz_log "PostgreSQL stopped"
  fi
}

cmd_status() {
  BIN="$(pg_bin)" || { echo "postgres: not installed"; return 3; }
  if is_ready; then echo "postgres: up ($PGHOST:$PGPORT)"; else echo "postgres: down"; return 3; fi
}

set_paths
case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  psql) ensure_binaries; shift; PGPASSWORD="$(cat "$PASSFILE")" exec "$BIN/psql" -h "$PGHOST" -p "$PGPORT" -U "$PGUSER_APP" -d "$PGDATABASE" "$@" ;;
  *) zz_die "usage: infra/postgres.sh start|stop|status|psql (got '${1:-}')" ;;
esac
