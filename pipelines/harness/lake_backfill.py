"""Weeks of simulated history written straight into the lake: what trends and reports need.

The simulator's records go through the real normalization contract in
process (the same code the Flink job runs; no Kafka, no Flink) and are
written day by day as the lake loader writes them (``features.lake_schema``):
one file per day (and one more for a day's stragglers), named for a
backfill generation of its own, so that the
loader's files and a re-run of the backfill never share a name. A record the
contract dead-letters is counted, not written. Running it twice over the
same days rewrites the same files.
"""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta
from pathlib import Path

import pyarrow.parquet as pq

from features import contract
from features.lake_schema import events_table, lake_file_name, partition_folder
from pipelines.settings import Settings

__all__ = ["BACKFILL_GENERATION", "backfill_lake"]

#: The topic generation of backfilled files (no Kafka topic has it: the
#: loader's generations are the first 12 hex digits of a topic's random UUID).
BACKFILL_GENERATION = "bacf111000"


def backfill_lake(
    settings: Settings,
    table: Path,
    start: datetime,
    days: int,
    *,
    rate: float,
    seed: int,
) -> dict:
    """Simulate ``days`` days from ``start`` at ``rate`` events an hour into ``table``."""
    from pipelines.harness.simulation_run import build_simulator
    from pipelines.streaming.normalize_job import normalization_context

    started = time.monotonic()
    simulator = build_simulator(settings, start=start, seed=seed, rate=rate, malformed_fraction=0.0)
    ctx = normalization_context(settings)
    written, dead, by_day = 0, 0, {}

    offsets: dict[str, int] = {}

    def flush(day: str, rows: list[dict]) -> None:
        # A day's later stragglers get a file of their own, at the next offsets.
        first = offsets.get(day, 0)
        offsets[day] = first + len(rows)
        folder = Path(table) / partition_folder(day)
        folder.mkdir(parents=True, exist_ok=True)
        name = lake_file_name(BACKFILL_GENERATION, 0, first, first + len(rows) - 1)
        tmp = folder / f".{name}.tmp"
        n = len(rows)
        pq.write_table(events_table(rows, [0] * n, list(range(first, first + n))), tmp)
        tmp.replace(folder / name)

    for record in simulator.records(start, timedelta(days=days)):
        destination, _, value = contract.route_raw_record(
            record.value, ctx, record.report_time_ms + 1000, channel=record.source
        )
        if destination != contract.NORMALIZED:
            dead += 1
            continue
        row = json.loads(value)
        by_day.setdefault(row["event_date"], []).append(row)
        written += 1
        # Days two behind the stream are complete but for stragglers: write them.
        if len(by_day) > 2:
            for day in sorted(by_day)[:-2]:
                flush(day, by_day.pop(day))
    for day, rows in sorted(by_day.items()):
        flush(day, rows)
    return {
        "days": sorted(offsets),
        "events": written,
        "dead_lettered": dead,
        "seconds": round(time.monotonic() - started, 2),
    }
