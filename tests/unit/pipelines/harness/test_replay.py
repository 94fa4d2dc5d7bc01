"""The replay adapter: reading a point file, its broken rows, its baselines (no Kafka)."""

import gzip
import json
import math
from datetime import UTC, datetime

import numpy as np
import pytest

from features.baselines import TOWN_PRIOR, hour_of_week
from pipelines.harness.replay import (
    ReplayError,
    ReplayPoints,
    read_points,
    replay_baselines,
    replay_messages,
    to_wgs84,
)

CSV = """when,lon,lat,kind
2019-01-01T19:50:00Z,-122.402066,37.788721,personal robbery
2019-01-02 08:00:00,-122.4084,37.7844,Commercial Robbery
not a time,-122.40,37.78,personal robbery
2019-01-03T10:00:00Z,abc,37.78,personal robbery
2019-01-04T10:00:00Z,,37.78,personal robbery
2019-01-05T10:00:00Z,-122.40
2019-01-06T10:00:00Z,0,0,personal robbery
"""


def test_good_rows_are_read_and_broken_ones_reported(tmp_path):
    path = tmp_path / "points.csv"
    path.write_text(CSV)
    points = read_points(
        path,
        time_col="when",
        x_col="lon",
        y_col="lat",
        crs="WGS84",
        category_col="kind",
        tz="America/Los_Angeles",
    )
    assert points.rows == 7
    assert points.category == ["personal_robbery", "commercial_robbery"]
    assert points.time_ms == [
        int(datetime(2019, 1, 1, 19, 50, tzinfo=UTC).timestamp() * 1000),
        # No zone: read in --tz, 08:00 in San Francisco is 16:00 UTC.
        int(datetime(2019, 1, 2, 16, 0, tzinfo=UTC).timestamp() * 1000),
    ]
    assert points.broken == {
        "unreadable time": 1,
        "unreadable coordinates": 2,
        "wrong number of fields": 1,
        "missing coordinates": 1,
    }
    assert [e["line"] for e in points.examples] == [4, 5, 6, 7, 8]


def test_time_from_several_columns_and_utm_coordinates(tmp_path):
    path = tmp_path / "vancouver.csv.gz"
    with gzip.open(path, "wt") as fh:
        fh.write(
            "TYPE,YEAR,MONTH,DAY,HOUR,MINUTE,X,Y\n"
            "Other Theft,2020,1,1,0,0,490320.299,5458606.9208\n"
        )
    points = read_points(
        path,
        time_col="YEAR,MONTH,DAY,HOUR,MINUTE",
        x_col="X",
        y_col="Y",
        crs="EPSG:26910",
        category_col="TYPE",
        tz="America/Vancouver",
    )
    assert points.category == ["other_theft"]
    assert (
        datetime.fromtimestamp(points.time_ms[0] / 1000, UTC).isoformat()
        == "2020-01-01T08:00:00+00:00"
    )
    assert points.lon[0] == pytest.approx(-123.1331, abs=1e-4)


def test_a_bad_header_or_crs_is_refused_in_one_line(tmp_path):
    path = tmp_path / "points.csv"
    path.write_text(CSV)
    with pytest.raises(ReplayError, match="points.csv has no column 'x'; its columns are when"):
        read_points(path, time_col="when", x_col="x", y_col="lat", crs="WGS84")
    with pytest.raises(ReplayError, match="--crs 'UTM' is not supported"):
        to_wgs84(np.array([1.0]), np.array([1.0]), "UTM")


def test_baselines_are_the_files_own_smoothed_rates_and_week_profile():
    # 8 events in cell a, none in b, over 4 weeks of Mondays at 09:00 and 10:00.
    monday = datetime(2026, 11, 2, 9, 0, tzinfo=UTC).timestamp() * 1000

    class Points:
        time_ms = [
            int(monday + w * 7 * 86_400_000 + h * 3_600_000) for w in range(4) for h in range(2)
        ]
        category = ["theft"] * 8

    baselines = replay_baselines(["a", "b"], ["a"] * 8, Points, prior_slots=4.0, fallback=0.25)
    rate_a, _ = baselines.rate("a", "replay", "theft")
    rate_b, _ = baselines.rate("b", "replay", "theft")
    span_h = (Points.time_ms[-1] - Points.time_ms[0]) / 3_600_000
    # Shrunk toward the area's mean of 4 events per cell over the span.
    assert rate_b < 4 / span_h < rate_a <= 8 / span_h
    assert baselines.rate("zzz", "replay", "theft")[1] == TOWN_PRIOR
    hour = hour_of_week(Points.time_ms[0] / 1000)
    assert baselines.week_factors[("theft", hour)] > 1


def test_messages_go_out_in_event_time_order_keyed_by_row():
    points = ReplayPoints(
        time_ms=[3_000, 1_000, 3_000, 2_000], category=["theft", "fight", "fight", "theft"]
    )
    messages = list(replay_messages(points, ["c0", "c1", "c2", "c3"]))
    # Rows 0 and 2 share a time: file order between them.
    assert [key for key, _, _ in messages] == [b"1", b"3", b"0", b"2"]
    assert all(timestamp is None for _, _, timestamp in messages)
    assert json.loads(messages[0][1]) == {
        "event_id": "replay-1",
        "category": "fight",
        "cell_id": "c1",
        "event_time_ms": 1_000,
    }


def test_a_file_of_dates_alone_is_not_scored_without_a_scale_of_days_and_says_why(tmp_path):
    import copy

    from pipelines.harness.replay import run_replay
    from pipelines.settings import Settings, load_settings

    base = load_settings()
    raw = copy.deepcopy(base.raw)
    raw["hotspot"]["longer_scales"] = [
        scale for scale in raw["hotspot"]["longer_scales"] if scale["slide_minutes"] < 1440
    ]
    path = tmp_path / "shootings.csv"
    rows = [f"2019-01-{d:02d},-73.9{d},40.6{d}" for d in range(1, 29)]
    path.write_text("occur_date,longitude,latitude\n" + "\n".join(rows) + "\n")
    report = run_replay(
        Settings(raw=raw, root=base.root, var=base.var),
        path,
        time_col="occur_date",
        x_col="longitude",
        y_col="latitude",
        crs="WGS84",
        tz="America/New_York",
    )
    assert report["events"] == 28 and report["events_scored"] == 0
    assert report["time_resolution"]["events_by_resolution"] == {"day": 28}
    assert report["time_resolution"]["voting_by_scale"] == {"minutes": 0, "hours": 0}
    assert report["not_scored"].startswith(
        "no event's time is finer than the detector's 60-minute slides at its coarsest scale"
    )
    assert report["clusters"] == 0


def test_prospective_baselines_know_only_the_days_before_the_look():
    from pipelines.harness.replay import ProspectiveBaselines

    day_ms = 86_400_000
    start = int(datetime(2026, 11, 2, tzinfo=UTC).timestamp() * 1000)
    # Cell a: 2 events a day for 30 days; cell b: 5 a day from day 20 on.
    times = [start + d * day_ms + h * 3_600_000 for d in range(30) for h in (9, 15)]
    times += [start + d * day_ms + h * 3_600_000 for d in range(20, 30) for h in range(8, 13)]
    cells = ["a"] * 60 + ["b"] * 50
    points = ReplayPoints(time_ms=times, category=["theft"] * 110)
    store = ProspectiveBaselines(["a", "b"], cells, points, 4.0, 0.25, warm_up_days=14)
    # The warm-up is not scored.
    assert store.at((start + 10 * day_ms) // 1000) is None
    # Day 18 knows days 0-17 only: cell b is quiet, and its rate is the prior's pull alone.
    day18 = store.at((start + 18 * day_ms + 3_600_000) // 1000)
    rate_a, _ = day18.rate("a", "replay", "theft")
    rate_b, _ = day18.rate("b", "replay", "theft")
    assert rate_a == pytest.approx(2 / 24, rel=0.35) and rate_b < rate_a / 2
    # Built once a day: a later look of the same day gets the same baselines.
    assert store.at((start + 18 * day_ms + 7_200_000) // 1000) is day18
    # Day 29 has seen cell b's days.
    day29 = store.at((start + 29 * day_ms) // 1000)
    assert day29.rate("b", "replay", "theft")[0] > rate_b
    # Each rate is as uncertain as its events make it: the prior's shape plus
    # the cell's events (by day 18: a 36, b 0).
    prior = day18.shape("b", "theft")
    assert math.isfinite(prior)
    assert day18.shape("a", "theft") - prior == pytest.approx(36)
    known = ProspectiveBaselines(["a", "b"], cells, points, 4.0, 0.25, 14, rate_uncertainty=False)
    assert known.at((start + 18 * day_ms) // 1000).shape("a", "theft") == math.inf


def test_progress_says_the_event_time_looks_and_clusters_so_far(tmp_path, caplog):
    import logging

    from pipelines.harness.replay import ReplayProgress, echo_progress

    path = tmp_path / "progress.txt"
    progress = ReplayProgress("file", "UTC", path, every_s=3600.0)
    start = int(datetime(2026, 11, 2, 8, 0, tzinfo=UTC).timestamp())
    with caplog.at_level(logging.INFO, logger="pipelines.harness.replay"):
        with echo_progress(path, every_s=0.05):
            progress(start, [{"alert_id": "c1"}])
            progress(start + 300, [{"alert_id": "c1"}, {"alert_id": "c2"}])
            import time

            time.sleep(0.3)
    # The first look speaks at once, the next waits its turn; the count goes on.
    said = "replay (file): event time 2026-11-02 08:00, 1 looks, 1 clusters so far"
    assert [r.getMessage() for r in caplog.records] == [said]
    assert progress.looks == 2 and progress.clusters == {"c1", "c2"}


def test_zones_split_the_file_where_its_events_are_and_name_a_bad_count():
    from features.geography import CellGrid
    from pipelines.harness.replay import ReplayError, replay_zones

    grid = CellGrid(0.0, 0.0, 500)
    west = [f"r000c{c:03d}" for c in range(3)]
    east = [f"r000c{c:03d}" for c in range(20, 23)]
    empty = ["r000c010", "r000c015"]
    zone = replay_zones(grid, west + empty + east, west * 5 + east * 5, 2, seed=0)
    assert {zone[c] for c in west} == {"z01"} and {zone[c] for c in east} == {"z02"}
    # A cell without events joins the nearest centre.
    assert (zone["r000c010"], zone["r000c015"]) == ("z01", "z02")
    with pytest.raises(ReplayError, match=r"--zones 7: must be from 1 to the 6 cells"):
        replay_zones(grid, west + east, west + east, 7, seed=0)


def test_a_zone_column_names_each_cells_area_and_a_missing_one_is_refused(tmp_path):
    from features.geography import CellGrid
    from pipelines.harness.replay import ReplayError, column_zones

    path = tmp_path / "points.csv"
    path.write_text(
        "when,lon,lat,hood\n"
        "2019-01-01T10:00:00Z,-122.40,37.78, Mission \n"
        "2019-01-01T11:00:00Z,-122.40,37.78,Mission\n"
        "2019-01-01T12:00:00Z,-122.41,37.79,\n"
        "2019-01-01T13:00:00Z,abc,37.79,Soma\n"
    )
    points = read_points(
        path, time_col="when", x_col="lon", y_col="lat", crs="WGS84", zone_col="hood"
    )
    assert points.area == ["Mission", "Mission", ""]
    with pytest.raises(ReplayError, match=r"has no column 'district'"):
        read_points(
            path, time_col="when", x_col="lon", y_col="lat", crs="WGS84", zone_col="district"
        )
    grid = CellGrid(0.0, 0.0, 500)
    west = ["r000c000", "r000c001"]
    east = ["r000c020", "r000c021"]
    zone = column_zones(
        grid,
        west + ["r000c010", "r000c013"] + east,
        west * 2 + east * 2 + ["r000c021"],
        ["A", "A", "B", "A", "C", "C", "C", "D", "D"],
    )
    # Majorities: r000c000 A (1 A, 1 B: a tie goes to the first in order),
    # r000c001 A, r000c020 C, r000c021 D (2 D, 1 C); empty cells join the nearest voter.
    assert zone == {
        "r000c000": "A",
        "r000c001": "A",
        "r000c010": "A",
        "r000c013": "C",
        "r000c020": "C",
        "r000c021": "D",
    }
    with pytest.raises(ReplayError, match=r"--zone-col: no row names an area"):
        column_zones(grid, west, west, ["", ""])
