#!/usr/bin/env bash
# The alert service (pipelines/service/): live pages, API and the closed
# loop, on loopback, from the project's venv.
# Usage: infra/alert_service.sh start|stop|status
#
#   start   install the venv if needed, start `zongzhi alert-service` in the
#           background, wait for /healthz; demo accounts (one per center) are
#           generated on first start into $ZONGZHI_VAR/<alert_service.accounts_file>
#   stop    stop the server
#   status  exit 0 when up, 3 when down
# Needs PostgreSQL (and Kafka for alerts to arrive): start them first.
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

AS_HOST="$(zz_config alert_service.host)"
AS_PORT="$(zz_config alert_service.port)"
AS_URL="http://$AS_HOST:$AS_PORT"
AS_PIDFILE="$ZONGZHI_VAR/run/alert_service.pid"
AS_LOG="$ZONGZHI_VAR/log/alert_service.log"
AS_ACCOUNTS="$ZONGZHI_VAR/$(zz_config alert_service.accounts_file)"

health_ok() { zz_http_ok "$AS_URL/healthz"; }

cmd_start() {
  if zz_pid_alive "$AS_PIDFILE" && health_ok; then
    zz_log "alert service already up on $AS_URL"
    return 0
  fi
  if ! zz_pid_alive "$AS_PIDFILE" && health_ok; then
    zz_die "something else answers on $AS_URL (no pid in $AS_PIDFILE): free port $AS_PORT"
  fi
  local py
  py="$(bash "$ZONGZHI_ROOT/infra/venv.sh")" || exit 1
  if ! zz_pid_alive "$AS_PIDFILE"; then
    rm -f "$AS_PIDFILE"
    zz_log "starting the alert service on $AS_URL (log: $AS_LOG)"
    # setsid + closed stdio: the server outlives this script and holds no
    # pipe of the caller open.
    PYTHONUNBUFFERED=1 setsid "$(dirname "$py")/zongzhi" alert-service \
      </dev/null >>"$AS_LOG" 2>&1 &
    echo $! > "$AS_PIDFILE"
  fi
  local start=$SECONDS
  until health_ok; do
    zz_pid_alive "$AS_PIDFILE" || zz_die "the alert service exited during startup; last log lines:
$(tail -n 20 "$AS_LOG")"
    (( SECONDS - start > 60 )) && zz_die "the alert service did not answer $AS_URL/healthz within 60s (see $AS_LOG)"
    sleep 0.5
  done
  zz_log "alert service up on $AS_URL (demo accounts and passwords in $AS_ACCOUNTS)"
}

cmd_stop() { zz_stop_pidfile "alert service" "$AS_PIDFILE"; }

cmd_status() {
  if zz_pid_alive "$AS_PIDFILE" && health_ok; then
    echo "alert-service: up ($AS_URL)"
  else
    echo "alert-service: down"
    return 3
  fi
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  *) zz_die "usage: infra/alert_service.sh start|stop|status (got '${1:-}')" ;;
esac
