#!/usr/bin/env bash
# The whole test suite: unit tests, doctests and integration tests on the real
# services (Kafka, Flink, Spark, PostgreSQL, Superset), which the tests start
# through the infra/ scripts. Installs what it needs on first use.
# Extra arguments go to pytest, e.g. `bash infra/test.sh -m "not integration"`.
# Note: integration tests re-create the declared Kafka topics and the lake.
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

PY="$(zz_prepare)"
cd "$ZONGZHI_ROOT"
exec "$PY" -m pytest "$@"
