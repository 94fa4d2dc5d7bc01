"""What a replay found: its clusters and hot cells, in the file's own time zone.

The detector writes Beijing time; a replay reports in the zone the file's
times were read in. A cluster is an ``alert_id``; its strongest non-ended
update stands for it, and a cell's entry is its best ``q_value`` over them.
"""

from __future__ import annotations

from datetime import datetime

__all__ = ["summarize_alerts"]


def _in_zone(alert: dict, zone) -> dict:
    """The alert with its times in the file's time zone (the detector writes Beijing time)."""
    out = dict(alert)
    for key in ("window_start", "window_end", "first_window_end", "updated_window_end"):
        if out.get(key):
            out[key] = datetime.fromisoformat(out[key]).astimezone(zone).isoformat()
    return out


def summarize_alerts(alerts: list[dict], top: int, zone) -> dict:
    """The clusters, the ``top`` strongest and the ``top`` hottest cells, in ``zone``'s times."""
    alerts = [_in_zone(a, zone) for a in alerts]
    clusters: dict = {}
    for alert in alerts:
        best = clusters.get(alert["alert_id"])
        if alert["status"] != "ended" and (best is None or alert["llr"] > best["llr"]):
            clusters[alert["alert_id"]] = alert
    ranked = sorted(clusters.values(), key=lambda a: (a["p_value"], -a["llr"]))
    hot: dict = {}
    for alert in ranked:
        for stat in alert["cell_stats"]:
            key = (stat["cell_id"], alert["category"])
            if key not in hot or stat["q_value"] < hot[key]["q_value"]:
                hot[key] = {
                    "category": alert["category"],
                    **stat,
                    "window_end": alert["window_end"],
                }
    fields = (
        "alert_id",
        "scale",
        "category",
        "cells",
        "first_window_end",
        "window_start",
        "window_end",
        "duration_minutes",
        "observed",
        "expected",
        "llr",
        "p_value",
        "threshold",
        "p_method",
        "recurrence_interval_days",
        "severity",
        "looks",
        "lon",
        "lat",
        "gi_star_z",
    )
    return {
        "clusters": len(clusters),
        "clusters_by_scale": {
            scale: sum(1 for a in clusters.values() if a.get("scale", "minutes") == scale)
            for scale in sorted({a.get("scale", "minutes") for a in clusters.values()})
        },
        "top_clusters": [{k: a.get(k) for k in fields} for a in ranked[:top]],
        "hot_cells": sorted(hot.values(), key=lambda s: (s["q_value"], s["p_value"]))[:top],
    }
