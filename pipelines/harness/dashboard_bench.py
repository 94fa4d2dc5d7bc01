"""``zongzhi bench dashboards``: the overview in a browser, cold and warm, and a town's monthly report.

1. **A month of the district** (default: last calendar month) at its usual
   rate (``simulator.events_per_hour``, Miyun-sized) written into a lake of
   the bench's own through the real contract
   (:func:`pipelines.harness.lake_backfill.backfill_lake`).
2. **The nightly job** over it (``zongzhi nightly`` with ``ZONGZHI_LAKE``):
   the serving tables the overview reads are rewritten from that month
   (what a demo left there is replaced: run the demo again afterwards).
3. **The overview in headless Chromium** as the district's analyst, timed
   from navigation until every chart is drawn: *cold* with Superset's query
   cache emptied and a fresh browser context, then *warm* after the
   post-nightly warm-up, in a new page (median of ``repeats``).
4. **The monthly report** of one town for the bench's month, timed from
   the command's start to the PDF.

The goals are the issue's; each measured figure sits beside its goal.
"""

from __future__ import annotations

import json
import logging
import shutil
import statistics
import time
from datetime import datetime

from features.local_time import DISTRICT_TZ
from models.monthly_report import parse_month
from pipelines.errors import ServiceError
from pipelines.harness.lake_backfill import backfill_lake
from pipelines.harness.notebooks import CHROMIUM, monthly_report
from pipelines.harness.steps import run_step
from pipelines.harness.superset_api import SupersetClient
from pipelines.harness.superset_cache import empty_query_cache, warm_dashboard
from pipelines.harness.superset_provision import ANALYSTS_FILE
from pipelines.settings import Settings

__all__ = ["GOALS", "WARM_LOADS", "run_bench"]

log = logging.getLogger(__name__)

#: Warm loads of the overview whose median is reported.
WARM_LOADS = 9
#: The issue's goals, in seconds.
GOALS = {"overview_warm_s": 3.0, "overview_cold_s": 10.0, "report_town_s": 60.0}
OVERVIEW = "zongzhi-overview"
DISTRICT_ANALYST = "analyst-{district}"
_DRAWN = """
() => {
  const holders = Array.from(document.querySelectorAll('.dashboard-component-chart-holder'))
    .filter(h => h.querySelector('[data-test-chart-id]'));
  return holders.length > 0 && holders.every(h =>
    !h.querySelector('.loading, [data-test="loading-indicator"], .ant-spin-spinning') &&
    !!h.querySelector('canvas, svg, table tbody tr, .header-line, .ant-empty, .alert-danger'));
}
"""


def _render_seconds(context, settings: Settings, charts: int) -> float:
    """Seconds from navigation to the overview with every chart drawn, in a fresh page."""
    page = context.new_page()
    try:
        started = time.monotonic()
        page.goto(f"{settings.superset_url}/superset/dashboard/{OVERVIEW}/")
        page.wait_for_function(_DRAWN, timeout=120_000, polling=100)
        elapsed = time.monotonic() - started
        shown = page.evaluate(
            "document.querySelectorAll('.dashboard-component-chart-holder [data-test-chart-id]').length"
        )
        if shown != charts:
            raise ServiceError(f"the overview showed {shown} charts, expected {charts}")
        return elapsed
    finally:
        page.close()


def run_bench(
    settings: Settings, *, month: str, days: int | None, town: str, repeats: int = WARM_LOADS
) -> dict:
    """Write the month (its first ``days`` days), run the nightly, time the overview and a report."""
    from playwright.sync_api import sync_playwright

    lake = settings.var / "bench" / "dashboard_lake"
    shutil.rmtree(lake, ignore_errors=True)
    table = lake / settings.section("lake")["normalized_table"]
    span = parse_month(month)
    days = days or span.days
    start = datetime(span.start.year, span.start.month, span.start.day, tzinfo=DISTRICT_TZ)
    rate = float(settings.simulator["events_per_hour"])
    log.info("bench dashboards 1/4: %d days of the district at %.0f events an hour", days, rate)
    written = backfill_lake(settings, table, start, days, rate=rate, seed=23)
    log.info("bench dashboards 2/4: the nightly job over them")
    t0 = time.monotonic()
    night = run_step(settings, "nightly", timeout=3600, env={"ZONGZHI_LAKE": str(lake)})
    nightly_s = time.monotonic() - t0

    log.info("bench dashboards 3/4: the overview in headless Chromium, cold and warm")
    district = settings.section("district")["code"]
    username = DISTRICT_ANALYST.format(district=district)
    password = json.loads((settings.var / "secrets" / ANALYSTS_FILE).read_text())[username]
    analyst = SupersetClient(settings.superset_url, username, password)
    charts = len(analyst.dashboard_charts(OVERVIEW))
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True)
        try:
            empty_query_cache(settings)
            context = browser.new_context(locale="zh-CN", viewport={"width": 1600, "height": 1200})
            login = context.new_page()
            login.goto(f"{settings.superset_url}/login/")
            login.fill("#username", username)
            login.fill("#password", password)
            login.press("#password", "Enter")
            login.wait_for_url(lambda url: "/login" not in url, timeout=60_000)
            login.close()
            cold = _render_seconds(context, settings, charts)
            warm_dashboard(analyst, OVERVIEW)
            warm = [_render_seconds(context, settings, charts) for _ in range(repeats)]
            context.close()
        finally:
            browser.close()

    log.info("bench dashboards 4/4: the monthly report of town %s", town)
    t0 = time.monotonic()
    report = monthly_report(
        settings, span.month, town, settings.var / "bench" / "reports", lake=table
    )
    report_s = time.monotonic() - t0

    measured = {
        "overview_cold_s": round(cold, 2),
        "overview_warm_s": round(statistics.median(warm), 2),
        "report_town_s": round(report_s, 2),
    }
    return {
        "days": days,
        "events": written["events"],
        "events_per_hour": rate,
        "backfill_s": written["seconds"],
        "nightly_s": round(nightly_s, 2),
        "daily_count_rows": night["daily_count_rows"],
        "overview_charts": charts,
        "overview_warm_runs_s": [round(w, 2) for w in warm],
        **measured,
        "report": {
            "month": span.month,
            "town": town,
            "events": report["headline"]["events"],
            "pdf": report["pdf"],
        },
        "goals": dict(GOALS),
        "met": {name: measured[name] <= goal for name, goal in GOALS.items()},
    }
