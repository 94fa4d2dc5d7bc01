#!/usr/bin/env bash
# Local PostgreSQL for the serving tables: a private cluster in
# $ZONGZHI_VAR/postgres on loopback.
# Usage: infra/postgres.sh start|stop|status|psql|admin|socket
#   psql    the app role over TCP (scram-sha-256, the app password)
#   admin   the superuser through the socket (peer: only the cluster's owner)
#   socket  print the socket directory
#
# Authentication (pg_hba.conf is rewritten at every start, also for a
# cluster initialised by an older release with trust, and reloaded):
#   TCP     scram-sha-256 for every role;
#   socket  'postgres' (the superuser) by peer, mapped from the OS account
#           that owns the cluster only (pg_ident.conf); every other role by
#           scram-sha-256. The socket directory is mode 700 and owned by the
#           cluster's owner, so no other OS account reaches the socket at all.
# The app role's password is ZONGZHI_PG_PASSWORD when set, else the secrets
# file ($ZONGZHI_VAR/secrets/postgres.password, generated at first start);
# the file is kept equal to what the server holds, so clients that read only
# the file agree with the server.
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
PGUSER_READER="$(zz_config postgres.reader_user)"
PGSCHEMA="$(zz_config postgres.schema)"
READER_PASSFILE="$ZONGZHI_VAR/secrets/postgres.reader.password"
# The pg_ident.conf map that lets the cluster's owning OS account in as 'postgres'.
IDENT_MAP="zongzhi_owner"

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

# The OS account that owns (and runs) the cluster.
owner_account() {
  if [[ "$(id -u)" == 0 ]]; then echo postgres; else id -un; fi
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

# The app role's password: ZONGZHI_PG_PASSWORD when set (and then also the
# secrets file's), else the secrets file's, generated at first start.
app_password() {
  mkdir -p "$ZONGZHI_VAR/secrets"; chmod 700 "$ZONGZHI_VAR/secrets"
  if [[ -n "${ZONGZHI_PG_PASSWORD:-}" ]]; then
    if [[ ! -s "$PASSFILE" || "$(cat "$PASSFILE")" != "$ZONGZHI_PG_PASSWORD" ]]; then
      (umask 077; printf '%s\n' "$ZONGZHI_PG_PASSWORD" > "$PASSFILE.tmp" && mv -f "$PASSFILE.tmp" "$PASSFILE")
    fi
  elif [[ ! -s "$PASSFILE" ]]; then
    (umask 077; head -c 24 /dev/urandom | base64 | tr -d '/+=' > "$PASSFILE")
  fi
  cat "$PASSFILE"
}

# The reader role's password (what Superset connects with), generated once.
reader_password() {
  mkdir -p "$ZONGZHI_VAR/secrets"; chmod 700 "$ZONGZHI_VAR/secrets"
  [[ -s "$READER_PASSFILE" ]] || (umask 077; head -c 24 /dev/urandom | base64 | tr -d '/+=' > "$READER_PASSFILE")
  cat "$READER_PASSFILE"
}

init_cluster() {
  mkdir -p "$PGBASE" "$ZONGZHI_VAR/secrets" "$PGSOCK"
  chmod 700 "$ZONGZHI_VAR/secrets"
  app_password >/dev/null
  if [[ ! -f "$PGDATA/PG_VERSION" ]]; then
    zz_log "initialising PostgreSQL cluster in $PGDATA"
    mkdir -p "$PGDATA"
    [[ "$(id -u)" == 0 ]] && { as_owner true; chown -R postgres "$PGBASE"; }
    chmod 700 "$PGDATA"
    as_owner "$BIN/initdb" -D "$PGDATA" -U postgres --auth-local=peer --auth-host=scram-sha-256 \
      -E UTF8 --locale=C.UTF-8 >"$ZONGZHI_VAR/log/postgres-init.log" 2>&1 \
      || zz_die "initdb failed (see $ZONGZHI_VAR/log/postgres-init.log)"
  fi
  [[ "$(id -u)" == 0 ]] && chown -R postgres "$PGBASE"
  # Only the owner reaches the socket (an existing cluster's folder was 755).
  chmod 700 "$PGBASE" "$PGSOCK"
  touch "$PGLOG"; [[ "$(id -u)" == 0 ]] && chown postgres "$PGLOG"
  return 0
}

# Write pg_hba.conf and pg_ident.conf (no trust anywhere); print "changed"
# when either file was rewritten, so that a running server reloads them.
write_auth_files() {
  local owner hba ident changed=""
  owner="$(owner_account)"
  hba="# Written by infra/postgres.sh at every start; edits are overwritten.
# TYPE  DATABASE  USER      ADDRESS        METHOD
local   all       postgres                 peer map=$IDENT_MAP
local   all       all                      scram-sha-256
host    all       all       127.0.0.1/32   scram-sha-256
host    all       all       ::1/128        scram-sha-256"
  ident="# Written by infra/postgres.sh: the OS account that owns the cluster is the superuser.
# MAPNAME        SYSTEM-USERNAME  PG-USERNAME
$IDENT_MAP  $owner  postgres"
  local name content
  for name in pg_hba.conf pg_ident.conf; do
    if [[ "$name" == pg_hba.conf ]]; then content="$hba"; else content="$ident"; fi
    if [[ "$(as_owner cat "$PGDATA/$name" 2>/dev/null)" != "$content" ]]; then
      printf '%s\n' "$content" | as_owner sh -c "umask 077; cat > '$PGDATA/$name.tmp' && mv -f '$PGDATA/$name.tmp' '$PGDATA/$name'"
      changed=1
    fi
  done
  [[ -n "$changed" ]] && echo changed
  return 0
}

psql_admin() {
  as_owner "$BIN/psql" -v ON_ERROR_STOP=1 -q -h "$PGSOCK" -p "$PGPORT" -U postgres "$@"
}

provision() {
  local pw reader_pw; pw="$(app_password)"; reader_pw="$(reader_password)"
  psql_admin -d postgres <<SQL >/dev/null
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$PGUSER_APP') THEN
    CREATE ROLE $PGUSER_APP LOGIN PASSWORD '$pw';
  ELSE
    ALTER ROLE $PGUSER_APP PASSWORD '$pw';
  END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$PGUSER_READER') THEN
    CREATE ROLE $PGUSER_READER LOGIN PASSWORD '$reader_pw';
  ELSE
    ALTER ROLE $PGUSER_READER PASSWORD '$reader_pw';
  END IF;
END \$\$;
ALTER ROLE $PGUSER_READER SET default_transaction_read_only = on;
SQL
  if ! psql_admin -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname='$PGDATABASE'" | grep -q 1; then
    psql_admin -d postgres -c "CREATE DATABASE $PGDATABASE OWNER $PGUSER_APP" >/dev/null
  fi
  PGPASSWORD="$pw" "$BIN/psql" -v ON_ERROR_STOP=1 -q -h "$PGHOST" -p "$PGPORT" -U "$PGUSER_APP" -d "$PGDATABASE" \
    -f "$ZONGZHI_ROOT/infra/postgres/schema.sql" >/dev/null 2>&1 \
    || zz_die "applying infra/postgres/schema.sql failed"
  # The reader sees the serving schema, present and future tables, and
  # nothing else (the duty schema's people and sessions stay out of reach;
  # serving views over it run with their owner's rights).
  PGPASSWORD="$pw" "$BIN/psql" -v ON_ERROR_STOP=1 -q -h "$PGHOST" -p "$PGPORT" -U "$PGUSER_APP" -d "$PGDATABASE" <<SQL >/dev/null \
    || zz_die "granting $PGUSER_READER read access to $PGSCHEMA failed"
REVOKE ALL ON DATABASE $PGDATABASE FROM PUBLIC;
GRANT CONNECT ON DATABASE $PGDATABASE TO $PGUSER_READER;
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA $PGSCHEMA TO $PGUSER_READER;
GRANT SELECT ON ALL TABLES IN SCHEMA $PGSCHEMA TO $PGUSER_READER;
ALTER DEFAULT PRIVILEGES FOR ROLE $PGUSER_APP IN SCHEMA $PGSCHEMA GRANT SELECT ON TABLES TO $PGUSER_READER;
SQL
}

cmd_start() {
  ensure_binaries
  init_cluster
  local auth_changed; auth_changed="$(write_auth_files)"
  if ! is_ready; then
    as_owner "$BIN/pg_ctl" -D "$PGDATA" -l "$PGLOG" -w -t 60 start \
      -o "-c listen_addresses=$PGHOST -c port=$PGPORT -c unix_socket_directories=$PGSOCK -c unix_socket_permissions=0700 -c password_encryption=scram-sha-256" >/dev/null \
      || zz_die "PostgreSQL did not start (see $PGLOG)"
  elif [[ -n "$auth_changed" ]]; then
    as_owner "$BIN/pg_ctl" -D "$PGDATA" reload >/dev/null || zz_die "PostgreSQL did not reload pg_hba.conf (see $PGLOG)"
    zz_log "PostgreSQL reloaded its authentication rules (no trust)"
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
  psql) ensure_binaries; shift; PGPASSWORD="$(app_password)" exec "$BIN/psql" -h "$PGHOST" -p "$PGPORT" -U "$PGUSER_APP" -d "$PGDATABASE" "$@" ;;
  admin) ensure_binaries; shift; as_owner "$BIN/psql" -h "$PGSOCK" -p "$PGPORT" -U postgres -d "$PGDATABASE" "$@" ;;
  socket) echo "$PGSOCK" ;;
  *) zz_die "usage: infra/postgres.sh start|stop|status|psql|admin|socket (got '${1:-}')" ;;
esac
