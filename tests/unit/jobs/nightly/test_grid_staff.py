"""Tests for jobs.nightly.grid_staff: what counts as verified on handling and as rewarded."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pandas as pd

from jobs.nightly.grid_staff import grid_staff_monthly

CST = timezone(timedelta(hours=8))
T = datetime(2026, 11, 30, 23, 30, tzinfo=CST)  # the last half hour of November, locally


def _ms(when: datetime) -> int:
    return int(when.timestamp() * 1000)


def _report(
    event_id, reporter, *, cell="r001c001", category="public_order.fight", at=T, delay_min=10
):
    return {
        "event_id": event_id,
        "reporter_id": reporter,
        "category": category,
        "cell_id": cell,
        "event_time_ms": _ms(at),
        "report_time_ms": _ms(at + timedelta(minutes=delay_min)),
    }


VERIFIED = pd.DataFrame(
    {
        "category": ["public_order.fight"],
        "cells": [["r001c001", "r001c002"]],
        "window_start_ms": [_ms(T - timedelta(hours=1))],
        "window_end_ms": [_ms(T + timedelta(hours=1))],
    }
)


def test_only_reports_inside_a_verified_alert_count_as_verified():
    reports = pd.DataFrame(
        [
            _report("in", "G1"),
            _report("other-cell", "G1", cell="r009c009"),
            _report("other-category", "G1", category="environment.burning"),
            _report("before", "G1", at=T - timedelta(hours=2)),
            _report("second-cell", "G2", cell="r001c002"),
        ]
    )
    out = grid_staff_monthly(reports, VERIFIED, max_delay_minutes=60).set_index("reporter_id")
    assert out.loc["G1", ["reports", "verified", "share_verified"]].tolist() == [4, 1, 0.25]
    assert out.loc["G2", "verified"] == 1


def test_the_reward_needs_a_verified_report_filed_in_time():
    reports = pd.DataFrame(
        [
            _report("quick", "G1", delay_min=60),
            _report("slow", "G1", delay_min=61),
            _report("quick-unverified", "G1", cell="r009c009", delay_min=1),
        ]
    )
    [row] = grid_staff_monthly(reports, VERIFIED, max_delay_minutes=60).to_dict("records")
    assert (row["reports"], row["verified"], row["reward_qualifying"]) == (3, 2, 1)


def test_months_are_the_districts_and_no_alert_verifies_nothing():
    reports = pd.DataFrame(
        [_report("nov", "G1"), _report("dec", "G1", at=T + timedelta(minutes=31))]
    )
    out = grid_staff_monthly(reports, VERIFIED.iloc[0:0], max_delay_minutes=60)
    assert out["month"].tolist() == [date(2026, 11, 1), date(2026, 12, 1)]
    assert out["verified"].tolist() == [0, 0]
    assert grid_staff_monthly(reports.iloc[0:0], VERIFIED, max_delay_minutes=60).empty
