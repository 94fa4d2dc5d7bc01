"""Escalation of unacknowledged alerts, on the real PostgreSQL, with an injected clock.

The alerts are routed as the service routes them (:class:`AlertRouter`, in
the alert store's transaction) and dated in the year 2000, so that the
clock this test hands to :meth:`DutyStore.escalate_due` moves only them.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import psycopg2
import pytest
from psycopg2.extras import execute_values

from pipelines.harness.alert_messages import hotspot_alert
from pipelines.io.platform_state import load_jurisdiction_policy, load_routing_rules
from pipelines.service.alert_router import AlertRouter
from pipelines.service.credentials import Account
from pipelines.service.duty_store import DutyStore
from pipelines.streaming.alert_store import ALERT_COLUMNS, alert_row

pytestmark = pytest.mark.integration

T0 = datetime(2000, 1, 3, 8, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def duty(settings):
    policy = load_jurisdiction_policy(settings)
    rules = load_routing_rules(settings)
    store = DutyStore(settings, policy, rules, session_hours=1)
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
