"""Tests for features.record_pseudonyms, through the normalized record.

The ``ctx`` and ``grid_event`` fixtures are in ``conftest.py``.
"""

from __future__ import annotations

import json

from features.normalization import normalize_event

from .contract_reference import NOW_MS, token


def test_personal_data_is_replaced_by_keyed_hashes(ctx, grid_event):
    out = normalize_event(grid_event, ctx, NOW_MS)
    person = out["persons"][0]
    assert person["id_hash"] == "pid_" + token("id_number", "11010519491231002X")
    assert person["phone_hash"] == "tel_" + token("phone", "13800138000")
    assert person["name_hash"] == "nam_" + token("name", "张伟")
    assert out["vehicles"][0]["plate_hash"] == "veh_" + token("plate", "京A12345")
    text = json.dumps(out, ensure_ascii=False)
    for clear in ("11010519491231002X", "13800138000", "张伟", "京A12345", "13912345678"):
        assert clear not in text
    assert out["attributes"]["description"].startswith("两人在市场门口争吵, 联系电话tel_")


def test_misread_plates_share_match_keys_but_not_their_token(ctx, grid_event):
    def vehicle(plate):
        event = json.loads(json.dumps(grid_event))
        event["vehicles"] = [{"role": "involved", "plate": plate}]
        return normalize_event(event, ctx, NOW_MS)["vehicles"][0]

    true, confused, no_province, dropped = (
        vehicle(p) for p in ("京A12345", "京AI2345", "A12345", "京A1245")
    )
    assert true["plate_hash"] != confused["plate_hash"]
    assert true["plate_fold_hash"] == confused["plate_fold_hash"]
    assert true["plate_tail_hash"] == no_province["plate_tail_hash"]
    assert dropped["plate_fold_hash"] in true["plate_deletion_hashes"]
    assert len(true["plate_deletion_hashes"]) == 6
    unreadable = vehicle("京A1?")
    assert unreadable["plate_readable"] is False and "plate_fold_hash" not in unreadable
    text = json.dumps([true, confused, dropped], ensure_ascii=False)
    for clear in ("京A12345", "A12345", "京A1245", "12345"):
        assert clear not in text


def test_persons_carry_match_keys_for_typed_names_and_phones(ctx, grid_event):
    def person(name, phone):
        event = json.loads(json.dumps(grid_event))
        event["persons"] = [{"role": "party", "name": name, "phone": phone}]
        return normalize_event(event, ctx, NOW_MS)["persons"][0]

    a, b = person("张伟", "13800138000"), person("张玮", "13800139000")
    assert a["name_hash"] != b["name_hash"] and a["phone_hash"] != b["phone_hash"]
    assert a["name_sound_hash"] == b["name_sound_hash"]
    assert len(set(a["phone_deletion_hashes"]) & set(b["phone_deletion_hashes"])) == 1
    assert "zhang" not in json.dumps(a)
