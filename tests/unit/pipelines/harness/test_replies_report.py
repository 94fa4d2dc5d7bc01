import pandas as pd

from features.reply_units import ReplyUnit
from pipelines.harness.replies_report import replies_report

UNITS = (
    ReplyUnit("交通运输", ("交通运输局",), "交通运输"),
    ReplyUnit("街道和乡镇", ("街道",), None),
)


def test_times_units_and_weak_labels_of_answered_messages():
    frame = pd.DataFrame(
        {
            "asked": ["2018/1/1 8:00", "2019/1/1 8:00", "2019/1/2 8:00", "bad"],
            "answered": ["2018/1/2 8:00", "2019/1/4 8:00", "2019/1/1 8:00", "2019/1/5"],
            "reply": ["已转市交通运输局", "街道会同交通运输局处理", "街道已处理", None],
        }
    )
    report = replies_report(
        frame, UNITS, asked_col="asked", answered_col="answered", reply_col="reply"
    )
    assert report["rows_read"] == 4 and report["broken_rows"] == 2
    assert report["broken_by_reason"] == {"reply before message": 1, "unreadable time": 1}
    assert report["response_time"]["responses"] == 2
    assert report["response_time"]["quantile_hours"]["p50"] == 48.0
    assert report["response_time_by_year"]["2018"]["responses"] == 1
    assert report["response_time_by_year"]["2019"]["median_days"] == 3.0
    assert report["units"] == [
        {"unit": "交通运输", "class": "交通运输", "replies": 2, "share": 0.5},
        {"unit": "街道和乡镇", "class": None, "replies": 2, "share": 0.5},
    ]
    # The second reply names the street office first, then the bureau: the bureau labels it.
    assert report["weak_labels"] == {"交通运输": 2}
    assert report["replies_without_weak_label"] == 2
    assert report["replies_naming_no_unit"] == 1
