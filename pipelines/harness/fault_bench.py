"""``zongzhi bench faults``: each fault against one undisturbed run of the same events.

1. **One fixed event set** (:mod:`pipelines.harness.fault_bench_events`): a
   simulated district stream with a planted surge, so that alerts exist,
   simulated once.
2. **The undisturbed run** of it through the normalization and hotspot jobs
   and the alert store (:func:`pipelines.harness.fault_bench_run.run_once`).
3. **One run per fault**: the normalization job killed (SIGKILL) mid-stream
   and restarted from its checkpoint; the hotspot job killed once alerts are
   out and clusters open, restarted from its checkpoint; PostgreSQL stopped
   under the stream of alerts while ``store-alerts`` follows it; poison
   records mixed into the raw topics.

For each fault the report gives the records produced, normalized and
dead-lettered and whether they balance, the alerts topic (read committed)
and PostgreSQL against the undisturbed run (equal, missing, extra, clusters
raised twice), and the recovery time. ``ok`` is false if any fault lost or
doubled anything.

The jobs checkpoint every ``checkpoint_s`` seconds (a copy of the
configuration under ``var/fault-bench/``, which the child processes read
through ``ZONGZHI_CONFIG``), so that a kill finds a recent checkpoint.
"""

from __future__ import annotations

import copy
import logging
import os
from contextlib import contextmanager

import yaml

from pipelines.errors import UsageError
from pipelines.harness.fault_bench_events import simulate_event_set
from pipelines.harness.fault_bench_outcome import (
    balance,
    compare_alert_updates,
    compare_rows,
    fault_ok,
)
from pipelines.harness.fault_bench_poison import POISON_KINDS, poison_records
from pipelines.harness.fault_bench_run import FAULTS, run_once
from pipelines.io.platform_state import pseudonym_key
from pipelines.settings import Settings, load_settings

__all__ = ["FAULTS", "run_bench", "fault_report"]

log = logging.getLogger(__name__)


@contextmanager
def quick_checkpoints(settings: Settings, checkpoint_s: int):
    """The settings with checkpoints every ``checkpoint_s`` s, for this process and its children."""
    raw = copy.deepcopy(settings.raw)
    raw["flink"]["checkpoint_interval_seconds"] = checkpoint_s
    path = settings.var / "fault-bench" / "zongzhi.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    path.chmod(0o600)
    saved = {name: os.environ.get(name) for name in ("ZONGZHI_CONFIG", "ZONGZHI_VAR")}
    os.environ["ZONGZHI_CONFIG"] = str(path)
    os.environ["ZONGZHI_VAR"] = str(settings.var)
    try:
        yield load_settings(path)
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _records(run: dict) -> dict:
    return balance(
        produced=run["produced"], normalized=run["normalized"], dead_lettered=run["dead_lettered"]
    )


def fault_report(undisturbed: dict, disturbed: dict) -> dict:
    """One fault's entry of the report: its run against the undisturbed run."""
    outcome = {
        "records": _records(disturbed),
        "alerts_topic": compare_alert_updates(undisturbed["alerts"], disturbed["alerts"]),
        "alerts_postgres": compare_rows(undisturbed["postgres"], disturbed["postgres"]),
        "recovery_seconds": disturbed["recovery_seconds"],
        "run_seconds": disturbed["seconds"],
    }
    for name in (
        "normalized_at_kill",
        "alert_updates_at_kill",
        "open_clusters_at_kill",
        "outage_seconds",
        "alert_store_lag_at_return",
        "poison_records",
    ):
        if name in disturbed:
            outcome[name] = disturbed[name]
    outcome["ok"] = fault_ok(outcome)
    return outcome


def run_bench(
    settings: Settings,
    *,
    faults: tuple[str, ...] = FAULTS,
    hours: float = 4.0,
    seed: int = 21,
    poison: int = 500,
    outage_s: float = 30.0,
    checkpoint_s: int = 2,
) -> dict:
    """Run the undisturbed run and one run per fault; return the report."""
    unknown = [f for f in faults if f not in FAULTS]
    if unknown:
        raise UsageError(f"faults {unknown} are not among: {', '.join(FAULTS)}")
    with quick_checkpoints(settings, checkpoint_s) as quick:
        pseudonym_key(quick, create=True)
        events = simulate_event_set(quick, hours, seed)
        bad = poison_records(events.stream, poison, seed)
        log.info("fault bench: %d records, undisturbed run", events.size)
        undisturbed = run_once(quick, events)
        report = {
            "events": events.size,
            "stream_hours": hours,
            "checkpoint_interval_seconds": checkpoint_s,
            "undisturbed": {
                "records": _records(undisturbed),
                "alert_updates": len(undisturbed["alerts"]),
                "alerts_raised": sum(1 for a in undisturbed["alerts"] if a["status"] == "new"),
                "postgres_rows": len(undisturbed["postgres"]),
                "run_seconds": undisturbed["seconds"],
            },
            "faults": {},
        }
        for fault in faults:
            log.info("fault bench: %s", fault)
            run = run_once(quick, events, fault, poison=bad, outage_s=outage_s)
            if fault == "poison-records":
                run["poison_records"] = {"count": len(bad), "kinds": list(POISON_KINDS)}
            report["faults"][fault] = fault_report(undisturbed, run)
    report["ok"] = (
        report["undisturbed"]["records"]["balanced"]
        and report["undisturbed"]["alerts_raised"] > 0
        and all(f["ok"] for f in report["faults"].values())
    )
    return report
