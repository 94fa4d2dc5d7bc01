"""Tests for features.work_orders: the rule of a category, and rules that are refused by name."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from features.work_orders import overdue, work_order_rules

DEPARTMENTS = ("综治", "公安", "城管")
CONFIG = {
    "default": {"department": "综治", "respond_hours": 2, "close_hours": 72},
    "rules": {
        "environment": {"department": "城管", "respond_hours": 2, "close_hours": 48},
        "environment.burning": {"department": "城管", "respond_hours": 1, "close_hours": 6},
    },
}


def test_a_category_takes_its_own_rule_then_its_groups_then_the_default():
    rules = work_order_rules(CONFIG, DEPARTMENTS)
    assert rules.rule_for("environment.burning").close_hours == 6
    assert rules.rule_for("environment.illegal_dumping").close_hours == 48
    assert rules.rule_for("hotline.transport").department == "综治"
    assert rules.rule_for(None).department == "综治"


def test_limits_are_hours_after_dispatch_and_closed_cases_are_never_overdue():
    rule = work_order_rules(CONFIG, DEPARTMENTS).rule_for("environment.burning")
    t0 = datetime(2026, 12, 6, 8, tzinfo=UTC)
    assert rule.respond_by(t0) == t0 + timedelta(hours=1)
    assert rule.due(t0) == t0 + timedelta(hours=6)
    assert overdue(rule.due(t0), "accepted", t0 + timedelta(hours=6))
    assert not overdue(rule.due(t0), "accepted", t0 + timedelta(hours=5.9))
    assert not overdue(rule.due(t0), "closed", t0 + timedelta(days=9))


@pytest.mark.parametrize(
    "rule, message",
    [
        (
            {"department": "消防", "respond_hours": 1, "close_hours": 2},
            "department='消防' is not one of",
        ),
        ({"department": "公安", "respond_hours": 0, "close_hours": 2}, "respond_hours=0 must be"),
        ({"department": "公安", "respond_hours": 3, "close_hours": 2}, "exceeds close_hours"),
        ({"department": "公安", "close_hours": 2}, "must give department, respond_hours"),
    ],
)
def test_a_bad_rule_is_refused_by_name(rule, message):
    with pytest.raises(ValueError, match=f"^rules.public_order.*{message}"):
        work_order_rules({**CONFIG, "rules": {"public_order": rule}}, DEPARTMENTS)
