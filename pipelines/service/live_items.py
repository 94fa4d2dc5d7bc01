"""What the live page shows of an alert: one flat item, the same from the topic and from PostgreSQL.

Hotspot alerts carry the statistics a duty officer reads (observed against
expected, the recurrence interval, the severity and the cells with theirs);
watch alerts carry the checkpoint and the vehicle's summary. Dates are ISO
strings, numbers stay numbers, and every label is Chinese.
"""

from __future__ import annotations

from datetime import datetime

from features.alert_routing import UNLOCATED_LABEL
from models.hotspot_alerts import local_iso
from pipelines.streaming.alert_store import STATUS_LABELS

__all__ = ["SCALE_LABELS", "WATCH_SEVERITY", "duration_label", "live_item", "place_of"]

#: The fields every item has, in the order the API documents them.
_HOTSPOT_FIELDS = (
    "category_label",
    "severity",
    "status",
    "status_label",
    "town_code",
    "town_name",
    "village_code",
    "village_name",
    "observed",
    "expected",
    "recurrence_interval_days",
    "scale",
    "duration_minutes",
    "cells",
    "cell_stats",
    "lon",
    "lat",
)
_WATCH_FIELDS = (
    "town_code",
    "town_name",
    "village_code",
    "village_name",
    "site_name",
    "place_name",
    "summary",
    "reason_label",
    "cell_id",
    "lon",
    "lat",
)
#: An alert whose case is open: the closed loop supervises it, it raises nothing new.
SUPERVISED_LABEL = "督办中"
#: A watch alert's severity on the page: a watched vehicle at a checkpoint.
WATCH_SEVERITY = "关注"
#: The time scale that raised a hotspot cluster (models/time_scales.py), as staff read it.
SCALE_LABELS = {"minutes": "分钟级", "hours": "小时级", "days": "日级"}


def duration_label(minutes) -> str | None:
    """A cluster's span as staff read it: minutes, hours or days.

    >>> duration_label(30), duration_label(360), duration_label(4320), duration_label(90)
    ('30分钟', '6小时', '3天', '90分钟')
    """
    if minutes is None:
        return None
    minutes = int(minutes)
    if minutes % 1440 == 0:
        return f"{minutes // 1440}天"
    if minutes % 60 == 0:
        return f"{minutes // 60}小时"
    return f"{minutes}分钟"


def place_of(alert: dict) -> tuple[str | None, str | None]:
    """``(town_code, village_code)`` of an alert, None where the place is unresolved."""
    return alert.get("town_code") or None, alert.get("village_code") or None


def _iso(value) -> str | None:
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def _when(alert: dict) -> str | None:
    if "event_time_ms" in alert and alert.get("event_time") is None:
        return local_iso(alert["event_time_ms"] // 1000)
    return _iso(
        alert.get("event_time") or alert.get("updated_window_end") or alert.get("window_end")
    )


def live_item(alert: dict, *, center_id: str, center_name: str) -> dict:
    """The live page's item of an alert (a topic message or a stored row).

    ``center_id`` and ``center_name`` are those of the center that holds it.
    Stored rows may add ``acknowledged_at``, ``acknowledged_by``,
    ``case_id``, ``case_state``, ``department``, ``supervised`` (the case
    is overdue and escalated for supervision) and ``cooled`` (after closure,
    whether the place cooled). An alert with an open case reads 督办中.

    >>> item = live_item({"alert_id": "a1", "kind": "hotspot", "category_label": "盗窃",
    ...     "severity": "橙色", "status": "new", "observed": 9, "expected": 1.5,
    ...     "town_code": "", "village_code": "", "window_end": "2026-12-06T08:00:00+08:00"},
    ...     center_id="110118", center_name="密云区综治中心")
    >>> item["title"], item["unlocated"], item["place"], item["status_label"]
    ('盗窃', True, '未定位', '新发')
    """
    watch = alert.get("kind") == "watch"
    town, village = place_of(alert)
    fields = _WATCH_FIELDS if watch else _HOTSPOT_FIELDS
    item = {name: _iso(alert.get(name)) for name in fields}
    item |= {
        "alert_id": alert["alert_id"],
        "kind": "watch" if watch else "hotspot",
        "title": f"布控车辆经过{alert.get('site_name') or '卡口'}"
        if watch
        else alert.get("category_label") or alert.get("category", ""),
        "severity": WATCH_SEVERITY if watch else alert.get("severity"),
        "status_label": SUPERVISED_LABEL
        if alert.get("case_state") not in (None, "closed")
        else alert.get("status_label") or STATUS_LABELS.get(alert.get("status"), ""),
        "when": _when(alert),
        "scale_label": None
        if watch
        else SCALE_LABELS.get(alert.get("scale") or "minutes", alert.get("scale")),
        "duration_label": None if watch else duration_label(alert.get("duration_minutes")),
        "unlocated": town is None,
        "place": " ".join(n for n in (alert.get("town_name"), alert.get("village_name")) if n)
        if town
        else UNLOCATED_LABEL,
        "center_id": center_id,
        "center_name": center_name,
        "acknowledged_at": _iso(alert.get("acknowledged_at")),
        "acknowledged_by": alert.get("acknowledged_by"),
        "case_id": alert.get("case_id"),
        "case_state": alert.get("case_state"),
        "department": alert.get("department"),
        "supervised": bool(alert.get("supervised")),
        "cooled": alert.get("cooled"),
    }
    return item
