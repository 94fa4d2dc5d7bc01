"""Tests for features.dead_letter: routing to the normalized or dead-letter topic.

The ``ctx`` and ``grid_event`` fixtures are in ``conftest.py``.
"""

from __future__ import annotations

import copy
import json

from features.dead_letter import DEAD_LETTER, NORMALIZED, dead_letter_record, route_raw_record
from features.pseudonymize import pseudonymize
from features.record_pseudonyms import event_token

from .contract_reference import KEY, NOW_MS

# What the grid_event fixture carries in clear.
CLEAR = ("张伟", "11010519491231002X", "13800138000", "京A12345", "13912345678")


def route(raw, ctx, offset=9):
    return route_raw_record(
        raw, ctx, NOW_MS, channel="grid", topic="zz.raw.grid", partition=1, offset=offset
    )


def test_route_normalizes_or_dead_letters_without_raising(ctx, grid_event):
    destination, key, value = route(json.dumps(grid_event), ctx, offset=5)
    # The record key is the event id's token, the id itself is nowhere.
    assert (destination, key) == (NORMALIZED, event_token("grid-1", KEY))
    assert json.loads(value)["event_id"] == key
    assert "grid-1" not in value

    broken = json.dumps(grid_event)[:-40]
    destination, key, value = route(broken, ctx)
    letter = json.loads(value)
    assert (destination, key) == (DEAD_LETTER, "zz.raw.grid-1-9")
    assert letter["reason_code"] == "invalid_json"
    assert (letter["topic"], letter["partition"], letter["offset"]) == ("zz.raw.grid", 1, 9)
    # The dead letter keeps the record, with identifiers pseudonymized.
    assert "11010519491231002X" not in letter["raw_scrubbed"]
    assert pseudonymize("11010519491231002X", "id_number", KEY) in letter["raw_scrubbed"]

    destination, _, value = route_raw_record(None, ctx, NOW_MS, channel="grid")
    assert destination == DEAD_LETTER
    assert json.loads(value)["reason"] == "record has no value"


def test_a_refused_envelope_keeps_no_identifier_in_its_text(ctx, grid_event):
    event = copy.deepcopy(grid_event)
    event["location"]["lon"] = 0.0  # outside the district
    event["persons"][0]["role"] = "张伟的哥哥"
    event["attributes"]["张伟的电话"] = "找张伟"
    destination, _, value = route(json.dumps(event), ctx)  # \\u-escaped by json.dumps
    letter = json.loads(value)
    assert (destination, letter["reason_code"]) == (DEAD_LETTER, "outside_district")
    raw = json.loads(letter["raw_scrubbed"])
    assert raw["event_id"] == event_token("grid-1", KEY)
    name = pseudonymize("张伟", "name", KEY)
    assert raw["persons"] == [
        {
            "role": "other",
            "name": name,
            "id_number": pseudonymize("11010519491231002X", "id_number", KEY),
            "phone": pseudonymize("13800138000", "phone", KEY),
        }
    ]
    assert raw["attributes"][f"{name}的电话"] == f"找{name}"
    assert raw["attributes"]["description"] == (
        "两人在市场门口争吵, 联系电话" + pseudonymize("13912345678", "phone", KEY)
    )
    for clear in (*CLEAR, "grid-1"):
        assert clear not in value


def test_truncated_json_with_escaped_names_keeps_no_identifier(ctx, grid_event):
    text = json.dumps(grid_event)  # names and text as \\uXXXX escapes
    assert "\\u5f20\\u4f1f" in text
    for cut in range(len(text) - 1, 0, -7):
        _, _, value = route(text[:cut], ctx)
        letter = json.loads(value)
        assert letter["reason_code"] == "invalid_json"
        for clear in CLEAR:
            assert clear not in letter["raw_scrubbed"]


def test_the_reason_quotes_no_identifier(ctx, grid_event):
    event = copy.deepcopy(grid_event)
    event["persons"][0]["phone"] = "一三八零零一三八零零零"  # no ASCII digit to canonicalize
    _, _, value = route(json.dumps(event, ensure_ascii=False), ctx)
    letter = json.loads(value)
    assert letter["reason_code"] == "bad_value"
    assert letter["reason"].startswith("field 'persons[0].phone': value='")
    assert pseudonymize("13800138000", "phone", KEY) in letter["reason"]
    for clear in (*CLEAR, "一三八零零一三八零零零"):
        assert clear not in value


def test_a_phone_sent_as_a_number_is_scrubbed(ctx, grid_event):
    event = copy.deepcopy(grid_event)
    event["persons"][0]["phone"] = 13800138000
    _, _, value = route(json.dumps(event), ctx)
    letter = json.loads(value)
    assert letter["reason_code"] == "wrong_type"
    raw = json.loads(letter["raw_scrubbed"])
    assert raw["persons"][0]["phone"] == pseudonymize("13800138000", "phone", KEY)


def test_text_that_cannot_be_encoded_is_replaced():
    letter = dead_letter_record(
        "\ud800电话13800138000",
        "invalid_json",
        "bad \udfff",
        channel="grid",
        topic="t",
        partition=0,
        offset=1,
        key=KEY,
        now_ms=NOW_MS,
    )
    # The kept text is cut and decoded first: a lone surrogate's three bytes
    # become three U+FFFD (features.record_limits.kept_raw_text).
    assert letter["raw_scrubbed"] == "\ufffd" * 3 + "电话" + pseudonymize(
        "13800138000", "phone", KEY
    )
    assert letter["reason"] == "bad " + "\ufffd" * 3
    json.dumps(letter, ensure_ascii=False).encode("utf-8")


def test_deeply_nested_json_is_scrubbed_as_text(ctx):
    raw = "[" * 100_000 + '"13800138000"' + "]" * 100_000
    destination, _, value = route(raw, ctx)
    assert destination == DEAD_LETTER
    assert "13800138000" not in value


def test_a_truncated_record_keeps_its_event_id_only_as_its_token(ctx, grid_event):
    _, _, value = route(json.dumps(grid_event)[:-40], ctx)
    raw = json.loads(value)["raw_scrubbed"]
    assert '"event_id": "' + event_token("grid-1", KEY) + '"' in raw
    assert "grid-1" not in raw


def test_identifiers_nested_anywhere_in_a_refused_record_are_known(ctx):
    raw = json.dumps([{"who": {"name": "欧阳娜娜", "phone": "139-1234-5678"}}, "欧阳娜娜来电"])
    _, _, value = route(raw, ctx)
    name = pseudonymize("欧阳娜娜", "name", KEY)
    assert json.loads(json.loads(value)["raw_scrubbed"]) == [
        {"who": {"name": name, "phone": pseudonymize("13912345678", "phone", KEY)}},
        f"{name}来电",
    ]


def test_a_reason_quoting_a_bad_category_holds_no_identifier(ctx, grid_event):
    event = copy.deepcopy(grid_event)
    event["category"] = "电话13800138000"
    _, _, value = route(json.dumps(event), ctx)
    letter = json.loads(value)
    assert letter["reason_code"] == "unknown_category"
    assert letter["reason"].startswith(
        "category='电话" + pseudonymize("13800138000", "phone", KEY) + "' is not in the taxonomy"
    )
