"""``zongzhi bench faults --smoke``: every fault leaves what the undisturbed run leaves.

At smoke size the bench simulates 2.5 hours of the district with a planted
surge once, runs it undisturbed, then once per fault: the normalization job
killed mid-stream, the hotspot job killed with clusters open, PostgreSQL
stopped for 10 s under the alerts while ``store-alerts`` follows them, and
50 poison records mixed into the raw topics. The figures are checked here
against each other and against what the bench was asked for; times are
measured, never asserted (only that they were measured).

CI runs the bench with one fault (``--faults poison-records``) to keep within
its time: each fault is a full run of the Flink jobs, and the kills and the
outage are proven in CI by their own tests (``test_exactly_once_restart.py``,
``test_alert_store.py``). Set ``ZONGZHI_FAULT_BENCH_ALL=1`` to check every fault.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from pipelines.harness.fault_bench_poison import POISON_KINDS
from pipelines.harness.steps import child_env

pytestmark = pytest.mark.integration

ALL_FAULTS = ["normalize-kill", "hotspot-kill", "postgres-outage", "poison-records"]
FAULTS = ALL_FAULTS if os.environ.get("ZONGZHI_FAULT_BENCH_ALL") == "1" else ["poison-records"]
SMOKE_POISON = 50
#: A guard against a hang, not a measurement.
GUARD_S = 3600


@pytest.fixture(scope="module")
def report(settings):
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pipelines.cli",
            "bench",
            "faults",
            "--smoke",
            "--faults",
            ",".join(FAULTS),
            "--json",
        ],
        cwd=settings.root,
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=GUARD_S,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    assert lines, done.stderr[-3000:]
    return done.returncode, json.loads(lines[-1])


def test_the_undisturbed_run_raises_alerts_and_balances(report):
    _, found = report
    undisturbed = found["undisturbed"]["records"]
    assert undisturbed["produced"] == found["events"]
    assert undisturbed["normalized"] + undisturbed["dead_lettered"] == undisturbed["produced"]
    assert undisturbed["balanced"] is True
    # The planted surge raises a cluster, and clusters live through several looks.
    assert found["undisturbed"]["alerts_raised"] >= 1
    assert found["undisturbed"]["alert_updates"] > found["undisturbed"]["alerts_raised"]
    # Every update and every alert reaches PostgreSQL: one row per update, one per alert.
    assert found["undisturbed"]["postgres_rows"] >= found["undisturbed"]["alert_updates"]


@pytest.mark.parametrize("fault", FAULTS)
def test_a_fault_loses_nothing_and_doubles_nothing(report, fault):
    _, found = report
    outcome = found["faults"][fault]
    records = outcome["records"]
    poison = SMOKE_POISON if fault == "poison-records" else 0
    assert records["produced"] == found["events"] + poison
    assert records["normalized"] + records["dead_lettered"] == records["produced"]
    # The same events are normalized as in the undisturbed run: poison is dead-lettered.
    assert records["normalized"] == found["undisturbed"]["records"]["normalized"]
    assert records["dead_lettered"] == found["undisturbed"]["records"]["dead_lettered"] + poison
    alerts = outcome["alerts_topic"]
    assert alerts == {
        "equal": True,
        "undisturbed": found["undisturbed"]["alert_updates"],
        "found": found["undisturbed"]["alert_updates"],
        "missing": 0,
        "extra": 0,
        "raised_twice": 0,
    }
    assert outcome["alerts_postgres"] == {
        "equal": True,
        "undisturbed": found["undisturbed"]["postgres_rows"],
        "found": found["undisturbed"]["postgres_rows"],
        "missing": 0,
        "extra": 0,
    }
    assert outcome["ok"] is True
    if fault == "poison-records":
        assert outcome["recovery_seconds"] is None
        assert outcome["poison_records"] == {"count": SMOKE_POISON, "kinds": list(POISON_KINDS)}
    else:
        assert outcome["recovery_seconds"] >= 0
    if fault == "postgres-outage":
        assert outcome["outage_seconds"] >= 10
        # Every alert update arrived while PostgreSQL was down: the store had them all to write.
        assert outcome["alert_store_lag_at_return"] == alerts["undisturbed"]
    if fault == "normalize-kill":
        # Mid-stream: some records were normalized and committed, not all.
        assert 0 < outcome["normalized_at_kill"] < records["normalized"]
    if fault == "hotspot-kill":
        # Alerts were out and a cluster open when the kill landed; more updates came after.
        assert outcome["open_clusters_at_kill"] >= 1
        assert 0 < outcome["alert_updates_at_kill"] < alerts["undisturbed"]


def test_the_bench_exits_0_when_every_fault_is_ok(report):
    returncode, found = report
    assert list(found["faults"]) == FAULTS
    assert found["ok"] is True
    assert returncode == 0
