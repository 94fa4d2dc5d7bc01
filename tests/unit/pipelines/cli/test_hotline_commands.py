"""``zongzhi train classifier`` and ``zongzhi classify`` end to end, on files in a temporary folder."""

import json

import pandas as pd
import pytest

from pipelines.cli import main

from ...hotline_corpus import WORDS


@pytest.fixture
def trained(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("ZONGZHI_VAR", str(tmp_path / "var"))
    data = tmp_path / "data"
    data.mkdir()
    rows = [
        {"留言主题": w, "留言详情": f"{w}{words[(i + 1) % 5]}", "一级分类": label}
        for label, words in WORDS.items()
        for i, w in enumerate(words)
    ]
    pd.DataFrame(rows).to_excel(data / "labelled_messages_fujian2.xlsx", index=False)
    assert main(["train", "classifier", "--data", str(data), "--json"]) == 0
    card = json.loads(capsys.readouterr().out)
    return tmp_path, card


def test_train_writes_a_versioned_router_with_its_card(trained):
    tmp_path, card = trained
    assert card["artifact"] == str(tmp_path / "var" / "models" / "hotline_router")
    assert card["version"].startswith("hr1-") and card["data"]["rows"] == 35
    assert sorted(card["labels"]) == sorted(WORDS)
    assert 0 <= card["metrics"]["macro_f1"] <= 1


def test_classify_gives_each_row_its_class_department_and_flag(trained, capsys):
    tmp_path, card = trained
    messages = tmp_path / "messages.csv"
    messages.write_text(
        "编号,主题,内容\n1,公交,公交地铁\n2,a,b,c\n3,,\n4,School,the school is closed\n",
        encoding="utf-8",
    )
    args = ["classify", str(messages), "--text-col", "内容", "--title-col", "主题", "--json"]
    assert main(args) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["model"]["version"] == card["version"]
    first, other = out["rows"]
    assert (first["label"], first["category"], first["department"]) == (
        "交通运输",
        "hotline.transport",
        "城管",
    )
    assert other["flag_reason"] == "not Chinese"
    summary = out["summary"]
    assert summary["rows_read"] == 3 and summary["broken_rows"] == 2


def test_classify_names_a_missing_column_and_exits_2(trained, capsys):
    tmp_path, _ = trained
    messages = tmp_path / "messages.csv"
    messages.write_text("id,body\n1,路灯不亮\n", encoding="utf-8")
    assert main(["classify", str(messages), "--text-col", "内容"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"zongzhi: {messages}: no column '内容'; its columns are 'id', 'body'"]


def test_classify_without_a_router_says_what_to_run(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("ZONGZHI_VAR", str(tmp_path / "var"))
    messages = tmp_path / "messages.csv"
    messages.write_text("body\n路灯不亮\n", encoding="utf-8")
    assert main(["classify", str(messages), "--text-col", "body"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "run `zongzhi train classifier`" in err[0]


def test_replies_reports_response_times_and_units(tmp_path, capsys):
    answered = tmp_path / "answered.csv"
    answered.write_text(
        "留言时间,答复时间,答复意见\n2019/4/25 9:00,2019/4/26 9:00,已转区住房和城乡建设局办理\n",
        encoding="utf-8",
    )
    assert main(["replies", str(answered), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["response_time"]["quantile_hours"]["p50"] == 24.0
    assert report["units"][0]["unit"] == "住房和城乡建设"
    assert report["weak_labels"] == {"城乡建设": 1}


def test_replies_names_a_missing_column_and_exits_2(tmp_path, capsys):
    answered = tmp_path / "answered.csv"
    answered.write_text("留言时间,答复意见\n2019/4/25 9:00,好\n", encoding="utf-8")
    assert main(["replies", str(answered)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no column '答复时间'" in err[0]


def test_replies_publishes_nothing_from_a_file_with_no_answered_message(tmp_path, capsys):
    answered = tmp_path / "answered.csv"
    answered.write_text("留言时间,答复时间,答复意见\n2019/4/25 9:00,,\n", encoding="utf-8")
    assert main(["replies", str(answered), "--publish"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "has no answered message to publish" in err[0]


def test_hot_issues_names_a_missing_column_and_exits_2(tmp_path, capsys):
    messages = tmp_path / "voted.csv"
    messages.write_text("留言编号,留言主题\n1,路灯不亮\n", encoding="utf-8")
    assert main(["hot-issues", str(messages)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no column '留言用户', '留言详情', '留言时间'" in err[0]


def test_hot_issues_reads_columns_named_on_the_command_line(tmp_path, capsys):
    messages = tmp_path / "voted.csv"
    messages.write_text(
        "no,who,subject,text,at,up,down\n1,a,路灯不亮,东山路,2019/4/25 9:00,2,0\n",
        encoding="utf-8",
    )
    args = ["hot-issues", str(messages), "--id-col", "no", "--user-col", "who"]
    args += ["--title-col", "subject", "--body-col", "text", "--time-col", "at"]
    args += ["--likes-col", "up", "--dislikes-col", "down", "--top", "1", "--json"]
    assert main(args) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["messages"] == 1
    assert report["issues"][0]["items"] == [
        {"id": "1", "title": "路灯不亮", "time": "2019-04-25T09:00:00", "likes": 2}
    ]


def test_classify_with_a_router_whose_classes_are_not_mapped_says_so(trained, capsys):
    tmp_path, card = trained
    card_path = tmp_path / "var" / "models" / "hotline_router" / "card.json"
    stored = json.loads(card_path.read_text(encoding="utf-8"))
    card_path.write_text(json.dumps({**stored, "labels": [*stored["labels"], "其他"]}))
    messages = tmp_path / "messages.csv"
    messages.write_text("body\n路灯不亮\n", encoding="utf-8")
    assert main(["classify", str(messages), "--text-col", "body"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "predicts ['其他'], which" in err[0]
