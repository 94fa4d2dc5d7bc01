"""Tests for pipelines.streaming.alert_store: the rows an alert update becomes."""

from __future__ import annotations

from pipelines.streaming.alert_store import ALERT_COLUMNS, alert_row
from tests.unit.pipelines.service.conftest import alert


def test_a_stored_alert_row_carries_its_scale_and_share_with_defaults_for_older_messages():
    base = alert(
        cell_id="r010c020",
        category="public_order.petty_theft",
        window_start="2026-12-06T07:30:00+08:00",
        p_value=1e-5,
        score=12.0,
        baseline_source="nightly",
        district_code="110118",
        cluster_id="zz-a1",
        duration_minutes=30,
        llr=12.0,
        p_method="gumbel",
        threshold=1e-4,
        budget_per_town_month=1.0,
        gi_star_z=3.1,
        first_window_end="2026-12-06T08:00:00+08:00",
        looks=1,
    )
    row = dict(zip(ALERT_COLUMNS, alert_row(base | {"scale": "days", "budget_share": 0.25})))
    assert (row["scale"], row["budget_share"]) == ("days", 0.25)
    older = dict(zip(ALERT_COLUMNS, alert_row(base)))
    assert (older["scale"], older["budget_share"]) == ("minutes", 1.0)
