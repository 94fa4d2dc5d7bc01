"""Create the Spark session of the nightly jobs.

``local[2]`` by default (config ``spark.master``); on a cluster the same job
runs under ``spark-submit`` and the master comes from there
(``ZONGZHI_SPARK_MASTER`` overrides the file).
"""

from __future__ import annotations

import os
import sys

from features.local_time import DISTRICT_TZ_NAME
from pipelines.io.flink import connector_jars
from pipelines.settings import Settings

__all__ = ["spark_session", "Exchange"]


def spark_session(settings: Settings, app_name: str):
    """The nightly jobs' Spark session, bound to loopback, with the JDBC driver on its classpath."""
    from pyspark.sql import SparkSession

    spark_cfg = settings.section("spark")
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
        .config("spark.sql.session.timeZone", DISTRICT_TZ_NAME)
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.sources.partitionColumnTypeInference.enabled", "false")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
    )
    if settings.jit_options:
        # Read when spark-submit starts the driver's JVM (local mode: it is the
        # executor too); with the JVM already up, it would change nothing.
        builder = builder.config("spark.driver.extraJavaOptions", settings.jit_options)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("WARN")
    return spark


class Exchange:
    """Frames between Spark and pandas through Parquet files in a scratch folder.

    Without Arrow (PySpark's path needs pyarrow >= 18, and Flink's Beam pins
    pyarrow below 17 in this venv), ``toPandas`` and ``createDataFrame``
    move rows one at a time through Python: seconds per 100,000 rows. Spark
    writing Parquet and pyarrow reading it (or the other way round) costs
    a fraction of that at any size.
    """

    def __init__(self, spark, folder):
        import shutil
        from pathlib import Path

        self.spark = spark
        self.folder = Path(folder)
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder.mkdir(parents=True)
        self._n = 0

    def _path(self):
        self._n += 1
        return str(self.folder / f"frame-{self._n}")

    def to_pandas(self, frame):
        """``frame.toPandas()``, through Parquet; array columns hold lists, as there."""
        import pandas as pd
        import pyarrow as pa
        import pyarrow.parquet as pq

        path = self._path()
        frame.write.parquet(path)
        table = pq.read_table(path)
        if not table.num_columns:
            return pd.DataFrame(columns=frame.columns)
        lists = [
            f.name
            for f in table.schema
            if pa.types.is_list(f.type) or pa.types.is_large_list(f.type)
        ]
        out = table.drop_columns(lists).to_pandas()
        for name in lists:
            out[name] = pd.Series(table.column(name).to_pylist(), dtype=object)
        return out[frame.columns]

    def to_spark(self, frame):
        """``spark.createDataFrame(frame)``, through Parquet.

        A pandas column of object dtype with no values (every text column of
        an empty frame) has no type in Arrow; Parquet stores it as the null
        type, which Spark reads as integer, and a serving table made from it
        would then refuse text. Such a column is written as strings.
        """
        import pyarrow as pa
        import pyarrow.parquet as pq

        path = self._path()
        os.makedirs(path)
        table = pa.Table.from_pandas(frame, preserve_index=False)
        for i, column in enumerate(table.schema):
            if pa.types.is_null(column.type):
                table = table.set_column(i, column.name, table.column(i).cast(pa.string()))
        pq.write_table(table, f"{path}/part-0.parquet")
        return self.spark.read.parquet(path)

    def close(self):
        """Remove the exchange folder."""
        import shutil

        shutil.rmtree(self.folder, ignore_errors=True)
