"""Who is told of an alert, and when an unacknowledged alert escalates.

An alert goes to the center of its place (:meth:`JurisdictionPolicy.home_center`:
the village station, else the town's center, else the district's, which
also receives every alert whose place could not be resolved, marked 未定位).
Its severity decides how many levels above the home center are told as
well. An alert nobody at its current center acknowledges within its
severity's time limit escalates one level up, with a record of why; at the
district it stays.

Everything here is a pure function of the alert, the policy, the rules and
the clock (``now_ms``), so that the alert service's escalation is tested
with an injected clock, never with sleeps.

Examples
--------
>>> rules = routing_rules({"red": {"levels_up": 2, "ack_minutes": 15}})
>>> rules.ack_ms("red")
900000
>>> escalation_due(rules, "red", assigned_at_ms=0, acknowledged=False, now_ms=900_000)
True
>>> escalation_due(rules, "red", assigned_at_ms=0, acknowledged=True, now_ms=10**9)
False
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from features.jurisdiction_policy import JurisdictionPolicy

__all__ = [
    "UNLOCATED_LABEL",
    "Escalation",
    "RoutingRules",
    "escalate",
    "escalation_due",
    "recipients",
    "routing_rules",
]

#: How an alert without a resolved place is marked for duty staff.
UNLOCATED_LABEL = "未定位"


@dataclass(frozen=True)
class RoutingRules:
    """Per severity: how many levels above the home center are told, and the time to acknowledge."""

    levels_up: Mapping[str, int]
    ack_minutes: Mapping[str, int]

    def ack_ms(self, severity: str) -> int:
        """The time an alert of ``severity`` may wait for acknowledgement, in milliseconds."""
        return self.ack_minutes[_known(self, severity)] * 60_000


def routing_rules(mapping) -> RoutingRules:
    """Rules from their configuration: ``{severity: {levels_up: n, ack_minutes: m}}``.

    Raises
    ------
    ValueError
        Naming the severity and the value at fault.
    """
    if not isinstance(mapping, Mapping) or not mapping:
        raise ValueError(f"routing rules must be a non-empty mapping by severity, got {mapping!r}")
    levels_up, ack_minutes = {}, {}
    for severity, rule in mapping.items():
        if not isinstance(rule, Mapping) or set(rule) != {"levels_up", "ack_minutes"}:
            raise ValueError(
                f"routing rule of {severity!r} must give levels_up and ack_minutes, got {rule!r}"
            )
        for name, value, low in (
            ("levels_up", rule["levels_up"], 0),
            ("ack_minutes", rule["ack_minutes"], 1),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ValueError(
                    f"{name}={value!r} for {severity!r} must be a whole number of at least {low}"
                )
        levels_up[str(severity)] = rule["levels_up"]
        ack_minutes[str(severity)] = rule["ack_minutes"]
    return RoutingRules(MappingProxyType(levels_up), MappingProxyType(ack_minutes))


def _known(rules: RoutingRules, severity: str) -> str:
    if severity not in rules.levels_up:
        raise ValueError(
            f"severity={severity!r} has no routing rule; known: {', '.join(rules.levels_up)}"
        )
    return severity


def recipients(
    policy: JurisdictionPolicy,
    rules: RoutingRules,
    town_code: str | None,
    village_code: str | None,
    severity: str,
) -> tuple[str, ...]:
    """The centers told of an alert: its home center first, then as many levels up as its severity says.

    >>> from features.jurisdiction_policy import Center, JurisdictionPolicy
    >>> def center(i, level, parent, towns=(), villages=()):
    ...     return Center(i, i, level, parent, level == "district", frozenset(towns),
    ...                   frozenset(villages))
    >>> policy = JurisdictionPolicy("110118", {
    ...     "110118": center("110118", "district", None),
    ...     "110118001": center("110118001", "town", "110118", towns=["110118001"]),
    ...     "110118001001": center("110118001001", "village", "110118001",
    ...                            villages=["110118001001"])})
    >>> rules = routing_rules({"yellow": {"levels_up": 0, "ack_minutes": 60},
    ...                        "red": {"levels_up": 2, "ack_minutes": 15}})
    >>> recipients(policy, rules, "110118001", "110118001001", "yellow")
    ('110118001001',)
    >>> recipients(policy, rules, "110118001", "110118001001", "red")
    ('110118001001', '110118001', '110118')
    >>> recipients(policy, rules, None, None, "yellow")
    ('110118',)
    """
    chain = policy.escalation_chain(policy.home_center(town_code, village_code))
    return chain[: 1 + rules.levels_up[_known(rules, severity)]]


def escalation_due(
    rules: RoutingRules, severity: str, *, assigned_at_ms: int, acknowledged: bool, now_ms: int
) -> bool:
    """Whether an alert assigned to a center at ``assigned_at_ms`` must now go one level up."""
    return not acknowledged and now_ms - assigned_at_ms >= rules.ack_ms(severity)


@dataclass(frozen=True)
class Escalation:
    """An alert moved one level up because nobody acknowledged it in time."""

    from_center: str
    to_center: str
    at_ms: int
    reason: str


def escalate(
    policy: JurisdictionPolicy,
    rules: RoutingRules,
    center_id: str,
    severity: str,
    *,
    assigned_at_ms: int,
    now_ms: int,
) -> Escalation | None:
    """The escalation of an unacknowledged alert at ``center_id``, or None at the district.

    The reason, for duty staff, names the severity, the time limit and the
    two centers.
    """
    center = policy.center(center_id)
    if center.parent is None:
        return None
    minutes = rules.ack_minutes[_known(rules, severity)]
    waited = (now_ms - assigned_at_ms) // 60_000
    reason = (
        f"{severity}预警在{center.name}{minutes}分钟内未签收"
        f"（已等待{waited}分钟），升级至{policy.center(center.parent).name}"
    )
    return Escalation(center_id, center.parent, now_ms, reason)
