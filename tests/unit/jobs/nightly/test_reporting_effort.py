import pandas as pd
import pytest

from jobs.nightly.reporting_effort import reporting_effort

# Town T: cells a, b, c; two grid categories and one hotline category.
COUNTS = pd.DataFrame(
    {
        "cell_id": ["a", "a", "a", "b", "b", "b", "c", "c", "c"],
        "town_code": "T",
        "category": ["public_order.fight", "environment.burning", "hotline.transport"] * 3,
        "events": [1, 8, 3, 0, 2, 0, 0, 0, 0],
    }
)


def test_effort_leaves_the_category_out_and_averages_one_per_town():
    table = reporting_effort(COUNTS, prior_events=4.0)
    # fight: others (burning) per cell 8, 2, 0 -> town mean 10/3.
    fight = table[table["category"] == "public_order.fight"]["effort"].tolist()
    assert fight == pytest.approx(
        [(8 + 4) / (10 / 3 + 4), (2 + 4) / (10 / 3 + 4), 4 / (10 / 3 + 4)]
    )
    # burning: others (fight) 1, 0, 0 -> mean 1/3.
    burning = table[table["category"] == "environment.burning"]["effort"].tolist()
    assert burning == pytest.approx([5 / (1 / 3 + 4), 4 / (1 / 3 + 4), 4 / (1 / 3 + 4)])
    # The hotline is alone in its channel here: no other category, effort 1.
    assert table[table["category"] == "hotline.transport"]["effort"].tolist() == [1.0] * 3
    assert table.groupby("category")["effort"].mean().tolist() == pytest.approx([1.0] * 3)
    assert table["unseen_effort"].tolist()[:3] == pytest.approx(
        [4 / (10 / 3 + 4), 4 / (1 / 3 + 4), 1.0]
    )
    assert table["source"].tolist()[:3] == ["grid", "grid", "hotline"]


def test_towns_are_separate():
    other = COUNTS.assign(
        town_code="U", cell_id=COUNTS["cell_id"] + "2", events=COUNTS["events"] * 0
    )
    table = reporting_effort(pd.concat([COUNTS, other], ignore_index=True), prior_events=4.0)
    assert table[table["town_code"] == "U"]["effort"].tolist() == [1.0] * 9
    assert table[table["town_code"] == "T"]["effort"].tolist() == pytest.approx(
        reporting_effort(COUNTS, 4.0)["effort"].tolist()
    )


def test_input_is_not_modified():
    before = COUNTS.copy()
    reporting_effort(COUNTS, 1.0)
    pd.testing.assert_frame_equal(COUNTS, before)


@pytest.mark.parametrize(
    "frame, prior, message",
    [
        (COUNTS.drop(columns="town_code"), 1.0, "counts lacks the column.s. town_code"),
        (COUNTS, 0.0, r"prior_events=0.0 must be a finite number > 0"),
        (COUNTS.assign(events=-1), 1.0, r"cell 'a', category 'public_order.fight' has events=-1"),
    ],
)
def test_bad_input_is_named(frame, prior, message):
    with pytest.raises(ValueError, match=message):
        reporting_effort(frame, prior)
