"""`zongzhi bench dashboards --smoke`: the bench runs end to end and reports its figures.

A smoke-sized run (three days of the district): the nightly job over the
bench's own lake, the overview timed in headless Chromium cold and warm, and
a town's monthly report. The full-size goals are checked by running the
bench itself (README), not here.
"""

from __future__ import annotations

import pytest

from pipelines.harness.steps import run_step

pytestmark = pytest.mark.integration


def test_smoke_run_reports_every_figure_beside_its_goal(settings):
    report = run_step(
        settings, "bench", "dashboards", "--smoke", "--month", "2026-10", timeout=1800
    )
    assert report["days"] == 3 and report["events"] > 10_000
    assert report["overview_charts"] == 8
    assert 0 < report["overview_warm_s"] and 0 < report["overview_cold_s"]
    assert len(report["overview_warm_runs_s"]) == 2  # the smoke run's warm loads
    assert report["report"]["month"] == "2026-10" and report["report"]["events"] > 0
    assert (
        set(report["met"])
        == set(report["goals"])
        == {
            "overview_warm_s",
            "overview_cold_s",
            "report_town_s",
        }
    )
