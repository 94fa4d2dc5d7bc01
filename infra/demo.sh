#!/usr/bin/env bash
# The platform's main job, end to end: services up, a simulated district
# streaming through Kafka and Flink, alerts, a nightly Spark run, dashboards,
# and a printed summary. Installs what it needs on first use.
# Extra arguments go to `zongzhi demo` (see `zongzhi demo --help`).
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

PY="$(zz_prepare)"
cd "$ZONGZHI_ROOT"
# The monthly report is printed to PDF by Debian's chromium.
bash "$ZONGZHI_ROOT/infra/browser.sh" ensure || exit 1
exec "$(dirname "$PY")/zongzhi" demo "$@"
