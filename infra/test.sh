#!/usr/bin/env bash
# The whole test suite: lint (ruff check, ruff format --check), the layer
# contract (lint-imports), then unit tests, doctests and integration tests on
# the real services (Kafka, Flink, Spark, PostgreSQL, Superset), which the
# tests start through the infra/ scripts. Installs what it needs on first use.
# Extra arguments go to pytest, e.g. `bash infra/test.sh -m "not integration"`;
# without any, the unit tests run beside the integration tests (two pytest runs).
# Note: integration tests re-create the declared Kafka topics and the lake.
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

PY="$(zz_prepare)"
BIN="$(dirname "$PY")"
cd "$ZONGZHI_ROOT"

zz_log "lint: ruff check, ruff format --check, lint-imports"
"$BIN/ruff" check --no-cache . || zz_die "ruff check found the problems above"
"$BIN/ruff" format --check --no-cache . || zz_die "ruff format --check: run '$BIN/ruff format .' and commit"
"$BIN/lint-imports" --no-cache || zz_die "lint-imports: an import breaks the layers (pyproject.toml, docs/architecture.md)"

zz_log "browser tests: chromium and CJK fonts"
bash "$ZONGZHI_ROOT/infra/browser.sh" ensure || exit 1

# The jobs the tests run last seconds to minutes: their JVMs compile with C1
# only, which spends a third less CPU than C1 then C2 (jvm.jit in the config).
export ZONGZHI_JIT="${ZONGZHI_JIT:-quick}"
if [ "$#" -gt 0 ]; then
    exec "$PY" -m pytest --durations=60 "$@"
fi

# The whole suite in two pytest runs at once. The integration tests wait on
# the services much of the time and leave about a core idle: the unit tests
# and doctests (pure CPU, one core) run on it, beside them. The unit run gets
# a var folder of its own, so that nothing it writes meets the services' state.
unit_var="$(mktemp -d)"
unit_log="$unit_var/pytest.log"
ZONGZHI_VAR="$unit_var" "$PY" -m pytest -m "not integration" -p no:cacheprovider \
    --durations=20 >"$unit_log" 2>&1 &
unit_pid=$!
trap 'kill "$unit_pid" 2>/dev/null || true' INT TERM
set +e
"$PY" -m pytest -m integration --durations=60
integration_rc=$?
wait "$unit_pid"
unit_rc=$?
set -e
zz_log "unit tests and doctests (they ran beside the integration tests):"
cat "$unit_log"
rm -rf "$unit_var"
zz_log "integration tests: exit ${integration_rc}; unit tests and doctests: exit ${unit_rc}"
[ "$integration_rc" -eq 0 ] && [ "$unit_rc" -eq 0 ]
