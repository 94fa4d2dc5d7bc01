"""Nightly job v1 (PySpark): daily counts and per-cell baselines from the lake.

Extract: the lake's ``events`` table (Parquet, partitioned by event_date).
Transform: :func:`daily_counts` per day, town, category and channel;
:func:`cell_baselines` as events per hour per cell and category over the
observed hours, and :func:`hour_profile`, each channel's hour-of-day
intensity relative to its daily mean (see :mod:`features.baselines`). Load:
counts and baselines to PostgreSQL for Superset; baselines and the profile to
the lake, where the streaming hotspot job reads them.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

from features.taxonomy import CATEGORIES, SOURCE_LABELS
from jobs.spark_env import spark_session
from pipelines.errors import ServiceUnavailable
from pipelines.settings import Settings

__all__ = ["NightlyReport", "NoLakeData", "extract_events", "daily_counts", "cell_baselines",
           "hour_profile", "observed_hour_slots", "run"]

log = logging.getLogger(__name__)


class NoLakeData(RuntimeError):
    """The lake holds no events: nothing valid can be produced."""


@dataclass(frozen=True)
class NightlyReport:
    events: int
    days: int
    daily_count_rows: int
    baseline_rows: int
    observed_hours: float


def extract_events(spark, settings: Settings):
    path = settings.lake_table("normalized")
    if not path.exists() or not any(path.glob("event_date=*/*.parquet")):
        raise NoLakeData(f"the lake table {path} holds no Parquet files; load events first "
                         "(`zongzhi lake`)")
    return spark.read.option("mergeSchema", "false").parquet(str(path))


def _labels(spark):
    categories = spark.createDataFrame(sorted(CATEGORIES.items()), ["category", "category_label"])
    sources = spark.createDataFrame(sorted(SOURCE_LABELS.items()), ["source", "source_label"])
    return categories, sources


def daily_counts(events, spark):
    """Events per day, town, category and channel, with Chinese labels."""
    from pyspark.sql import functions as F

    categories, sources = _labels(spark)
    counts = (events
              .groupBy(F.col("event_date").cast("date").alias("day"), "town_code", "town_name",
                       "category", "source")
              .agg(F.count(F.lit(1)).alias("events")))
    return (counts.join(F.broadcast(categories), "category", "left")
                  .join(F.broadcast(sources), "source", "left")
                  .select("day", "town_code", "town_name", "category", "category_label",
                          "source", "source_label", "events"))


def _with_hour_of_day(events):
    """Add the local hour of day of each event."""
    from pyspark.sql import functions as F

    # The session time zone is the district's, so this is the local hour.
    return events.withColumn(
        "hour_of_day", F.hour(F.timestamp_millis(F.col("event_time_ms"))))


def observed_hour_slots(events):
    """Distinct (event_date, hour_of_day) slots that hold any event: hours observed."""
    return _with_hour_of_day(events).select("event_date", "hour_of_day").distinct()


def hour_profile(events, slots):
    """Each channel's hourly rate at each hour of day over its mean hourly rate.

    ``factor = (events of the channel in hour h / days on which hour h was
    observed) / (events of the channel / hours observed)``: 1 is an average
    hour, 2 twice as busy. ``slots`` is :func:`observed_hour_slots` of the
    same events.
    """
    from pyspark.sql import functions as F

    per_hour_slots = slots.groupBy("hour_of_day").agg(F.count(F.lit(1)).alias("slots"))
    total_slots = slots.count()
    totals = events.groupBy("source").agg(F.count(F.lit(1)).alias("total"))
    counts = _with_hour_of_day(events).groupBy("source", "hour_of_day").agg(
        F.count(F.lit(1)).alias("events"))
    return (counts.join(per_hour_slots, "hour_of_day").join(totals, "source")
                  .withColumn("factor", (F.col("events") / F.col("slots"))
                              / (F.col("total") / F.lit(total_slots)))
                  .select("source", "hour_of_day", "events", "slots", "factor"))


def cell_baselines(events, hours: float, days: int):
    """Events per observed hour per cell and category.

    ``hours`` and ``days`` are the hours and days the lake observed (see
    :func:`observed_hour_slots`).
    """
    from pyspark.sql import functions as F

    return (events
                 .groupBy("cell_id", "category")
                 .agg(F.count(F.lit(1)).alias("events"), F.first("town_code").alias("town_code"))
                 .withColumn("days_observed", F.lit(int(days)))
                 .withColumn("rate_per_hour", F.col("events") / F.lit(float(hours)))
                 .select("cell_id", "category", "town_code", "days_observed", "events",
                         "rate_per_hour"))


def check_postgres(settings: Settings) -> None:
    import psycopg2

    try:
        psycopg2.connect(settings.pg_dsn()).close()
    except psycopg2.OperationalError as exc:
        reason = (str(exc).strip().splitlines() or ["no answer"])[0]
        raise ServiceUnavailable(
            f"PostgreSQL at {settings.pg['host']}:{settings.pg['port']} is unreachable "
            f"({reason}); start it with `zongzhi infra up`") from None


def _write_postgres(df, settings: Settings, table: str) -> None:
    pg = settings.pg
    (df.write.format("jdbc")
       .option("url", settings.pg_jdbc_url())
       .option("dbtable", f"{pg['schema']}.{table}")
       .option("user", pg["user"])
       .option("password", settings.pg_password())
       .option("driver", "org.postgresql.Driver")
       .option("truncate", "true")
       .option("stringtype", "unspecified")
       .mode("overwrite")
       .save())


def run(settings: Settings) -> NightlyReport:
    """Run the nightly job end to end; raises :class:`NoLakeData` on an empty lake."""
    check_postgres(settings)  # fail in a second, not after the Spark stages
    spark = spark_session(settings, "zongzhi-nightly")
    try:
        log.info("nightly 1/4: reading the lake at %s", settings.lake_table("normalized"))
        events = extract_events(spark, settings).cache()
        n_events = events.count()
        if n_events == 0:
            raise NoLakeData("the lake's events table has no rows")
        log.info("nightly 2/4: %d events; computing daily counts and baselines", n_events)
        counts = daily_counts(events, spark).cache()
        slots = observed_hour_slots(events).cache()
        # At least one hour, so that a tiny lake cannot produce absurd rates.
        hours = float(max(slots.count(), 1))
        days = slots.select("event_date").distinct().count()
        baselines = cell_baselines(events, hours, days).cache()
        log.info("nightly 3/4: writing serving tables to PostgreSQL")
        _write_postgres(counts, settings, "daily_counts")
        _write_postgres(baselines, settings, "cell_baselines")
        log.info("nightly 4/4: writing baselines and the hour profile to the lake")
        folder = settings.lake_table("baselines")
        baselines.coalesce(1).write.mode("overwrite").parquet(str(folder / "cell_baselines.parquet"))
        hour_profile(events, slots).coalesce(1).write.mode("overwrite").parquet(
            str(folder / "hour_profile.parquet"))
        return NightlyReport(
            events=n_events,
            days=days,
            daily_count_rows=counts.count(),
            baseline_rows=baselines.count(),
            observed_hours=round(hours, 3),
        )
    finally:
        spark.stop()
