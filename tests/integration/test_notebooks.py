"""The planners' notebooks run headless on simulated months, and say what the lake says.

Two months of simulated district history go through the real contract into
a lake of the test's own (pipelines/harness/lake_backfill.py). The monthly
report is written for the district and for one town, as HTML and PDF, and
its headline numbers are checked against DuckDB SQL over the same lake
files, written here independently of the report's code. An empty month and
a missing serving table give 暂无数据, not a traceback; a bad --month is one
line and exit 2. The trend notebook runs on the same lake.
"""

from __future__ import annotations

import json
import subprocess
from datetime import datetime

import duckdb
import pytest
import yaml

from features.local_time import DISTRICT_TZ
from pipelines.harness.lake_backfill import backfill_lake
from pipelines.harness.notebooks import monthly_report, run_notebook

pytestmark = pytest.mark.integration

TOWN = "110118001"
PLATE_READ = "video.plate_read"


@pytest.fixture(scope="module")
def lake(settings, tmp_path_factory):
    table = tmp_path_factory.mktemp("report-lake") / "events"
    written = backfill_lake(
        settings, table, datetime(2026, 10, 1, tzinfo=DISTRICT_TZ), 61, rate=12.0, seed=5
    )
    assert written["days"][0] == "2026-10-01" and written["days"][-1] >= "2026-11-30"
    return table


def _sql_count(table, first: str, last: str, town: str | None = None) -> int:
    """Distinct incidents (plate reads aside) with event_date in [first, last], straight from the files."""
    where = f"AND town_code = '{town}'" if town else ""
    with duckdb.connect() as db:
        return db.execute(
            f"SELECT count(DISTINCT event_id) FROM read_parquet('{table}/*/*.parquet')"
            f" WHERE category <> '{PLATE_READ}' AND event_date BETWEEN '{first}' AND '{last}'"
            f" {where}"
        ).fetchone()[0]


def _sql_by_source(table, first: str, last: str) -> dict[str, int]:
    with duckdb.connect() as db:
        rows = db.execute(
            f"SELECT source, count(DISTINCT event_id) FROM read_parquet('{table}/*/*.parquet')"
            f" WHERE category <> '{PLATE_READ}' AND event_date BETWEEN '{first}' AND '{last}'"
            " GROUP BY source"
        ).fetchall()
    return dict(rows)


def _shows_an_error(html: str) -> bool:
    """Whether an exported notebook shows an error or a warning output."""
    return (
        "Traceback (most recent call last)" in html
        or 'data-mime-type="application/vnd.jupyter.stderr"' in html
        or 'class="ansi-red-fg"' in html
    )


def test_district_report_states_the_lakes_counts(settings, lake, tmp_path):
    report = monthly_report(settings, "2026-11", None, tmp_path, lake=lake)
    headline = report["headline"]
    assert headline["events"] == _sql_count(lake, "2026-11-01", "2026-11-30") > 1000
    assert headline["previous_events"] == _sql_count(lake, "2026-10-01", "2026-10-31") > 1000
    assert headline["year_ago_events"] == 0
    labels = {"grid": "网格上报", "hotline": "便民热线", "video": "雪亮视频"}
    expected = {labels[s]: n for s, n in _sql_by_source(lake, "2026-11-01", "2026-11-30").items()}
    assert headline["by_source"] == expected
    assert headline["days_covered"] == 30 and headline["previous_days_covered"] == 31
    assert f"共受理各类事件{headline['events']:,}件" in report["narrative"]
    html = open(report["html"], encoding="utf-8").read()
    assert "研判综述" in html and "核心指标" in html and "<img" in html
    assert not _shows_an_error(html)
    assert "def table_or_none" not in html  # exported without the code
    with open(report["pdf"], "rb") as pdf:
        assert pdf.read(5) == b"%PDF-"


def test_town_report_counts_only_its_town(settings, lake, tmp_path):
    report = monthly_report(settings, "2026-11", TOWN, tmp_path, lake=lake)
    own = _sql_count(lake, "2026-11-01", "2026-11-30", TOWN)
    assert report["headline"]["events"] == own
    assert 0 < own < _sql_count(lake, "2026-11-01", "2026-11-30")
    assert report["narrative"].startswith("鼓楼街道2026-11")
    assert report["seconds"] < 120


def test_empty_month_and_missing_serving_table_say_no_data(settings, lake, tmp_path, monkeypatch):
    # A configuration whose serving schema does not exist: serving.case_rates is missing.
    raw = yaml.safe_load((settings.root / "infra" / "config" / "zongzhi.yaml").read_text())
    raw["postgres"]["schema"] = "zz_no_such_schema"
    config = tmp_path / "zongzhi.yaml"
    config.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    monkeypatch.setenv("ZONGZHI_CONFIG", str(config))
    report = monthly_report(settings, "2025-01", None, tmp_path / "empty", lake=lake)
    assert report["headline"]["events"] == 0
    assert "暂无数据" in report["narrative"]
    html = open(report["html"], encoding="utf-8").read()
    assert html.count("暂无数据") >= 3
    assert not _shows_an_error(html)


def test_bad_month_is_one_line_and_exit_2(settings, tmp_path):
    proc = subprocess.run(
        [
            str(settings.root / ".venv" / "bin" / "zongzhi"),
            "report",
            "--month",
            "2026-13",
            "--out",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert lines == [
        "zongzhi: --month '2026-13' is not a month; expected YYYY-MM, for example 2026-11"
    ]


def test_trend_notebook_decomposes_and_forecasts(settings, lake, tmp_path):
    result = run_notebook(
        settings,
        "trend_analysis",
        tmp_path,
        {"end": "2026-12-01", "days": 56, "lake": str(lake), "series_count": 3},
        "trend_analysis",
    )
    trends = json.loads(open(result["summary"], encoding="utf-8").read())
    assert trends["start"] == "2026-10-06" and trends["end"] == "2026-12-01"
    assert len(trends["series"]) == 3
    for series in trends["series"]:
        assert series["events"] > 0
        assert 0 <= series["forecast_lower"] <= series["forecast_mean"] <= series["forecast_upper"]
    html = open(result["html"], encoding="utf-8").read()
    assert "未来两周预测" in html or "<img" in html
    assert not _shows_an_error(html)
