"""Alert messages as the detector writes them to the alerts topic: what the alert bench and tests produce."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pandas as pd

from features.jurisdiction_policy import Center

__all__ = ["hotspot_alert", "watch_proposals"]


def hotspot_alert(
    town: Center | None,
    village: Center | None,
    *,
    severity: str = "黄色",
    status: str = "new",
    tag: str | None = None,
) -> dict:
    """One hotspot cluster's alert update in the centers' places (None: unresolved), as the detector writes it.

    Its id is ``zzs-<tag>`` (a random tag by default).
    """
    tag = tag or uuid.uuid4().hex[:10]
    end = datetime.now(UTC).replace(microsecond=0)
    return {
        "kind": "hotspot",
        "alert_id": f"zzs-{tag}",
        "cluster_id": f"zzs-{tag}",
        "status": status,
        "cell_id": "r010c020",
        "category": "public_order.petty_theft",
        "category_label": "盗窃",
        "window_start": (end - timedelta(minutes=30)).isoformat(),
        "window_end": end.isoformat(),
        "first_window_end": end.isoformat(),
        "updated_window_end": end.isoformat(),
        "observed": 9,
        "expected": 1.5,
        "p_value": 0.001,
        "score": 3.0,
        "severity": severity,
        "baseline_source": "cell",
        "district_code": "110118",
        "town_code": town.id if town else "",
        "town_name": town.name.removesuffix("综治中心") if town else "",
        "village_code": village.id if village else "",
        "village_name": village.name.removesuffix("综治工作站") if village else "",
        "lon": 116.84,
        "lat": 40.37,
        "emitted_at_ms": int(end.timestamp() * 1000),
        "cells": ["r010c020", "r010c021"],
        "cell_stats": [
            {"cell_id": "r010c020", "observed": 6, "expected": 0.9},
            {"cell_id": "r010c021", "observed": 3, "expected": 0.6},
        ],
        "duration_minutes": 30,
        "llr": 7.5,
        "p_method": "monte_carlo",
        "recurrence_interval_days": 55.0,
        "threshold": 0.01,
        "budget_per_town_month": 1.0,
        "gi_star_z": 3.1,
        "looks": 1,
        "scale": "minutes",
        "budget_share": 0.5,
    }


def watch_proposals(tag: str, count: int = 2) -> pd.DataFrame:
    """Watch-list proposals as the nightly graph writes them, of vehicles no plate read matches.

    Vehicle ``i`` is ``vehicle:zzt-<tag>-<i>``, tied to ``i + 2`` persons by ``i + 3`` incidents.
    """
    return pd.DataFrame(
        [
            {
                "vehicle_node": f"vehicle:zzt-{tag}-{i}",
                "reason": "key_person_vehicle",
                "reason_label": "重点人员关联车辆",
                "detail": f"与 {i + 2} 名重点人员共同涉事 {i + 3} 次",
                "persons": [f"person:zzt-{tag}-{i}-{j}" for j in range(i + 2)],
                "shared_incidents": i + 3,
                "via_vehicle": None,
                "plate_hashes": [f"zzt-plate-{tag}-{i}"],
                "plate_fold_hash": f"zzt-fold-{tag}-{i}",
                "as_of": "2000-01-01",
                "covered_until_ms": 946_684_800_000,
            }
            for i in range(count)
        ]
    )
