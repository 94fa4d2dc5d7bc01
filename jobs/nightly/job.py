"""Nightly job (PySpark): daily counts, baselines v2 and trend classes from the lake.

Extract: the lake's ``events`` table (Parquet, partitioned by event_date).
Transform, in Spark: :func:`daily_counts` per day, town, category and
channel; the observed (date, hour) slots (:func:`observed_hour_slots`);
events per cell, category and town (:func:`cell_category_counts`); events
per channel and hour of week (:func:`week_counts`); daily events per cell
over the trend window (:func:`daily_cell_counts`). These small aggregates
then go through the pure transformations of ``features``:
:func:`jobs.nightly.cell_rates.smoothed_cell_rates` (local empirical Bayes with
reporting effort), :func:`jobs.nightly.week_profile.week_profile` and
:func:`jobs.nightly.cell_trends.emerging_hot_spots` (Gi* per day, emerging hot
spot classes). Load: counts, cell baselines and trend classes to
PostgreSQL for Superset; the baselines contract of
:mod:`features.baseline_schema` (and the v1 hour profile) to the lake,
where the streaming hotspot job reads it.
"""

from __future__ import annotations

import logging
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

from features import baseline_schema as contract
from features.lake_schema import PARTITION_GLOB
from features.taxonomy import CATEGORIES, SOURCE_LABELS
from jobs.nightly.cell_rates import smoothed_cell_rates
from jobs.nightly.cell_trends import emerging_hot_spots, space_time_cube, trend_window
from jobs.nightly.cell_universe import cell_places, queen_weights
from jobs.nightly.grid_staff import grid_reports, grid_staff_monthly
from jobs.nightly.hot_issues import hot_issue_rows, place_pattern
from jobs.nightly.week_profile import week_profile
from models.hot_issues import HotIssueParams
from pipelines.errors import NoLakeData
from pipelines.io.platform_state import load_district
from pipelines.io.serving_store import check_postgres, verified_hotspots, write_serving_table
from pipelines.io.spark import spark_session
from pipelines.settings import Settings

__all__ = [
    "NightlyReport",
    "NoLakeData",
    "extract_events",
    "daily_counts",
    "hour_profile",
    "observed_hour_slots",
    "cell_category_counts",
    "week_counts",
    "daily_cell_counts",
    "run",
]

log = logging.getLogger(__name__)

#: The Spark schema of the grid staff table (an empty month has no rows to infer it from).
_GRID_STAFF_SPARK_SCHEMA = (
    "month date, reporter_id string, reports long, verified long, "
    "share_verified double, reward_qualifying long"
)

_HOT_ISSUES_SPARK_SCHEMA = (
    "as_of string, rank long, heat double, messages long, users long, first_day string, "
    "last_day string, town_code string, town_name string, village_code string, "
    "village_name string, category_label string, key_phrases string, example string"
)

_NIGHTLY_KEYS = (
    "trend_days",
    "min_trend_days",
    "trend_alpha",
    "effort_prior_events",
    "town_floor_fraction",
    "max_prior_events",
    "week_profile_prior_slots",
    "grid_reward_max_delay_minutes",
)


@dataclass(frozen=True)
class NightlyReport:
    """What one nightly run produced: counts of events, days and the rows it wrote."""

    events: int
    days: int
    daily_count_rows: int
    baseline_rows: int
    observed_hours: float
    town_baseline_rows: int = 0
    week_profile_rows: int = 0
    trend_days: int = 0
    trend_cells: int = 0
    trend_hot_cells: int = 0
    trend_cold_cells: int = 0
    trends_skipped: str | None = None
    grid_staff_rows: int = 0
    hot_issue_rows: int = 0


def nightly_config(settings: Settings) -> dict:
    """The ``nightly:`` section of the configuration, checked for its keys."""
    return settings.section("nightly", _NIGHTLY_KEYS)


def extract_events(spark, settings: Settings):
    """The lake's normalized events as a Spark frame, one row per event_id.

    The lake writes an event_id once per date; the same event under two
    dates (or written before that rule) is counted once here. Raises
    :class:`NoLakeData` when there are no events.
    """
    path = settings.lake_table("normalized")
    if not path.exists() or not any(path.glob(f"{PARTITION_GLOB}/*.parquet")):
        raise NoLakeData(
            f"the lake table {path} holds no Parquet files; load events first (`zongzhi lake`)"
        )
    return spark.read.option("mergeSchema", "false").parquet(str(path)).dropDuplicates(["event_id"])


def _hot_issues(events, settings: Settings, district, available_days: list[str]):
    """``serving.hot_issues`` rows: the hot issues of the last ``hot_issues.nightly_days`` of hotline events."""
    from datetime import date, timedelta

    from pyspark.sql import functions as F

    section = settings.section("hot_issues")
    params = HotIssueParams(
        similarity=float(section["similarity"]),
        window_days=float(section["window_days"]),
        min_messages=int(section["min_messages"]),
        max_df=float(section["max_df"]),
        top=int(section["nightly_top"]),
    )
    as_of = available_days[-1]
    since = (
        date.fromisoformat(as_of) - timedelta(days=int(section["nightly_days"]) - 1)
    ).isoformat()
    hotline = (
        events.where((F.col("source") == "hotline") & (F.col("event_date") >= since))
        .select(
            "event_id",
            "event_time_ms",
            "category",
            "town_code",
            "town_name",
            "village_code",
            "village_name",
            "attributes_json",
            F.expr(
                "try_element_at(filter(transform(persons, p -> p.phone_hash), h -> h IS NOT NULL), 1)"
            ).alias("caller"),
        )
        .toPandas()
    )
    names = [t.name for t in district.towns] + [v.name for v in district.villages]
    return hot_issue_rows(hotline, place_pattern(names), params, as_of)


def _labels(spark):
    categories = spark.createDataFrame(sorted(CATEGORIES.items()), ["category", "category_label"])
    sources = spark.createDataFrame(sorted(SOURCE_LABELS.items()), ["source", "source_label"])
    return categories, sources


def daily_counts(events, spark):
    """Events per day, town, category and channel, with Chinese labels."""
    from pyspark.sql import functions as F

    categories, sources = _labels(spark)
    counts = events.groupBy(
        F.col("event_date").cast("date").alias("day"),
        "town_code",
        "town_name",
        "category",
        "source",
    ).agg(F.count(F.lit(1)).alias("events"))
    return (
        counts.join(F.broadcast(categories), "category", "left")
        .join(F.broadcast(sources), "source", "left")
        .select(
            "day",
            "town_code",
            "town_name",
            "category",
            "category_label",
            "source",
            "source_label",
            "events",
        )
    )


def _with_local_hours(events):
    """Add the local hour of day and hour of week (0 = Monday 00:00) of each event."""
    from pyspark.sql import functions as F

    # The session time zone is the district's, so this is the local hour;
    # dayofweek is 1 for Sunday ... 7 for Saturday.
    hour = F.hour(F.timestamp_millis(F.col("event_time_ms")))
    weekday = (F.dayofweek(F.to_date(F.col("event_date"))) + 5) % 7
    return events.withColumn("hour_of_day", hour).withColumn(
        "hour_of_week", (weekday * 24 + hour).cast("int")
    )


def observed_hour_slots(events):
    """Distinct (event_date, hour_of_day) slots that hold any event: hours observed."""
    return _with_local_hours(events).select("event_date", "hour_of_day", "hour_of_week").distinct()


def hour_profile(events, slots):
    """Each channel's hourly rate at each hour of day over its mean hourly rate (v1).

    ``factor = (events of the channel in hour h / days on which hour h was
    observed) / (events of the channel / hours observed)``: 1 is an average
    hour, 2 twice as busy. ``slots`` is :func:`observed_hour_slots` of the
    same events.
    """
    from pyspark.sql import functions as F

    per_hour_slots = slots.groupBy("hour_of_day").agg(F.count(F.lit(1)).alias("slots"))
    total_slots = slots.count()
    totals = events.groupBy("source").agg(F.count(F.lit(1)).alias("total"))
    counts = (
        _with_local_hours(events)
        .groupBy("source", "hour_of_day")
        .agg(F.count(F.lit(1)).alias("events"))
    )
    return (
        counts.join(per_hour_slots, "hour_of_day")
        .join(totals, "source")
        .withColumn(
            "factor", (F.col("events") / F.col("slots")) / (F.col("total") / F.lit(total_slots))
        )
        .select("source", "hour_of_day", "events", "slots", "factor")
    )


def cell_category_counts(events):
    """Events per cell, category and attributed town (all categories)."""
    from pyspark.sql import functions as F

    return events.groupBy("cell_id", "category", "town_code").agg(F.count(F.lit(1)).alias("events"))


def week_counts(events, excluded: list[str]):
    """Events per channel and hour of week, without the excluded categories."""
    from pyspark.sql import functions as F

    return (
        _with_local_hours(events)
        .where(~F.col("category").isin(excluded))
        .groupBy("source", "hour_of_week")
        .agg(F.count(F.lit(1)).alias("events"))
    )


def daily_cell_counts(events, days, excluded: list[str]):
    """Events per cell and day on the given days, without the excluded categories."""
    from pyspark.sql import functions as F

    wanted = [d.isoformat() for d in days]
    return (
        events.where(F.col("event_date").isin(wanted) & ~F.col("category").isin(excluded))
        .groupBy("cell_id", F.col("event_date").alias("day"))
        .agg(F.count(F.lit(1)).alias("events"))
    )


def for_serving(frame):
    """Floats to six significant digits, for the serving tables.

    Superset shows a handful of digits; a float's full 17 would also give
    digit runs that the project's identifier scans cannot tell from a phone
    or ID number (e.g. the tail of a longitude).
    """
    floats = frame.select_dtypes("float").columns
    return frame.assign(**{name: frame[name].map(lambda x: float(f"{x:.6g}")) for name in floats})


def write_lake_file(frame, schema, path: Path) -> None:
    """Replace ``path`` (a file, or a folder Spark wrote) by one Parquet file."""
    tmp = path.with_name(path.name + ".tmp")
    pq.write_table(contract.as_arrow(frame, schema), tmp, compression="zstd")
    if path.is_dir():
        shutil.rmtree(path)
    os.replace(tmp, path)


def _trends(events, settings: Settings, config: dict, district, available_days):
    """Trend classes of every cell, or ``(None, days, reason)`` when too few days."""
    days = trend_window(available_days, int(config["trend_days"]))
    if len(days) < int(config["min_trend_days"]):
        return (
            None,
            days,
            (
                f"{len(days)} day(s) in the last {config['trend_days']} days of the "
                f"lake; trend classes need at least {config['min_trend_days']}"
            ),
        )
    excluded = list(settings.hotspot.get("excluded_categories") or [])
    daily = daily_cell_counts(events, days, excluded).toPandas()
    places = cell_places(district).round({"lon": 6, "lat": 6})  # 0.1 m
    cube = space_time_cube(
        daily.assign(day=daily["day"].astype(str)), places["cell_id"], [d.isoformat() for d in days]
    )
    weights = queen_weights(list(places["cell_id"]), district.grid)
    alpha = float(config["trend_alpha"])
    classes = emerging_hot_spots(cube, weights, alpha=alpha, trend_alpha=alpha)
    table = places.join(classes).assign(days=len(days), first_day=days[0], last_day=days[-1])
    return table, days, None


def run(settings: Settings) -> NightlyReport:
    """Run the nightly job end to end; raises :class:`NoLakeData` on an empty lake."""
    config = nightly_config(settings)
    check_postgres(settings)  # fail in a second, not after the Spark stages
    district = load_district(settings)
    spark = spark_session(settings, "zongzhi-nightly")
    try:
        log.info("nightly 1/5: reading the lake at %s", settings.lake_table("normalized"))
        events = extract_events(spark, settings).cache()
        n_events = events.count()
        if n_events == 0:
            raise NoLakeData("the lake's events table has no rows")
        log.info("nightly 2/5: %d events; daily counts and the observed hours", n_events)
        counts = daily_counts(events, spark).cache()
        slots = observed_hour_slots(events).cache()
        # At least one hour, so that a tiny lake cannot produce absurd rates.
        hours = float(max(slots.count(), 1))
        available_days = sorted(r[0] for r in slots.select("event_date").distinct().collect())

        log.info("nightly 3/5: smoothed cell baselines and the week profile")
        excluded = list(settings.hotspot.get("excluded_categories") or [])
        cells, towns = smoothed_cell_rates(
            cell_category_counts(events).toPandas(),
            cell_places(district),
            hours,
            district.grid,
            effort_prior_events=float(config["effort_prior_events"]),
            town_floor_fraction=float(config["town_floor_fraction"]),
            max_prior_events=float(config["max_prior_events"]),
        )
        slot_table = (
            slots.groupBy("hour_of_week").count().withColumnRenamed("count", "slots").toPandas()
        )
        profile = week_profile(
            week_counts(events, excluded).toPandas(),
            slot_table,
            float(config["week_profile_prior_slots"]),
        )

        log.info("nightly 4/5: trend classes over the last %s days", config["trend_days"])
        trends, trend_days, skipped = _trends(events, settings, config, district, available_days)
        if skipped:
            log.info("nightly: trend classes skipped: %s", skipped)

        log.info("nightly 5/5: writing PostgreSQL (counts, baselines, grid staff) and the lake")
        write_serving_table(counts, settings, "daily_counts")
        serving_cells = cells.assign(days_observed=np.int32(len(available_days)))
        write_serving_table(
            spark.createDataFrame(for_serving(serving_cells)), settings, "cell_baselines"
        )
        folder = settings.lake_table("baselines")
        folder.mkdir(parents=True, exist_ok=True)
        write_lake_file(cells, contract.CELL_BASELINES_SCHEMA, folder / contract.CELL_BASELINES)
        write_lake_file(towns, contract.TOWN_BASELINES_SCHEMA, folder / contract.TOWN_BASELINES)
        write_lake_file(profile, contract.WEEK_PROFILE_SCHEMA, folder / contract.WEEK_PROFILE)
        hour_profile(events, slots).coalesce(1).write.mode("overwrite").parquet(
            str(folder / contract.HOUR_PROFILE)
        )
        if trends is not None:
            serving_trends = trends.astype(
                {"hot_days": "int32", "cold_days": "int32", "days": "int32"}
            ).assign(
                first_day=trends["first_day"].astype(str), last_day=trends["last_day"].astype(str)
            )
            write_serving_table(
                spark.createDataFrame(for_serving(serving_trends)), settings, "cell_trends"
            )
            write_lake_file(trends, contract.CELL_TRENDS_SCHEMA, folder / contract.CELL_TRENDS)
        staff = grid_staff_monthly(
            grid_reports(events),
            verified_hotspots(settings),
            max_delay_minutes=float(config["grid_reward_max_delay_minutes"]),
        )
        write_serving_table(
            spark.createDataFrame(staff, schema=_GRID_STAFF_SPARK_SCHEMA),
            settings,
            "grid_staff_monthly",
        )
        issues = _hot_issues(events, settings, district, available_days)
        write_serving_table(
            spark.createDataFrame(issues, schema=_HOT_ISSUES_SPARK_SCHEMA), settings, "hot_issues"
        )
        patterns = trends["pattern"] if trends is not None else None
        return NightlyReport(
            grid_staff_rows=len(staff),
            hot_issue_rows=len(issues),
            events=n_events,
            days=len(available_days),
            daily_count_rows=counts.count(),
            baseline_rows=len(cells),
            observed_hours=round(hours, 3),
            town_baseline_rows=len(towns),
            week_profile_rows=len(profile),
            trend_days=len(trend_days),
            trend_cells=0 if trends is None else len(trends),
            trend_hot_cells=0
            if patterns is None
            else int(patterns.str.endswith("_hot_spot").sum()),
            trend_cold_cells=0
            if patterns is None
            else int(patterns.str.endswith("_cold_spot").sum()),
            trends_skipped=skipped,
        )
    finally:
        spark.stop()
