"""The router's cross-validation on the real labelled messages (one fixed setting, to stay fast)."""

from pathlib import Path

import pytest

from pipelines.harness.classifier_eval import evaluate_router
from pipelines.io.hotline_messages import read_labelled

from ...hotline_corpus import labelled_messages

TEDDY = Path(__file__).resolve().parents[4] / ".." / "shared" / "data" / "hotline_teddy2020"


@pytest.mark.skipif(
    not TEDDY.is_dir(),
    reason=f"reference data {TEDDY} is absent (it exists in CI, not in a user's clone)",
)
def test_cross_validation_on_the_495_labelled_messages():
    messages = read_labelled(TEDDY)
    assert len(messages) == 495 and messages["label"].nunique() == 7
    report = evaluate_router(
        messages, folds=5, inner_folds=2, grid={"ngram_range": [(1, 2)], "C": [1.0]}
    )
    # Above the reference for a character n-gram SVM (0.73), short of the goal.
    assert 0.78 <= report["macro_f1"] < report["goal_macro_f1"]
    matrix = report["confusion_matrix"]["rows_true_columns_predicted"]
    assert sum(map(sum, matrix)) == 495
    assert [sum(row) for row in matrix] == [55, 104, 58, 48, 101, 96, 33]
    flagging = report["flagging"]
    assert flagging["routed_error_rate"] <= 0.05
    assert flagging["routed_share"] + flagging["flagged_share"] == pytest.approx(1.0)


PARAMS = {"ngram_range": [1, 2], "C": 1.0, "title_weight": 2}


def test_the_learning_curve_trains_on_growing_shares_of_each_fold():
    from pipelines.harness.classifier_eval import learning_curve

    points = learning_curve(labelled_messages(10), PARAMS, fractions=(0.4, 1.0), folds=2)
    assert [p["fraction"] for p in points] == [0.4, 1.0]
    assert [p["training_messages"] for p in points] == [6, 15]
    assert points[-1]["macro_f1"] == 1.0


def test_weak_labels_join_the_training_folds_only_and_overlaps_are_dropped():
    import pandas as pd

    from features.reply_units import ReplyUnit
    from pipelines.harness.classifier_eval import weak_label_ablation, weak_labelled

    labelled = labelled_messages(6)
    units = (ReplyUnit("教育", ("教育局",), "教育文体"), ReplyUnit("街道", ("街道",), None))
    replied = pd.DataFrame(
        {
            "title": ["补课费太高", labelled["title"][0], "招生不公", "噪音"],
            "body": ["补课老师", "x", "招生学校", "噪音"],
            "reply": ["已转教育局", "教育局回复", "街道会同教育局", "街道处理"],
        }
    )
    weak = weak_labelled(replied, units, labelled)
    # The second repeats a labelled subject, the fourth names no unit with a class.
    assert weak.to_dict("records") == [
        {"title": "补课费太高", "body": "补课老师", "label": "教育文体"},
        {"title": "招生不公", "body": "招生学校", "label": "教育文体"},
    ]
    report = weak_label_ablation(labelled, weak, PARAMS, weights=(0.5,), folds=2)
    assert report["weak_messages"] == 2 and report["weak_by_label"] == {"教育文体": 2}
    assert set(report["macro_f1_by_weight"]) == {"0.0", "0.5"}
    assert all(0 < f <= 1 for f in report["macro_f1_by_weight"].values())


def test_self_training_adds_only_what_the_router_is_sure_of():
    import pandas as pd

    from pipelines.harness.classifier_eval import self_training_ablation

    labelled = labelled_messages(6)
    unlabelled = pd.DataFrame(
        {"title": ["学校补课老师", "医院医生", "", "zzz"], "body": ["招生", "护士", "", "qqq"]}
    )
    report = self_training_ablation(
        labelled, unlabelled, PARAMS, min_probabilities=(0.0, 1.01), folds=2
    )
    # The empty message is dropped; everything is taken at 0, nothing above 1.
    assert report["unlabelled_messages"] == 3
    assert report["pseudo_labelled_per_fold"] == {"0.0": [3, 3], "1.01": [0, 0]}
    scores = report["macro_f1_by_min_probability"]
    assert set(scores) == {"none", "0.0", "1.01"} and scores["1.01"] == scores["none"]
