"""Time limits on the real PostgreSQL, with an injected clock: escalation, supervision, the rates.

The alerts are routed as the service routes them (:class:`AlertRouter`, in
the alert store's transaction) and dated in the year 2000, and the cases of
the work-order tests in a month of their own between 1900 and 1999, so
that the clock this test hands to :meth:`DutyStore.escalate_due` and
:meth:`DutyStore.supervise_due` moves only them.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pandas as pd
import psycopg2
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from psycopg2.extras import execute_values
from scipy.stats import poisson

from pipelines.harness.alert_messages import hotspot_alert, watch_proposals
from pipelines.io.platform_state import (
    load_jurisdiction_policy,
    load_routing_rules,
    load_work_order_rules,
)
from pipelines.io.watch_list_store import publish_proposals
from pipelines.service.alert_router import AlertRouter
from pipelines.service.case_outcomes import CaseOutcomes
from pipelines.service.credentials import Account
from pipelines.service.duty_store import Conflict, DutyStore
from pipelines.service.watch_review import WatchReview, proposal_id_of
from pipelines.streaming.alert_store import ALERT_COLUMNS, alert_row

pytestmark = pytest.mark.integration

T0 = datetime(2000, 1, 3, 8, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def duty(settings):
    policy = load_jurisdiction_policy(settings)
    rules = load_routing_rules(settings)
    store = DutyStore(settings, policy, rules, load_work_order_rules(settings), session_hours=1)
    yield store
    store.close()


def _route(settings, store, alert: dict) -> None:
    """Store and route one alert as the service's consumer does."""
    alert = dict(alert, emitted_at_ms=int(T0.timestamp() * 1000))
    router = AlertRouter(store.policy, store.rules, lambda items: None)
    with psycopg2.connect(settings.pg_dsn()) as conn, conn.cursor() as cur:
        execute_values(
            cur,
            f"INSERT INTO {settings.pg['schema']}.alerts ({', '.join(ALERT_COLUMNS)}) VALUES %s",
            [alert_row(alert)],
        )
        router.write(cur, [alert], [])
    conn.close()


def _moved(store, minutes: float, alert_id: str) -> list[dict]:
    return [
        a for a in store.escalate_due(T0 + timedelta(minutes=minutes)) if a["alert_id"] == alert_id
    ]


def test_an_unacknowledged_alert_climbs_one_level_per_time_limit(settings, duty):
    policy = duty.policy
    town = next(c for c in policy.centers.values() if c.level == "town")
    village = next(c for c in policy.centers.values() if c.parent == town.id)
    alert = hotspot_alert(town, village, severity="黄色", tag=f"esc-{uuid.uuid4().hex[:8]}")
    _route(settings, duty, alert)
    limit = duty.rules.ack_minutes["黄色"]

    assert _moved(duty, limit - 1, alert["alert_id"]) == []
    [first] = _moved(duty, limit, alert["alert_id"])
    assert first["center_id"] == town.id
    # The town has a fresh time limit of its own.
    assert _moved(duty, 2 * limit - 1, alert["alert_id"]) == []
    [second] = _moved(duty, 2 * limit, alert["alert_id"])
    assert second["center_id"] == policy.district_code
    assert _moved(duty, 10 * limit, alert["alert_id"]) == []

    trail = [e for e in duty.trail(alert["alert_id"]) if e["action"] == "escalate"]
    assert [(e["detail"]["from"], e["detail"]["to"]) for e in trail] == [
        (village.id, town.id),
        (town.id, policy.district_code),
    ]
    assert trail[0]["detail"]["reason"] == (
        f"黄色预警在{village.name}{limit}分钟内未签收（已等待{limit}分钟），升级至{town.name}"
    )
    assert [e["at"] for e in trail] == [
        T0 + timedelta(minutes=limit),
        T0 + timedelta(minutes=2 * limit),
    ]


def test_an_acknowledged_alert_stays(settings, duty):
    policy = duty.policy
    town = next(c for c in policy.centers.values() if c.level == "town")
    alert = hotspot_alert(town, None, severity="红色", tag=f"esc-{uuid.uuid4().hex[:8]}")
    _route(settings, duty, alert)
    officer = Account(f"duty-{town.id}", town.id, "duty", "值班员")
    acknowledged = duty.acknowledge(officer, alert["alert_id"], T0 + timedelta(minutes=5))
    assert acknowledged["acknowledged_by"] == officer.username
    assert _moved(duty, 24 * 60, alert["alert_id"]) == []


def test_an_unlocated_alert_goes_to_the_district(settings, duty):
    alert = hotspot_alert(None, None, severity="黄色", tag=f"esc-{uuid.uuid4().hex[:8]}")
    _route(settings, duty, alert)
    with psycopg2.connect(settings.pg_dsn()) as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT home_center, center_id, unlocated FROM duty.alert_assignments "
            "WHERE alert_id = %s",
            (alert["alert_id"],),
        )
        assert cur.fetchone() == (duty.policy.district_code, duty.policy.district_code, True)
    conn.close()
    assert _moved(duty, 24 * 60, alert["alert_id"]) == []


def _month() -> datetime:
    """A month of the last century no other run of this test uses (almost surely)."""
    n = uuid.uuid4().int % 1200
    return datetime(1900 + n // 12, 1 + n % 12, 3, 1, 0, tzinfo=UTC)


def _rates(settings, month: datetime, center: str, department: str) -> tuple:
    with psycopg2.connect(settings.pg_dsn()) as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT cases, responded_in_time, closed, followed_up, satisfied, supervised, "
            "response_rate, resolution_rate, satisfaction_rate FROM serving.case_rates "
            "WHERE month = %s AND center_id = %s AND department = %s",
            (month.date().replace(day=1), center, department),
        )
        row = cur.fetchone()
    conn.close()
    return row


def test_cases_follow_their_categorys_rule_go_to_supervision_when_overdue_and_count_in_the_rates(
    settings, duty
):
    policy = duty.policy
    town = next(c for c in policy.centers.values() if c.level == "town")
    village = next(c for c in policy.centers.values() if c.parent == town.id)
    officer = Account(f"duty-{village.id}", village.id, "duty", "值班员")
    t0 = _month()
    fight = duty.work_orders.rule_for("public_order.fight")
    assert (fight.department, fight.respond_hours, fight.close_hours) == ("公安", 0.5, 12)
    cases = []
    for _ in range(4):
        alert = hotspot_alert(town, village, tag=f"wo-{uuid.uuid4().hex[:8]}")
        alert["category"] = "public_order.fight"
        _route(settings, duty, alert)
        cases.append(duty.dispatch(officer, alert["alert_id"], "public_order.fight", None, "", t0))
    assert {c["department"] for c in cases} == {"公安"}
    assert cases[0]["due_at"] == t0 + timedelta(hours=12)
    at = t0 + timedelta(minutes=20)
    # Case 0: accepted in time, closed, satisfied. Case 1: accepted late,
    # closed, not satisfied. Case 2: accepted in time, never closed. Case 3: untouched.
    for case, accept_after, close in ((0, 20, True), (1, 45, True), (2, 10, False)):
        case_id = cases[case]["case_id"]
        duty.move_case(officer, case_id, "accepted", "", t0 + timedelta(minutes=accept_after))
        if close:
            for to in ("handled", "verified", "closed"):
                duty.move_case(officer, case_id, to, "", at + timedelta(hours=1))
    with pytest.raises(Conflict, match="not closed"):
        duty.follow_up(officer, cases[2]["case_id"], 5, "", at + timedelta(hours=2))
    duty.follow_up(officer, cases[0]["case_id"], 5, "满意", at + timedelta(hours=2))
    duty.follow_up(officer, cases[1]["case_id"], 2, "", at + timedelta(hours=2))
    with pytest.raises(Conflict, match="followed up already"):
        duty.follow_up(officer, cases[0]["case_id"], 1, "", at + timedelta(hours=3))

    ours = {c["case_id"] for c in cases}

    def supervised(hours):
        return [c for c in duty.supervise_due(t0 + timedelta(hours=hours)) if c["case_id"] in ours]

    assert supervised(11.9) == []
    late = supervised(12)
    assert sorted(c["case_id"] for c in late) == sorted(c["case_id"] for c in cases[2:])
    assert {c["supervising_center"] for c in late} == {town.id}
    assert all(c["supervised"] for c in late)
    assert supervised(48) == []
    [entry] = [e for e in duty.trail(cases[2]["case_id"]) if e["action"] == "supervise"]
    assert entry["detail"]["reason"] == (
        f"{village.name}派往公安的案件超过办结时限12小时仍已受理，由{town.name}督办"
    )
    assert _rates(settings, t0, village.id, "公安") == (
        4,
        2,
        2,
        2,
        1,
        2,
        Decimal("0.5000"),
        Decimal("0.5000"),
        Decimal("0.5000"),
    )


def test_an_approval_expires_after_its_period_unless_renewed(settings, duty, tmp_path):
    tag = uuid.uuid4().hex[:8]
    publish_proposals(tmp_path, watch_proposals(tag))
    review = WatchReview(duty, tmp_path, approval_days=30)
    t0 = datetime(2000, 2, 1, tzinfo=UTC)
    assert review.import_proposals(t0) == 2
    assert review.import_proposals(t0) == 0  # the same file: nothing new
    ids = [proposal_id_of(f"vehicle:zzt-{tag}-{i}", "2000-01-01") for i in range(2)]
    supervisor = Account("supervisor-110118", duty.policy.district_code, "supervisor", "督办员")
    for proposal in ids:
        review.approve(supervisor, proposal, "核实为重点人员关联车辆", t0)
    review.renew(supervisor, ids[1], "仍需关注", t0 + timedelta(days=20))

    def watched(days):
        review.expire_due(t0 + timedelta(days=days))
        frame = pd.read_parquet(tmp_path / "watch_list.parquet")
        return sorted(v for v in frame["vehicle_node"] if tag in v)

    assert watched(29.9) == [f"vehicle:zzt-{tag}-0", f"vehicle:zzt-{tag}-1"]
    assert watched(30) == [f"vehicle:zzt-{tag}-1"]
    assert watched(50) == []
    [expiry] = [e for e in duty.trail(ids[0]) if e["action"] == "watch_expire"]
    assert expiry["actor"] == "system" and expiry["at"] == t0 + timedelta(days=30)
    assert [e["action"] for e in duty.trail(ids[1])] == [
        "watch_propose",
        "watch_approve",
        "watch_renew",
        "watch_expire",
    ]


def _lake_events(folder, day: datetime, events: list[tuple[str, str, str, datetime]]) -> None:
    """Write events (id, category, cell, time) as one lake file of ``day``'s partition."""
    part = folder / f"event_date={day.date().isoformat()}"
    part.mkdir(parents=True, exist_ok=True)
    table = pa.table(
        {
            "event_id": [e[0] for e in events],
            "category": [e[1] for e in events],
            "cell_id": [e[2] for e in events],
            "event_time_ms": [int(e[3].timestamp() * 1000) for e in events],
        }
    )
    pq.write_table(table, part / f"part-g1-p0-{len(list(part.iterdir()))}.parquet")


def test_after_closure_the_service_records_whether_the_place_cooled(settings, duty, tmp_path):
    town = next(c for c in duty.policy.centers.values() if c.level == "town")
    officer = Account(f"duty-{town.id}", town.id, "duty", "值班员")
    n = uuid.uuid4().int % 9000
    category = "environment.burning"
    schema = settings.pg["schema"]
    closed_at = datetime(2000, 3, 1, 8, tzinfo=UTC)
    places = {}
    for name, row in (("cooled", 5000 + n), ("still_hot", 5001 + n)):
        cells = [f"r{row}c5000", f"r{row}c5001"]
        alert = hotspot_alert(town, None, tag=f"cool-{name}-{n}")
        alert |= {"category": category, "cells": cells, "cell_id": cells[0]}
        _route(settings, duty, alert)
        with psycopg2.connect(settings.pg_dsn()) as conn, conn.cursor() as cur:
            for cell, rate in zip(cells, (0.1, 0.05)):
                cur.execute(
                    f"INSERT INTO {schema}.cell_baselines (cell_id, category, town_code, "
                    "days_observed, events, rate_per_hour) VALUES (%s, %s, %s, 30, 72, %s) "
                    "ON CONFLICT (cell_id, category) DO UPDATE SET rate_per_hour = %s",
                    (cell, category, town.id, rate, rate),
                )
        conn.close()
        case = duty.dispatch(officer, alert["alert_id"], category, None, "", closed_at)
        for to in ("accepted", "handled", "verified", "closed"):
            case = duty.move_case(officer, case["case_id"], to, "", closed_at)
        places[name] = (case["case_id"], cells)
    # Expected in the 24 h after closure: (0.1 + 0.05) × 24 = 3.6 events in each place.
    after = closed_at + timedelta(hours=2)
    events = [(f"e-c-{i}", category, places["cooled"][1][0], after) for i in range(3)]
    events += [(f"e-h-{i}", category, places["still_hot"][1][i % 2], after) for i in range(11)]
    events += [("e-other", "environment.illegal_dumping", places["cooled"][1][0], after)]
    events += [("e-c-0", category, places["cooled"][1][0], after)]  # a duplicate, counted once
    _lake_events(tmp_path, closed_at, events)
    outcomes = CaseOutcomes(duty, tmp_path, schema, hours=24, alpha=0.05)
    ours = {case_id for case_id, _ in places.values()}

    def measured(hours):
        return {
            o["case_id"]: o
            for o in outcomes.measure_due(closed_at + timedelta(hours=hours))
            if o["case_id"] in ours
        }

    assert measured(23.9) == {}
    # Due, but the lake does not reach past the 24 hours yet.
    assert measured(30) == {}
    _lake_events(
        tmp_path,
        closed_at + timedelta(days=1),
        [("e-late", category, "r0c0", closed_at + timedelta(hours=25))],
    )
    found = measured(30)
    cooled, hot = found[places["cooled"][0]], found[places["still_hot"][0]]
    assert (cooled["observed_after"], cooled["expected_after"], cooled["cooled"]) == (3, 3.6, True)
    assert (hot["observed_after"], hot["cooled"]) == (11, False)
    assert hot["p_value"] == pytest.approx(poisson.sf(10, 3.6))
    assert measured(40) == {}  # once
    with psycopg2.connect(settings.pg_dsn()) as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT case_id, cooled_label FROM serving.case_outcomes WHERE case_id = ANY(%s)",
            (list(ours),),
        )
        labels = dict(cur.fetchall())
    conn.close()
    assert labels == {places["cooled"][0]: "已降温", places["still_hot"][0]: "仍偏高"}
