#!/usr/bin/env bash
# Local Apache Superset for the dashboards, on loopback.
# Usage: infra/superset.sh start|stop|status|provision
#
#   start      build the venv if needed ($ZONGZHI_CACHE/venvs/superset-<lock hash>),
#              initialise the metadata DB once, start gunicorn, wait for /health
#   stop       stop the server
#   status     exit 0 when up, 3 when down
#   provision  (re)import the committed assets in infra/superset/assets/ (overwrite),
#              then apply the access plan at $ZZ_ACCESS_PLAN (roles, row-level
#              security, analysts): `zongzhi superset provision` writes it from
#              the jurisdiction policy and calls this
#   access-state  print the managed roles, filters and analysts as JSON
#
# Secrets stay out of git: $ZONGZHI_VAR/secrets/superset.secret (SECRET_KEY,
# or env SUPERSET_SECRET_KEY) and superset.admin.password (or env
# ZONGZHI_SUPERSET_ADMIN_PASSWORD) are generated on first start.
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

SS_DIR="$ZONGZHI_ROOT/infra/superset"
SS_LOCK="$SS_DIR/requirements.txt"
SS_HOST="$(zz_config superset.host)"
SS_PORT="$(zz_config superset.port)"
SS_ADMIN="$(zz_config superset.admin_user)"
SS_HOME="$ZONGZHI_VAR/superset"
SS_PIDFILE="$ZONGZHI_VAR/run/superset.pid"
SS_LOG="$ZONGZHI_VAR/log/superset.log"
SS_SECRETS="$ZONGZHI_VAR/secrets"
SS_SECRET_FILE="$SS_SECRETS/superset.secret"
SS_ADMIN_PW_FILE="$SS_SECRETS/superset.admin.password"
SS_URL="http://$SS_HOST:$SS_PORT"
SS_LOCK_HASH="$(zz_hash_files "$SS_LOCK")"
SS_VENV="$ZONGZHI_CACHE/venvs/superset-$SS_LOCK_HASH"
SS_VENV_MARKER="$SS_VENV/.zongzhi-complete"
SS_WORKERS="${ZONGZHI_SUPERSET_WORKERS:-1}"
SS_THREADS="${ZONGZHI_SUPERSET_THREADS:-8}"

export SUPERSET_CONFIG_PATH="$SS_DIR/superset_config.py"
export SUPERSET_HOME="$SS_HOME"
export PYTHONUNBUFFERED=1
# Chinese names in logs and CLI output, whatever the locale.
export PYTHONIOENCODING=utf-8

health_ok() { zz_http_ok "$SS_URL/health"; }

# Build the venv from the lock once per lock hash. A marker written after a
# successful install tells a complete venv from a half-built one.
ensure_venv() {
  [[ -f "$SS_VENV_MARKER" ]] && return 0
  zz_require_python311
  mkdir -p "$ZONGZHI_CACHE/venvs"
  exec 9>"$SS_VENV.lock"
  flock 9
  if [[ ! -f "$SS_VENV_MARKER" ]]; then
    local py="${ZONGZHI_PYTHON:-python3}" t0=$SECONDS
    zz_log "creating Superset venv $SS_VENV (first time for this lock; a few minutes)"
    rm -rf "$SS_VENV"
    "$py" -m venv "$SS_VENV" || zz_die "python -m venv failed for $SS_VENV"
    zz_log "installing $(grep -c '==' "$SS_LOCK") pinned packages from infra/superset/requirements.txt"
    # The lock is complete, so no resolver run: --no-deps installs exactly it.
    local pip_log="$ZONGZHI_VAR/log/superset-install.log"
    zz_pip_install "$SS_VENV/bin/python" --no-deps -r "$SS_LOCK" >"$pip_log" 2>&1 \
      || zz_die "pip install of infra/superset/requirements.txt failed (venv left incomplete; see $pip_log):
$(tail -n 15 "$pip_log")"
    "$SS_VENV/bin/python" -m pip check >/dev/null \
      || zz_die "the Superset lock is inconsistent: $("$SS_VENV/bin/python" -m pip check 2>&1 | head -5)"
    env -u SUPERSET_CONFIG_PATH "$SS_VENV/bin/python" -c 'import superset, psycopg2' \
      || zz_die "Superset venv at $SS_VENV does not import superset/psycopg2"
    date -u +%FT%TZ > "$SS_VENV_MARKER"
    zz_log "Superset venv ready in $((SECONDS - t0))s"
  fi
  exec 9>&-
}

random_secret() { head -c "$1" /dev/urandom | base64 | tr -d '/+=\n'; }

ensure_secrets() {
  mkdir -p "$SS_SECRETS" "$SS_HOME"
  chmod 700 "$SS_SECRETS"
  if [[ -z "${SUPERSET_SECRET_KEY:-}" && ! -s "$SS_SECRET_FILE" ]]; then
    (umask 077; random_secret 48 > "$SS_SECRET_FILE")
    zz_log "generated Superset SECRET_KEY in $SS_SECRET_FILE"
  fi
  if [[ -z "${ZONGZHI_SUPERSET_ADMIN_PASSWORD:-}" && ! -s "$SS_ADMIN_PW_FILE" ]]; then
    (umask 077; random_secret 18 > "$SS_ADMIN_PW_FILE")
    zz_log "generated Superset admin password in $SS_ADMIN_PW_FILE"
  fi
}

admin_password() {
  if [[ -n "${ZONGZHI_SUPERSET_ADMIN_PASSWORD:-}" ]]; then
    printf '%s' "$ZONGZHI_SUPERSET_ADMIN_PASSWORD"
  else
    tr -d '\n' < "$SS_ADMIN_PW_FILE"
  fi
}

superset_cli() { "$SS_VENV/bin/superset" "$@" >>"$SS_LOG" 2>&1; }

# db upgrade + admin + init, skipped while the marker matches the lock,
# the admin name and the admin password (only a salted digest is stored).
ensure_initialised() {
  local pw stamp marker="$SS_HOME/.initialised"
  pw="$(admin_password)"
  # Salted with the SECRET_KEY, so the marker says nothing about a weak password.
  stamp="$SS_LOCK_HASH $SS_ADMIN $( { printf '%s:' "${SUPERSET_SECRET_KEY:-}"; cat "$SS_SECRET_FILE" 2>/dev/null; printf ':%s' "$pw"; } | sha256sum | cut -c1-16)"
  if [[ -f "$marker" && "$(cat "$marker")" == "$stamp" && -f "$SS_HOME/superset.db" ]]; then
    return 0
  fi
  local t0=$SECONDS
  zz_log "initialising Superset metadata DB in $SS_HOME (log: $SS_LOG)"
  superset_cli db upgrade || zz_die "superset db upgrade failed (see $SS_LOG)"
  superset_cli init || zz_die "superset init failed (see $SS_LOG)"
  # Admin through the app's security manager: the password goes by env,
  # not argv (visible in ps) nor a prompt.
  ZZ_ADMIN_USER="$SS_ADMIN" ZZ_ADMIN_PASSWORD="$pw" "$SS_VENV/bin/python" - <<'PY' >>"$SS_LOG" 2>&1 \
    || zz_die "creating the Superset admin failed (see $SS_LOG)"
import os
from superset.app import create_app

app = create_app()
with app.app_context():
    sm = app.appbuilder.sm
    name, password = os.environ["ZZ_ADMIN_USER"], os.environ["ZZ_ADMIN_PASSWORD"]
    user = sm.find_user(username=name)
    if user is None:
        user = sm.add_user(name, "综治", "管理员", f"{name}@zongzhi.local",
                           sm.find_role(sm.auth_role_admin), password)
        if not user:
            raise SystemExit(f"could not create Superset user {name}")
        print(f"zongzhi: created Superset admin {name}")
    else:
        sm.reset_password(user.id, password)
        print(f"zongzhi: Superset admin {name} exists; password set from secrets")
PY
  printf '%s' "$stamp" > "$marker"
  zz_log "Superset metadata initialised in $((SECONDS - t0))s"
}

# The metadata database in write-ahead-log mode: a page's concurrent requests
# read while another writes. The mode is kept in the file; setting it again is
# a no-op.
ensure_wal() {
  "$SS_VENV/bin/python" -c 'import sqlite3, sys; sqlite3.connect(sys.argv[1]).execute("pragma journal_mode=wal")' \
    "$SS_HOME/superset.db" || zz_die "could not set $SS_HOME/superset.db to WAL mode"
}

cmd_start() {
  if zz_pid_alive "$SS_PIDFILE" && health_ok; then
    zz_log "Superset already up on $SS_URL"
    return 0
  fi
  if ! zz_pid_alive "$SS_PIDFILE" && health_ok; then
    zz_die "something else answers on $SS_URL (no pid in $SS_PIDFILE): free port $SS_PORT"
  fi
  ensure_secrets
  ensure_venv
  ensure_initialised
  ensure_wal
  if ! zz_pid_alive "$SS_PIDFILE"; then
    rm -f "$SS_PIDFILE"
    zz_log "starting Superset on $SS_URL (log: $SS_LOG)"
    # setsid + closed stdio: the server outlives this script and holds no
    # pipe of the caller open.
    setsid "$SS_VENV/bin/gunicorn" \
      --bind "$SS_HOST:$SS_PORT" --workers "$SS_WORKERS" --worker-class gthread \
      --threads "$SS_THREADS" --timeout 120 --graceful-timeout 10 \
      --limit-request-line 0 --limit-request-field_size 0 \
      "superset.app:create_app()" </dev/null >>"$SS_LOG" 2>&1 &
    echo $! > "$SS_PIDFILE"
  fi
  local start=$SECONDS
  until health_ok; do
    zz_pid_alive "$SS_PIDFILE" || zz_die "Superset exited during startup; last log lines:
$(tail -n 20 "$SS_LOG")"
    (( SECONDS - start > 180 )) && zz_die "Superset did not answer $SS_URL/health within 180s (see $SS_LOG)"
    sleep 1
  done
  zz_log "Superset up on $SS_URL (user $SS_ADMIN; password in $SS_ADMIN_PW_FILE or \$ZONGZHI_SUPERSET_ADMIN_PASSWORD)"
}

cmd_stop() { zz_stop_pidfile Superset "$SS_PIDFILE"; }

cmd_status() {
  if zz_pid_alive "$SS_PIDFILE" && health_ok; then
    echo "superset: up ($SS_URL)"
  else
    echo "superset: down"
    return 3
  fi
}

cmd_provision() {
  [[ -n "${ZZ_ACCESS_PLAN:-}" && -s "${ZZ_ACCESS_PLAN:-}" ]] \
    || zz_die "no access plan (ZZ_ACCESS_PLAN): run \`zongzhi superset provision\`, which derives it from the jurisdiction policy"
  cmd_start
  # Superset reads through the read-only role (infra/postgres.sh creates it).
  local pg_pw_file="$ZONGZHI_VAR/secrets/postgres.reader.password"
  [[ -s "$pg_pw_file" ]] || zz_die "no PostgreSQL reader password at $pg_pw_file: run infra/postgres.sh start first"
  ZZ_SUPERSET_URL="$SS_URL" \
  ZZ_SUPERSET_USER="$SS_ADMIN" \
  ZZ_SUPERSET_PASSWORD="$(admin_password)" \
  ZZ_PG_HOST="$(zz_config postgres.host)" \
  ZZ_PG_PORT="$(zz_config postgres.port)" \
  ZZ_PG_DATABASE="$(zz_config postgres.database)" \
  ZZ_PG_USER="$(zz_config postgres.reader_user)" \
  ZZ_PG_SCHEMA="$(zz_config postgres.schema)" \
  ZZ_PG_PASSWORD_FILE="$pg_pw_file" \
    "$SS_VENV/bin/python" "$SS_DIR/provision.py" "$SS_DIR/assets" \
    || zz_die "provisioning Superset assets failed"
  local run_log="$ZONGZHI_VAR/log/superset-access.log"
  "$SS_VENV/bin/python" "$SS_DIR/access.py" "$ZZ_ACCESS_PLAN" >"$run_log" 2>&1 \
    || zz_die "applying the Superset access plan failed: $(grep '^zongzhi:' "$run_log" | tail -n 1) (see $run_log)"
  grep '^zongzhi:' "$run_log" >&2 || true
}

cmd_access_state() {
  ensure_venv
  local out; out="$(mktemp)"
  "$SS_VENV/bin/python" "$SS_DIR/access.py" --show zz_center_ "$out" >>"$SS_LOG" 2>&1 \
    || { rm -f "$out"; zz_die "reading Superset's roles failed (see $SS_LOG)"; }
  cat "$out"; rm -f "$out"
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  access-state) cmd_access_state ;;
  provision) cmd_provision ;;
  *) zz_die "usage: infra/superset.sh start|stop|status|provision|access-state (got '${1:-}')" ;;
esac
