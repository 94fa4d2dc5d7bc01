"""Tests for features.alert_routing: who is told, and escalation on an injected clock.

The ``ctx`` fixture (a two-town district, two villages each) is in ``conftest.py``.
"""

from __future__ import annotations

import pytest

from features.alert_routing import escalate, escalation_due, recipients, routing_rules
from features.jurisdiction_policy import policy_from_mapping, policy_listing

RULES = routing_rules(
    {
        "黄色": {"levels_up": 0, "ack_minutes": 60},
        "橙色": {"levels_up": 1, "ack_minutes": 30},
        "红色": {"levels_up": 2, "ack_minutes": 15},
    }
)
MINUTE = 60_000


@pytest.fixture()
def policy(ctx):
    return policy_from_mapping(policy_listing(ctx.district), ctx.district)


@pytest.fixture()
def place(ctx):
    village = ctx.district.villages[0]
    return village.town_code, village.code


def test_severity_decides_how_far_up_an_alert_is_told(policy, place, ctx):
    town, village = place
    district = ctx.district.code
    assert recipients(policy, RULES, town, village, "黄色") == (village,)
    assert recipients(policy, RULES, town, village, "橙色") == (village, town)
    assert recipients(policy, RULES, town, village, "红色") == (village, town, district)
    # Unresolved places go to the district, whatever the severity.
    assert recipients(policy, RULES, None, None, "红色") == (district,)


def test_an_unacknowledged_alert_escalates_one_level_at_its_time_limit(policy, place, ctx):
    town, village = place
    assigned = 1_000 * MINUTE
    due = [
        escalation_due(RULES, "橙色", assigned_at_ms=assigned, acknowledged=False, now_ms=now)
        for now in (assigned + 30 * MINUTE - 1, assigned + 30 * MINUTE)
    ]
    assert due == [False, True]
    assert not escalation_due(
        RULES, "橙色", assigned_at_ms=assigned, acknowledged=True, now_ms=assigned + 10**9
    )
    up = escalate(
        policy, RULES, village, "橙色", assigned_at_ms=assigned, now_ms=assigned + 31 * MINUTE
    )
    assert (up.from_center, up.to_center, up.at_ms) == (village, town, assigned + 31 * MINUTE)
    village_name = policy.center(village).name
    town_name = policy.center(town).name
    assert up.reason == (
        f"橙色预警在{village_name}30分钟内未签收（已等待31分钟），升级至{town_name}"
    )
    assert escalate(policy, RULES, town, "橙色", assigned_at_ms=0, now_ms=0).to_center == (
        ctx.district.code
    )
    # At the district it stays.
    assert escalate(policy, RULES, ctx.district.code, "红色", assigned_at_ms=0, now_ms=0) is None


@pytest.mark.parametrize(
    "mapping, message",
    [
        ({}, r"must be a non-empty mapping by severity"),
        ({"红色": {"levels_up": 1}}, r"routing rule of '红色' must give levels_up and ack_minutes"),
        ({"红色": {"levels_up": -1, "ack_minutes": 5}}, r"levels_up=-1 for '红色' must be"),
        ({"红色": {"levels_up": 1, "ack_minutes": 0}}, r"ack_minutes=0 for '红色' must be"),
        ({"红色": {"levels_up": True, "ack_minutes": 5}}, r"levels_up=True for '红色'"),
    ],
)
def test_faulty_rules_are_refused_naming_the_value(mapping, message):
    with pytest.raises(ValueError, match=message):
        routing_rules(mapping)


def test_an_unknown_severity_is_named(policy, place):
    with pytest.raises(
        ValueError, match=r"severity='紫色' has no routing rule; known: 黄色, 橙色, 红色"
    ):
        recipients(policy, RULES, *place, "紫色")
