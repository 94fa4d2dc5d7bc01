"""Bad input to `zongzhi report` and `zongzhi notebook` is one line naming the value."""

from __future__ import annotations

import pytest

from features.cell_grid import CellGrid
from features.district import District, Town
from pipelines.errors import UsageError
from pipelines.harness.notebooks import checked_town, run_notebook
from pipelines.settings import load_settings

DISTRICT = District(
    "110118",
    "密云区",
    (
        Town("110118001", "鼓楼街道", "街道", 116.8, 40.4),
        Town("110118002", "果园街道", "街道", 116.8, 40.4),
    ),
    (),
    (),
    CellGrid(116.5, 40.1, 1000),
    9000,
)


def test_a_known_town_or_the_district_passes():
    assert checked_town(DISTRICT, "110118002") == "110118002"
    assert checked_town(DISTRICT, None) is None


def test_an_unknown_town_names_the_value_and_what_is_allowed():
    with pytest.raises(
        UsageError,
        match=r"--town '999' is not a town of 密云区; allowed: one of 110118001, 110118002",
    ):
        checked_town(DISTRICT, "999")


def test_an_unknown_notebook_is_refused(tmp_path):
    with pytest.raises(
        UsageError, match="notebook 'nope' is not one of: monthly_report, trend_analysis"
    ):
        run_notebook(load_settings(), "nope", tmp_path, {}, "nope")
