"""Tests for the pure parts of ``zongzhi bench faults``: poison records and the comparison."""

from __future__ import annotations

import json
from collections import Counter
from types import SimpleNamespace

import pytest

from features.dead_letter import DEAD_LETTER, NORMALIZED, route_raw_record
from pipelines.harness.fault_bench import fault_report
from pipelines.harness.fault_bench_outcome import balance, compare_alert_updates, compare_rows
from pipelines.harness.fault_bench_poison import POISON_KINDS, poison_records
from tests.unit.features.conftest import ctx, grid_event, village  # noqa: F401 (fixtures)
from tests.unit.features.contract_reference import NOW_MS


def _simulated(envelope: dict) -> SimpleNamespace:
    return SimpleNamespace(
        source="grid",
        key=envelope["event_id"],
        value=json.dumps(envelope, ensure_ascii=False),
        event_time_ms=NOW_MS - 60_000,
        report_time_ms=NOW_MS - 30_000,
    )


def test_every_poison_record_is_dead_lettered_and_its_template_is_not(ctx, grid_event):  # noqa: F811
    template = _simulated(grid_event)
    poison = poison_records([template], count=2 * len(POISON_KINDS), seed=3)
    valid, _, _ = route_raw_record(template.value, ctx, NOW_MS, channel="grid")
    assert valid == NORMALIZED
    routed = {}
    for record in poison:
        destination, _, value = route_raw_record(
            record.value, ctx, NOW_MS, channel="grid", topic="zz.raw.grid", partition=0, offset=1
        )
        assert destination == DEAD_LETTER, (record.malformed_kind, value[:200])
        routed.setdefault(record.malformed_kind, set()).add(json.loads(value)["reason_code"])
    assert Counter(p.malformed_kind for p in poison) == {k: 2 for k in POISON_KINDS}
    assert routed["huge_field"] == {"too_large"}
    assert routed["truncated_json"] == {"invalid_json"}
    # Each poison record has an event id of its own, none the template's.
    assert [p.key for p in poison] == [f"poison-{n}" for n in range(len(poison))]
    assert all(b"grid-1" not in p.value for p in poison)


def test_poison_records_are_the_same_for_the_same_seed():
    template = _simulated({"event_id": "g-7", "attributes": {"description": "x"}})
    first = poison_records([template], count=7, seed=5)
    assert first == poison_records([template], count=7, seed=5)
    assert first != poison_records([template], count=7, seed=6)


def test_poison_records_need_a_template_that_parses():
    broken = SimpleNamespace(source="grid", value="{not json", event_time_ms=0, report_time_ms=0)
    with pytest.raises(ValueError, match="at least one valid record"):
        poison_records([broken], count=3, seed=1)


def _update(alert_id: str, status: str, end: str) -> dict:
    return {"alert_id": alert_id, "status": status, "updated_window_end": end}


UNDISTURBED = [
    _update("a", "new", "t1"),
    _update("a", "ongoing", "t2"),
    _update("a", "ended", "t3"),
    _update("b", "new", "t2"),
]


def test_a_gap_a_duplicate_and_a_second_raise_are_each_counted():
    found = [
        _update("a", "new", "t1"),
        _update("a", "new", "t1"),  # raised again after a restart
        _update("a", "ended", "t3"),
        _update("b", "new", "t2"),
        _update("b", "new", "t2"),  # written twice
    ]
    assert compare_alert_updates(UNDISTURBED, found) == {
        "equal": False,
        "undisturbed": 4,
        "found": 5,
        "missing": 1,
        "extra": 2,
        "raised_twice": 2,
    }
    assert compare_alert_updates(UNDISTURBED, list(reversed(UNDISTURBED)))["equal"] is True


def test_a_fault_is_ok_only_when_balanced_and_equal_in_kafka_and_postgres():
    rows = [("alert", "a", "ended", "3"), ("update", "a", "new", "t1")]
    undisturbed = {"alerts": UNDISTURBED, "postgres": rows}
    run = {
        "produced": 10,
        "normalized": 8,
        "dead_lettered": 2,
        "alerts": UNDISTURBED,
        "postgres": rows,
        "recovery_seconds": 4.2,
        "seconds": 60.0,
    }
    good = fault_report(undisturbed, run)
    assert good["ok"] is True
    assert good["records"] == balance(produced=10, normalized=8, dead_lettered=2)
    assert good["alerts_postgres"] == compare_rows(rows, rows)
    assert good["recovery_seconds"] == 4.2
    assert fault_report(undisturbed, {**run, "dead_lettered": 1})["ok"] is False
    assert fault_report(undisturbed, {**run, "postgres": rows[:1]})["ok"] is False
    assert fault_report(undisturbed, {**run, "alerts": UNDISTURBED[1:]})["ok"] is False


def test_the_cli_offers_exactly_the_benchs_faults():
    from pipelines.cli.parser import build_parser
    from pipelines.harness.fault_bench_run import FAULTS

    parser = build_parser()
    assert parser.parse_args(["bench", "faults"]).faults == FAULTS
    assert parser.parse_args(["bench", "faults", "--faults", "poison-records"]).faults == (
        "poison-records",
    )
