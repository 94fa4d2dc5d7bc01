"""A small synthetic lake of 14 days with planted trends, for the nightly job's tests."""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

from features.lake_schema import events_table
from features.taxonomy import CATEGORIES_BY_SOURCE
from pipelines.harness.simulator.texts import hotline_message

FIRST_DAY = dt.date(2026, 10, 5)  # a Monday: the 14 days are exactly two weeks
DAYS = 14
BACKGROUND_PER_DAY = 450
PLATE_READS_PER_DAY = 40
SHANGHAI = dt.timezone(dt.timedelta(hours=8))
#: A hot issue planted in the hotline's words: from this day on, the first
#: messages of a day in the town of the lake's first hotline message are
#: about one concrete matter, in varied words.
HOT_ISSUE_FROM_DAY = 9
HOT_ISSUE_PER_DAY = 3
HOT_ISSUE_TEXTS = (
    "东关路口搅拌站夜间施工噪音扰民，晚上根本睡不着。",
    "反映东关路口搅拌站夜间施工噪音扰民的问题，夜里十二点还在作业。",
    "东关路口搅拌站夜间施工噪音扰民，粉尘也大，多次反映无人处理，请尽快整治。",
    "我家住在附近，东关路口搅拌站夜间施工噪音扰民，老人孩子都受影响。",
)
INCIDENT_CATEGORIES = sorted(
    CATEGORIES_BY_SOURCE["grid"] | CATEGORIES_BY_SOURCE["hotline"] | {"video.camera_alarm"}
)


def interior_cells(district, places, count: int, seed: int) -> list[str]:
    """Cells whose 5 x 5 block lies in the universe, far apart from one another."""
    universe = set(places["cell_id"])
    grid = district.grid
    candidates = [c for c in places["cell_id"] if set(grid.neighbours(c, radius=2)) <= universe]
    rng = np.random.default_rng(seed)
    chosen: list[str] = []
    for cell in rng.permutation(candidates):
        row, col = grid.row_col(cell)
        if all(max(abs(row - r), abs(col - c)) > 6 for r, c in map(grid.row_col, chosen)):
            chosen.append(str(cell))
        if len(chosen) == count:
            return chosen
    raise AssertionError("the district has too few interior cells for the planted trends")


def planted_counts(day_index: int) -> dict[str, int]:
    """Events per day of the planted cells: one rising, one falling, one steady.

    Gi* compares a day's counts with that day's spread over all cells; the
    falling cell keeps the sum of squares of the two moving cells at about
    30^2, so that the spread stays put and the steady cell's z-score with it.
    """
    rising = 3 + 2 * day_index
    return {
        "intensifying": rising,
        "diminishing": round((30**2 - rising**2) ** 0.5),
        "persistent": 12,
    }


def write_lake(
    table_dir: Path,
    places,
    planted: dict[str, str],
    plate_cell: str,
    seed: int = 5,
    hotline_texts: Sequence[str] = (),
) -> Counter:
    """Write the lake; return the events per (cell, category, event_date, source, hour).

    Hotline messages other than the planted hot issue's take the words of
    ``hotline_texts`` (real messages, in turn), or the simulator's templates.
    """
    rng = np.random.default_rng(seed)
    words = random.Random(seed)
    hot_town = None
    place = places.set_index("cell_id")
    cells = places["cell_id"].to_numpy()
    written: Counter = Counter()
    for day_index in range(DAYS):
        day = FIRST_DAY + dt.timedelta(days=day_index)
        picks = list(rng.choice(cells, BACKGROUND_PER_DAY))
        categories = list(rng.choice(INCIDENT_CATEGORIES, BACKGROUND_PER_DAY))
        for name, n in planted_counts(day_index).items():
            picks += [planted[name]] * n
            categories += list(rng.choice(INCIDENT_CATEGORIES, n))
        picks += [plate_cell] * PLATE_READS_PER_DAY
        categories += ["video.plate_read"] * PLATE_READS_PER_DAY
        records = []
        planted_today = 0
        for i, (cell, category) in enumerate(zip(picks, categories)):
            hour, minute = int(rng.integers(24)), int(rng.integers(60))
            at = dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=SHANGHAI)
            ms = int(at.timestamp() * 1000)
            source = category.split(".")[0] if category.startswith(("hotline", "video")) else "grid"
            row = place.loc[cell]
            attributes = {"reporter_id": f"G{i % 7 + 1:04d}"} if source == "grid" else {}
            if source == "hotline":
                hot_town = hot_town or row["town_code"]
                hot = (
                    day_index >= HOT_ISSUE_FROM_DAY
                    and row["town_code"] == hot_town
                    and planted_today < HOT_ISSUE_PER_DAY
                )
                if hot:
                    text = HOT_ISSUE_TEXTS[(day_index + planted_today) % len(HOT_ISSUE_TEXTS)]
                    planted_today += 1
                elif hotline_texts:
                    text = hotline_texts[words.randrange(len(hotline_texts))]
                else:
                    text = hotline_message(words, category, row["town_name"], "测试村")
                attributes = {"ticket_no": f"T{day_index}-{i}", "text": text}
            records.append(
                {
                    "event_id": f"nt-{day.isoformat()}-{i}",
                    "schema_version": 1,
                    "source": source,
                    "category": category,
                    "category_group": category.split(".")[0],
                    "event_time_ms": ms,
                    "report_time_ms": ms,
                    "event_date": day.isoformat(),
                    "lon": float(row["lon"]),
                    "lat": float(row["lat"]),
                    "reported_crs": "WGS84",
                    "cell_id": cell,
                    "district_code": "110118",
                    "town_code": row["town_code"],
                    "town_name": row["town_name"],
                    "village_code": row["town_code"] + "001",
                    "village_name": "测试村",
                    "persons": [],
                    "vehicles": [],
                    # Grid reports name their grid worker (of seven); hotline
                    # messages carry the citizen's words.
                    "attributes": attributes,
                }
            )
            written[(cell, category, day.isoformat(), source, hour)] += 1
        folder = table_dir / f"event_date={day.isoformat()}"
        folder.mkdir(parents=True, exist_ok=True)
        table = events_table(records, [0] * len(records), list(range(len(records))))
        pq.write_table(table.drop_columns(["event_date"]), folder / "part-p0-synthetic.parquet")
    return written
