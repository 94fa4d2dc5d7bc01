"""Open Superset dashboards in headless Debian Chromium and read what each chart shows.

A chart counts as rendered when its container holds a drawing (an ECharts
canvas or SVG, a table with rows, a big number) and no error or 暂无数据
placeholder; what each chart shows is returned with its text, so tests can
assert on values. Screenshots go to ``var/test-artifacts``.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

CHROMIUM = os.environ.get("ZONGZHI_CHROMIUM", "/usr/bin/chromium")
#: How long a dashboard may take to show all of its charts.
RENDER_TIMEOUT_S = 90

# Per chart holder (markdown holders aside): its name, whether it shows an error, whether it is still
# loading, whether it drew something, and its visible text.
_READ_CHARTS = """
() => Array.from(document.querySelectorAll('.dashboard-component-chart-holder'))
  .filter(h => h.querySelector('[data-test-chart-id]')).map(h => {
  const title = h.querySelector('.header-title, [data-test="editable-title"]');
  const body = h.querySelector('.slice_container, .chart-container') || h;
  const text = body.innerText || '';
  return {
    name: title ? title.innerText.trim() : '',
    error: !!h.querySelector('.alert-danger, .ant-alert-error, [data-test="chart-error"],'
                            + ' .error-message, [role="alert"]'),
    loading: !!h.querySelector('.loading, [data-test="loading-indicator"], .ant-spin-spinning'),
    empty: !!h.querySelector('.ant-empty, [data-test="no-results"], .empty-state')
           || ['No results', '暂无数据', '没有数据'].some(t => text.includes(t)),
    drawn: !!body.querySelector('canvas, svg, table tbody tr, .header-line, .big-number'),
    text: text.trim(),
  };
})
"""


@dataclass(frozen=True)
class ChartView:
    name: str
    error: bool
    loading: bool
    empty: bool
    drawn: bool
    text: str

    @property
    def ok(self) -> bool:
        return self.drawn and not (self.error or self.loading or self.empty)


def log_in(page, base_url: str, username: str, password: str) -> None:
    """Log in through Superset's login form; fails the test when it is refused."""
    page.goto(f"{base_url}/login/")
    page.fill("#username", username)
    page.fill("#password", password)
    page.press("#password", "Enter")
    page.wait_for_url(lambda url: "/login" not in url, timeout=30_000)


def open_dashboard(page, base_url: str, slug: str, expected_charts: int) -> list[ChartView]:
    """Open a dashboard and wait until its charts are done loading; what each shows."""
    page.goto(f"{base_url}/superset/dashboard/{slug}/")
    page.wait_for_selector(".dashboard-component-chart-holder", timeout=RENDER_TIMEOUT_S * 1000)
    deadline = time.monotonic() + RENDER_TIMEOUT_S
    while True:
        views = [ChartView(**v) for v in page.evaluate(_READ_CHARTS)]
        settled = len(views) >= expected_charts and all(
            not v.loading and (v.drawn or v.error or v.empty) for v in views
        )
        if settled or time.monotonic() > deadline:
            return views
        page.wait_for_timeout(500)


def screenshot(page, name: str, root: Path) -> Path:
    """A full-page screenshot kept as a test artifact."""
    folder = root / "var" / "test-artifacts"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
