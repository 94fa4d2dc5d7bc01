import pandas as pd

from models.hotline_routing import HotlineRouter
from pipelines.harness.classify_run import classify_messages

from ...hotline_corpus import LABELS, TEXTS

CATEGORIES = {"城乡建设": "hotline.urban_rural_construction", "卫生计生": "hotline.health"}
DEPARTMENTS = {"hotline.urban_rural_construction": "城管", "hotline.health": "卫生"}


def _classify(frame: pd.DataFrame, threshold: float = 0.0, title_col: str | None = "subject"):
    router = HotlineRouter(calibration_folds=2, threshold=threshold).fit(TEXTS, LABELS)
    return classify_messages(
        router,
        frame,
        text_col="text",
        title_col=title_col,
        categories=CATEGORIES,
        departments=DEPARTMENTS,
        title_weight=2,
        min_chinese_share=0.3,
    )


def test_each_message_gets_its_class_category_and_department():
    frame = pd.DataFrame({"subject": ["物业乱收费", None], "text": ["<p>小区物业</p>", "医院医生"]})
    result = _classify(frame)
    assert [(r["row"], r["label"], r["category"], r["department"]) for r in result["rows"]] == [
        (1, "城乡建设", "hotline.urban_rural_construction", "城管"),
        (2, "卫生计生", "hotline.health", "卫生"),
    ]
    assert all(0 < r["probability"] <= 1 and not r["flagged"] for r in result["rows"])
    summary = result["summary"]
    assert (summary["rows_read"], summary["routed"], summary["flagged"]) == (2, 2, 0)
    assert summary["by_department"] == {"城管": 1, "卫生": 1}
    assert summary["messages_per_s"] > 0


def test_empty_messages_are_broken_rows_and_other_languages_are_flagged():
    frame = pd.DataFrame(
        {
            "subject": ["", None, "Bus", "路灯"],
            "text": ["\n\t\t\t", "<br>&nbsp;", "the bus is late again", "不亮\n\t\t"],
        }
    )
    frame.attrs["broken_lines"] = [{"reason": "5 fields, not the header's", "text": "a,b,c,d,e"}]
    result = _classify(frame)
    summary = result["summary"]
    assert summary["broken_rows"] == 3
    assert summary["broken_examples"][1:] == [
        {"row": 1, "reason": "empty text"},
        {"row": 2, "reason": "empty text"},
    ]
    flagged = {r["row"]: r["flag_reason"] for r in result["rows"] if r["flagged"]}
    assert flagged == {3: "not Chinese"}
    assert [r["row"] for r in result["rows"]] == [3, 4]


def test_a_message_below_the_threshold_is_flagged_for_a_dispatcher():
    frame = pd.DataFrame({"text": ["物业", "今天天气"]})
    result = _classify(frame, threshold=0.999, title_col=None)
    assert [r["flag_reason"] for r in result["rows"]] == ["low confidence"] * 2
    assert result["summary"]["flagged_by_reason"] == {"low confidence": 2}
    assert result["summary"]["threshold"] == 0.999
