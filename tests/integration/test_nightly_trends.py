"""The nightly job on a synthetic two-week lake: trend classes and the baselines contract.

Fourteen days (two whole weeks) of background incidents spread over the
district, plus planted cells: one whose daily count rises, one whose count
falls, one that stays steady, and one that only sees plate reads (an
excluded category). The real Spark job runs on it; the trend classes are
read back from PostgreSQL and the baseline files from the lake, and
checked against counts taken from what was written.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from collections import Counter, defaultdict

import numpy as np
import pandas as pd
import psycopg2
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from features import baseline_schema as contract
from features.taxonomy import source_of
from jobs.nightly.cell_universe import cell_places
from pipelines.harness.steps import run_step
from pipelines.io.hotline_messages import read_replied
from pipelines.io.platform_state import load_district

from .nightly_lake import DAYS, FIRST_DAY, interior_cells, write_lake

pytestmark = pytest.mark.integration

PLANTED = ("intensifying", "diminishing", "persistent")


@pytest.fixture(scope="module")
def nightly(settings):
    district = load_district(settings)
    places = cell_places(district)
    cells = interior_cells(district, places, 4, seed=1)
    planted = dict(zip(PLANTED, cells[:3]))
    plate_cell = cells[3]
    shutil.rmtree(settings.lake, ignore_errors=True)
    # Hotline events speak in the words of real answered 12345 messages.
    replied = read_replied(
        (settings.root / settings.section("hotline_routing")["reference_data"]).resolve()
    )
    texts = [f"{t}。{b[:150]}" for t, b in zip(replied["title"], replied["body"], strict=True)]
    written = write_lake(
        settings.lake_table("normalized"), places, planted, plate_cell, hotline_texts=texts
    )
    report = run_step(settings, "nightly")
    return {
        "report": report,
        "written": written,
        "planted": planted,
        "plate_cell": plate_cell,
        "places": places,
        "folder": settings.lake_table("baselines"),
    }


def _query(settings, sql, params=()):
    with psycopg2.connect(settings.pg_dsn()) as conn, conn.cursor() as cur:
        cur.execute(sql.format(schema=settings.pg["schema"]), params)
        rows = cur.fetchall()
    conn.close()
    return rows


def test_report_counts_the_lake_and_the_trend_window(nightly):
    report = nightly["report"]
    assert report["events"] == sum(nightly["written"].values())
    assert report["days"] == DAYS
    assert report["observed_hours"] == DAYS * 24
    assert report["trend_days"] == DAYS
    assert report["trend_cells"] == len(nightly["places"])
    assert report["trends_skipped"] is None


def test_planted_cells_get_their_trend_classes_in_postgres(settings, nightly):
    rows = _query(
        settings,
        "SELECT cell_id, pattern, pattern_label, hot_days, days, mk_p, "
        "first_day::text, last_day::text, town_code FROM {schema}.cell_trends",
    )
    assert len(rows) == len(nightly["places"])
    by_cell = {r[0]: r[1:] for r in rows}
    planted = nightly["planted"]
    assert by_cell[planted["intensifying"]][:2] == ("intensifying_hot_spot", "加剧热点")
    assert by_cell[planted["diminishing"]][:2] == ("diminishing_hot_spot", "减弱热点")
    assert by_cell[planted["persistent"]][:2] == ("persistent_hot_spot", "持续热点")
    for name in PLANTED:
        pattern, _, hot_days, days, mk_p, first, last, town = by_cell[planted[name]]
        assert hot_days >= 13 and days == DAYS
        assert (first, last) == (FIRST_DAY.isoformat(), "2026-10-18")
        assert (mk_p < 0.05) == (name != "persistent")
    # Forty plate reads a day are not incidents: their cell shows no pattern.
    assert by_cell[nightly["plate_cell"]][0] == "no_pattern"
    towns = dict(zip(nightly["places"]["cell_id"], nightly["places"]["town_code"]))
    assert all(by_cell[c][-1] == towns[c] for c in planted.values())


def _read(nightly, name):
    return pq.read_table(nightly["folder"] / name)


def test_cell_baselines_follow_the_contract(settings, nightly):
    table = _read(nightly, contract.CELL_BASELINES)
    assert table.schema.equals(contract.CELL_BASELINES_SCHEMA)
    frame = table.to_pandas()
    events = Counter()
    for (cell, category, *_), n in nightly["written"].items():
        events[(cell, category)] += n
    active = {cell for cell, _ in events}
    categories = {category for _, category in events}
    # Every active cell has a row for every category seen, zeros included.
    assert len(frame) == len(active) * len(categories)
    assert set(zip(frame["cell_id"], frame["category"])) == {
        (c, k) for c in active for k in categories
    }
    got = dict(zip(zip(frame["cell_id"], frame["category"]), frame["events"]))
    assert {key: n for key, n in got.items() if n} == dict(events)
    assert (frame["exposure_hours"] == DAYS * 24).all()
    np.testing.assert_allclose(frame["raw_rate_per_hour"], frame["events"] / (DAYS * 24))
    assert (frame["rate_per_hour"] > 0).all() and (frame["prior_rate_per_hour"] > 0).all()
    # The rising cell (hundreds of events) keeps about its own rate per category.
    # The rising cell's 224 planted events (3 + 5 + ... + 29) are not shrunk away.
    rising = frame[frame["cell_id"] == nightly["planted"]["intensifying"]]
    assert rising["events"].sum() >= sum(3 + 2 * d for d in range(DAYS)) == 224
    dense = rising[rising["events"] >= 5]
    assert len(dense) >= 15
    assert (dense["rate_per_hour"] >= 0.8 * dense["raw_rate_per_hour"]).all()
    assert (dense["rate_per_hour"] <= dense["raw_rate_per_hour"]).all()
    # PostgreSQL holds the same rates.
    rows = _query(
        settings,
        "SELECT cell_id, category, rate_per_hour, prior_rate_per_hour, "
        "days_observed FROM {schema}.cell_baselines",
    )
    assert len(rows) == len(frame)
    served = {(c, k): (r, p, d) for c, k, r, p, d in rows}
    for cell, category, rate, prior in frame[
        ["cell_id", "category", "rate_per_hour", "prior_rate_per_hour"]
    ].itertuples(index=False):
        # Six significant digits in the serving table.
        assert served[(cell, category)] == (
            pytest.approx(rate, rel=1e-5),
            pytest.approx(prior, rel=1e-5),
            DAYS,
        )


def test_town_baselines_cover_every_town_and_category(settings, nightly):
    table = _read(nightly, contract.TOWN_BASELINES)
    assert table.schema.equals(contract.TOWN_BASELINES_SCHEMA)
    frame = table.to_pandas()
    towns = set(nightly["places"]["town_code"])
    categories = {category for (_, category, *_) in nightly["written"]}
    assert set(zip(frame["town_code"], frame["category"])) == {
        (t, k) for t in towns for k in categories
    }
    assert (frame["rate_per_cell_hour"] > 0).all()
    # A cell that reported nothing expects less than the town's average cell.
    cells = _read(nightly, contract.CELL_BASELINES).to_pandas()
    district_mean = cells.groupby("category")["raw_rate_per_hour"].sum() / len(nightly["places"])
    per_category = frame.groupby("category")["rate_per_cell_hour"].median()
    assert (per_category < district_mean[per_category.index]).all()


def test_week_profile_has_168_hours_per_source_with_mean_one(nightly):
    table = _read(nightly, contract.WEEK_PROFILE)
    assert table.schema.equals(contract.WEEK_PROFILE_SCHEMA)
    frame = table.to_pandas()
    expected = defaultdict(Counter)
    for (_, category, day, source, hour), n in nightly["written"].items():
        if category != "video.plate_read":
            expected[source][dt.date.fromisoformat(day).weekday() * 24 + hour] += n
    assert set(frame["source"]) == set(expected) == {"grid", "hotline", "video"}
    for source, rows in frame.groupby("source"):
        assert rows["hour_of_week"].tolist() == list(range(168))
        assert dict(zip(rows["hour_of_week"], rows["events"])) == {
            h: expected[source].get(h, 0) for h in range(168)
        }
        assert (rows["slots"] == 2).all()  # two whole weeks, every hour observed
        # Slot-weighted mean over the observed hours: here every hour twice.
        assert float(np.average(rows["factor"], weights=rows["slots"])) == pytest.approx(1.0)
        assert (rows["factor"] > 0).all()
    assert all(source_of(c) in expected for c in ("public_order.fight", "hotline.transport"))


def test_serving_tables_hold_no_digit_run_that_looks_like_an_identifier(settings, nightly):
    from features.identity import ID_NUMBER_PATTERN, PHONE_PATTERN

    for table in ("cell_trends", "cell_baselines", "hot_issues"):
        text = "\n".join(
            r[0] for r in _query(settings, f"SELECT t::text FROM {{schema}}.{table} t")
        )
        assert PHONE_PATTERN.search(text) is None and ID_NUMBER_PATTERN.search(text) is None


def test_trends_file_matches_postgres(settings, nightly):
    table = _read(nightly, contract.CELL_TRENDS)
    assert table.schema.equals(contract.CELL_TRENDS_SCHEMA)
    lake = dict(zip(table.column("cell_id").to_pylist(), table.column("pattern").to_pylist()))
    served = dict(_query(settings, "SELECT cell_id, pattern FROM {schema}.cell_trends"))
    assert lake == served
    assert table.column("first_day")[0].as_py() == FIRST_DAY
    assert pa.types.is_date32(table.schema.field("last_day").type)


def test_grid_staff_are_counted_per_worker_and_month(settings, nightly):
    """Reports per grid worker from the lake's files; verified and rewarded by the cases' rule."""
    from jobs.nightly.grid_staff import grid_staff_monthly
    from pipelines.io.serving_store import verified_hotspots

    lake = pq.read_table(
        settings.lake_table("normalized"),
        columns=[
            "event_id",
            "source",
            "category",
            "cell_id",
            "event_time_ms",
            "report_time_ms",
            "attributes_json",
        ],
    ).to_pandas()
    grid = lake[lake["source"] == "grid"].copy()
    grid["reporter_id"] = [json.loads(a)["reporter_id"] for a in grid["attributes_json"]]
    months = (
        pd.to_datetime(grid["event_time_ms"], unit="ms", utc=True)
        .dt.tz_convert("Asia/Shanghai")
        .dt.strftime("%Y-%m-01")
    )
    expected = Counter(zip(months, grid["reporter_id"]))
    rows = _query(
        settings,
        "SELECT month::text, reporter_id, reports, verified, share_verified, reward_qualifying "
        "FROM {schema}.grid_staff_monthly",
    )
    assert {(m, r): n for m, r, n, *_ in rows} == dict(expected)
    assert len({r for _, r, *_ in rows}) == 7
    assert nightly["report"]["grid_staff_rows"] == len(expected)
    again = grid_staff_monthly(
        grid.drop(columns=["attributes_json", "source"]),
        verified_hotspots(settings),
        max_delay_minutes=float(settings.section("nightly")["grid_reward_max_delay_minutes"]),
    )
    assert sorted(
        (str(m), r, v, q) for m, r, _, v, _, q in again.itertuples(index=False)
    ) == sorted((m, r, v, q) for m, r, _, v, _, q in rows)


def test_the_planted_hot_issue_leads_the_served_hot_issues(settings, nightly):
    from .nightly_lake import HOT_ISSUE_FROM_DAY, HOT_ISSUE_PER_DAY

    rows = _query(
        settings,
        "SELECT rank, messages, town_code, first_day, last_day, key_phrases, example, as_of "
        "FROM {schema}.hot_issues ORDER BY rank",
    )
    assert nightly["report"]["hot_issue_rows"] == len(rows) >= 1
    rank, messages, town, first, last, phrases, example, as_of = rows[0]
    assert rank == 1 and messages == HOT_ISSUE_PER_DAY * (DAYS - HOT_ISSUE_FROM_DAY)
    assert first == (FIRST_DAY + dt.timedelta(days=HOT_ISSUE_FROM_DAY)).isoformat()
    assert last == as_of == "2026-10-18"
    assert "搅拌站" in phrases and "搅拌站" in example
    # Every message of the issue is of one town.
    assert town in set(nightly["places"]["town_code"])
