import pandas as pd
import pyarrow as pa
import pytest

from features.baseline_schema import CELL_BASELINES_SCHEMA, WEEK_PROFILE_SCHEMA, as_arrow
from jobs.nightly.cell_rates import CELL_RATE_COLUMNS


def test_cell_table_columns_are_the_contract():
    assert tuple(CELL_BASELINES_SCHEMA.names) == CELL_RATE_COLUMNS


def test_types_are_cast_to_the_contract():
    frame = pd.DataFrame(
        {"source": ["grid"], "hour_of_week": [5], "factor": [1.0], "events": [3], "slots": [2]}
    )
    table = as_arrow(frame, WEEK_PROFILE_SCHEMA)
    assert table.schema.field("hour_of_week").type == pa.int32()
    assert table.column("events").type == pa.int64()


def test_missing_columns_are_named():
    with pytest.raises(ValueError, match="the table lacks the column.s. factor, slots"):
        as_arrow(
            pd.DataFrame({"source": ["grid"], "hour_of_week": [5], "events": [3]}),
            WEEK_PROFILE_SCHEMA,
        )
