#!/usr/bin/env bash
# The whole test suite: lint (ruff check, ruff format --check), the layer
# contract (lint-imports), then unit tests, doctests and integration tests on
# the real services (Kafka, Flink, Spark, PostgreSQL, Superset), which the
# tests start through the infra/ scripts. Installs what it needs on first use.
# Extra arguments go to pytest, e.g. `bash infra/test.sh -m "not integration"`.
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
exec "$PY" -m pytest --durations=60 "$@"
