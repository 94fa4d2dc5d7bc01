"""Create the Spark session of the nightly jobs.

``local[2]`` by default (config ``spark.master``); on a cluster the same job
runs under ``spark-submit`` and the master comes from there
(``ZONGZHI_SPARK_MASTER`` overrides the file).
"""
from __future__ import annotations

import os
import sys

from pipelines.flink_env import connector_jars
from pipelines.settings import Settings

__all__ = ["spark_session"]


def spark_session(settings: Settings, app_name: str):
    from pyspark.sql import SparkSession

    spark_cfg = settings.raw["spark"]
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    # Spark binds to loopback only: no traffic leaves the machine.
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    jdbc_driver = [str(p) for p in connector_jars(settings) if p.name.startswith("postgresql-")]
    builder = (
        SparkSession.builder.appName(app_name)
        .master(os.environ.get("ZONGZHI_SPARK_MASTER") or spark_cfg["master"])
        .config("spark.sql.shuffle.partitions", str(spark_cfg["shuffle_partitions"]))
        .config("spark.driver.memory", spark_cfg["driver_memory"])
        .config("spark.jars", ",".join(jdbc_driver))
        .config("spark.sql.session.timeZone", settings.contract["timezone"])
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.sources.partitionColumnTypeInference.enabled", "false")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
    )
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("WARN")
    return spark
