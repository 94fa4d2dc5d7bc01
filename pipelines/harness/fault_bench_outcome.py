"""What a disturbed run of ``zongzhi bench faults`` holds against the undisturbed run.

Pure functions over what the runs left behind: the record balance of the
normalization (every record produced is normalized or dead-lettered, exactly
once) and the alerts, compared as multisets so that a duplicate counts as
extra and a gap as missing.

An alert update is identified by ``(alert_id, status, updated_window_end)``;
a cluster raised twice is an ``alert_id`` with more than one ``new`` update.

Examples
--------
>>> balance(produced=10, normalized=7, dead_lettered=3)
{'produced': 10, 'normalized': 7, 'dead_lettered': 3, 'balanced': True}
>>> a = {"alert_id": "a", "status": "new", "updated_window_end": "t1"}
>>> b = {"alert_id": "a", "status": "ended", "updated_window_end": "t2"}
>>> compare_alert_updates([a, b], [a, a])
{'equal': False, 'undisturbed': 2, 'found': 2, 'missing': 1, 'extra': 1, 'raised_twice': 1}
>>> compare_rows([("a", 1)], [("a", 1)])
{'equal': True, 'undisturbed': 1, 'found': 1, 'missing': 0, 'extra': 0}
"""

from __future__ import annotations

from collections import Counter

__all__ = [
    "balance",
    "alert_update_keys",
    "compare_alert_updates",
    "compare_rows",
    "open_clusters",
    "fault_ok",
]


def balance(*, produced: int, normalized: int, dead_lettered: int) -> dict:
    """The normalization's record balance: produced == normalized + dead-lettered."""
    return {
        "produced": produced,
        "normalized": normalized,
        "dead_lettered": dead_lettered,
        "balanced": produced == normalized + dead_lettered,
    }


def alert_update_keys(alerts: list[dict]) -> Counter:
    """Each alert update's ``(alert_id, status, updated_window_end)``, counted."""
    return Counter((a["alert_id"], a["status"], a["updated_window_end"]) for a in alerts)


def _difference(expected: Counter, found: Counter) -> dict:
    return {
        "equal": expected == found,
        "undisturbed": sum(expected.values()),
        "found": sum(found.values()),
        "missing": sum((expected - found).values()),
        "extra": sum((found - expected).values()),
    }


def compare_alert_updates(undisturbed: list[dict], found: list[dict]) -> dict:
    """The alerts topic's updates of a disturbed run against the undisturbed run's."""
    raised = Counter(a["alert_id"] for a in found if a["status"] == "new")
    return {
        **_difference(alert_update_keys(undisturbed), alert_update_keys(found)),
        "raised_twice": sum(1 for n in raised.values() if n > 1),
    }


def compare_rows(undisturbed: list[tuple], found: list[tuple]) -> dict:
    """Rows of a disturbed run's tables against the undisturbed run's, as multisets."""
    return _difference(Counter(undisturbed), Counter(found))


def open_clusters(alerts: list[dict]) -> set[str]:
    """The alert ids raised (``new``) and not yet ``ended`` in these updates.

    >>> open_clusters([{"alert_id": "a", "status": "new"}, {"alert_id": "b", "status": "new"},
    ...                {"alert_id": "b", "status": "ended"}])
    {'a'}
    """
    raised = {a["alert_id"] for a in alerts if a["status"] == "new"}
    return raised - {a["alert_id"] for a in alerts if a["status"] == "ended"}


def fault_ok(outcome: dict) -> bool:
    """Nothing lost, nothing doubled: balanced, and equal alerts in Kafka and PostgreSQL.

    >>> fault_ok({"records": {"balanced": True}, "alerts_topic": {"equal": True,
    ...     "raised_twice": 0}, "alerts_postgres": {"equal": True}})
    True
    """
    return (
        outcome["records"]["balanced"]
        and outcome["alerts_topic"]["equal"]
        and outcome["alerts_topic"]["raised_twice"] == 0
        and outcome["alerts_postgres"]["equal"]
    )
