"""Frames between Spark and pandas keep their column types, even with no rows."""

from __future__ import annotations

import pandas as pd
import pytest
from pyspark.sql.types import BooleanType, DoubleType, LongType, StringType

from pipelines.io.spark import Exchange, spark_session

from .conftest import district_settings

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def exchange(tmp_path_factory):
    spark = spark_session(district_settings(), "test-exchange")
    yield Exchange(spark, tmp_path_factory.mktemp("exchange"))
    spark.stop()


def test_an_empty_frame_keeps_its_types_both_ways(exchange):
    frame = exchange.spark.range(3).selectExpr(
        "cast(id AS string) AS vehicle", "id AS reads", "id > 1 AS companion", "id / 2 AS lift"
    )
    empty = exchange.to_pandas(frame.where("reads > 10"))
    assert len(empty) == 0 and list(empty.columns) == frame.columns
    back = exchange.to_spark(empty.assign(as_of="2026-11-03"))
    assert [f.dataType for f in back.schema.fields] == [
        StringType(),
        LongType(),
        BooleanType(),
        DoubleType(),
        StringType(),
    ]


def test_a_text_column_without_values_reaches_spark_as_text(exchange):
    frame = pd.DataFrame({"reason": [None, None], "detail": ["甲", None], "plates": [1, 2]})
    back = exchange.to_spark(frame)
    assert [f.dataType for f in back.schema.fields] == [StringType(), StringType(), LongType()]
    assert sorted(back.collect(), key=lambda r: r.plates) == [(None, "甲", 1), (None, None, 2)]
