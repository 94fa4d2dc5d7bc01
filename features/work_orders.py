"""Declared work-order rules: the department a case of each category goes to, and its time limits.

A rule names a department of the center's "7+6" and two limits: hours to
be accepted (响应) and hours to be closed (办结). A category takes its own
rule, else its group's (the part of its code before the dot), else the
default. A case past its closing limit and not closed is overdue and goes
to supervision (督办) one level up.

>>> rules = work_order_rules(
...     {"default": {"department": "综治", "respond_hours": 2, "close_hours": 72},
...      "rules": {"public_order": {"department": "公安", "respond_hours": 1, "close_hours": 24},
...                "public_order.fight": {"department": "公安", "respond_hours": 0.5,
...                                       "close_hours": 12}}},
...     departments=("综治", "公安"))
>>> rules.rule_for("public_order.fight").close_hours, rules.rule_for("public_order.petty_theft").department
(12.0, '公安')
>>> rules.rule_for("environment.burning").department
'综治'
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

__all__ = ["WorkOrderRule", "WorkOrderRules", "work_order_rules", "overdue", "SATISFIED_FROM"]

#: A follow-up score (1 to 5) from which the caller counts as satisfied (满意).
SATISFIED_FROM = 4


@dataclass(frozen=True)
class WorkOrderRule:
    """Where a case goes and how long it may take."""

    department: str
    respond_hours: float
    close_hours: float

    def respond_by(self, dispatched_at: datetime) -> datetime:
        """When the department must have accepted the case."""
        return dispatched_at + timedelta(hours=self.respond_hours)

    def due(self, dispatched_at: datetime) -> datetime:
        """When the case must be closed."""
        return dispatched_at + timedelta(hours=self.close_hours)


@dataclass(frozen=True)
class WorkOrderRules:
    """The default rule and the rules by category or category group."""

    default: WorkOrderRule
    by_key: Mapping[str, WorkOrderRule]

    def rule_for(self, category: str | None) -> WorkOrderRule:
        """The rule of a category: its own, its group's, or the default."""
        if category:
            for key in (category, category.split(".", 1)[0]):
                if key in self.by_key:
                    return self.by_key[key]
        return self.default


def _rule(where: str, value, departments: tuple[str, ...]) -> WorkOrderRule:
    if not isinstance(value, Mapping) or set(value) != {
        "department",
        "respond_hours",
        "close_hours",
    }:
        raise ValueError(
            f"{where} must give department, respond_hours and close_hours, got {value!r}"
        )
    department = str(value["department"])
    if department not in departments:
        raise ValueError(
            f"{where}: department={department!r} is not one of: {', '.join(departments)}"
        )
    hours = []
    for name in ("respond_hours", "close_hours"):
        h = value[name]
        if isinstance(h, bool) or not isinstance(h, int | float) or not 0 < h <= 24 * 365:
            raise ValueError(f"{where}: {name}={h!r} must be a number of hours above 0")
        hours.append(float(h))
    if hours[0] > hours[1]:
        raise ValueError(f"{where}: respond_hours={hours[0]} exceeds close_hours={hours[1]}")
    return WorkOrderRule(department, hours[0], hours[1])


def work_order_rules(mapping, departments: tuple[str, ...]) -> WorkOrderRules:
    """Rules from their configuration; a one-line error naming the rule and value at fault."""
    if not isinstance(mapping, Mapping) or "default" not in mapping:
        raise ValueError(f"work-order rules need a default rule, got {mapping!r}")
    by_key = {
        str(key): _rule(f"rules.{key}", value, departments)
        for key, value in (mapping.get("rules") or {}).items()
    }
    return WorkOrderRules(_rule("default", mapping["default"], departments), by_key)


def overdue(due_at: datetime, state: str, now: datetime) -> bool:
    """Whether a case is past its closing limit and not closed."""
    return state != "closed" and now >= due_at
