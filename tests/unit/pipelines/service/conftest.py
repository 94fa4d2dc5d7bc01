"""A small jurisdiction policy for the alert service's unit tests: two towns, two villages each."""

from __future__ import annotations

import pytest

from features.alert_routing import routing_rules
from features.jurisdiction_policy import Center, JurisdictionPolicy

DISTRICT = "110118"
TOWNS = ("110118001", "110118002")


def _center(code, level, parent, towns=(), villages=()):
    suffix = "综治工作站" if level == "village" else "综治中心"
    return Center(
        code,
        f"{code}{suffix}",
        level,
        parent,
        level == "district",
        frozenset(towns),
        frozenset(villages),
    )


@pytest.fixture(scope="session")
def policy():
    centers = {DISTRICT: _center(DISTRICT, "district", None)}
    for town in TOWNS:
        centers[town] = _center(town, "town", DISTRICT, towns=[town])
        for n in (1, 2):
            village = f"{town}00{n}"
            centers[village] = _center(village, "village", town, villages=[village])
    return JurisdictionPolicy(DISTRICT, centers)


@pytest.fixture(scope="session")
def rules():
    return routing_rules(
        {
            "黄色": {"levels_up": 0, "ack_minutes": 60},
            "橙色": {"levels_up": 1, "ack_minutes": 30},
            "关注": {"levels_up": 2, "ack_minutes": 15},
        }
    )


def alert(town="110118001", village="110118001001", **fields) -> dict:
    """A hotspot alert from the topic, with the fields the service reads."""
    return {
        "alert_id": "zz-a1",
        "kind": "hotspot",
        "category": "public_order.petty_theft",
        "category_label": "盗窃",
        "severity": "橙色",
        "status": "new",
        "town_code": town,
        "town_name": "鼓楼街道" if town else "",
        "village_code": village,
        "village_name": "阳光社区" if village else "",
        "observed": 9,
        "expected": 1.5,
        "recurrence_interval_days": 55.0,
        "window_end": "2026-12-06T08:00:00+08:00",
        "updated_window_end": "2026-12-06T08:05:00+08:00",
        "cells": ["r010c020"],
        "cell_stats": [{"cell_id": "r010c020", "observed": 9, "expected": 1.5}],
        "lon": 116.84,
        "lat": 40.37,
        "emitted_at_ms": 1_765_000_000_000,
    } | fields
