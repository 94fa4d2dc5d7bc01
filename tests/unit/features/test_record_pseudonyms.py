"""Tests for features.record_pseudonyms, through the normalized record.

The ``ctx`` and ``grid_event`` fixtures are in ``conftest.py``.
"""

from __future__ import annotations

import copy
import json

import pytest

from features.normalization import normalize_event
from features.pseudonymize import pseudonymize
from features.record_pseudonyms import CHANNEL_ATTRIBUTES, REQUIRED_ATTRIBUTES, event_token
from features.roles import OTHER_ROLE, PERSON_ROLES, VEHICLE_ROLES

from .contract_reference import KEY, NOW_MS


def test_personal_data_is_replaced_by_keyed_hashes(ctx, grid_event):
    out = normalize_event(grid_event, ctx, NOW_MS)
    person = out["persons"][0]
    assert person["id_hash"] == pseudonymize("11010519491231002X", "id_number", KEY)
    assert person["phone_hash"] == pseudonymize("13800138000", "phone", KEY)
    assert person["name_hash"] == pseudonymize("张伟", "name", KEY)
    assert out["vehicles"][0]["plate_hash"] == pseudonymize("京A12345", "plate", KEY)
    text = json.dumps(out, ensure_ascii=False)
    for clear in ("11010519491231002X", "13800138000", "张伟", "京A12345", "13912345678"):
        assert clear not in text
    assert out["attributes"]["description"] == (
        "两人在市场门口争吵, 联系电话" + pseudonymize("13912345678", "phone", KEY)
    )


def test_the_record_own_names_and_numbers_are_scrubbed_from_its_text(ctx, grid_event):
    event = copy.deepcopy(grid_event)
    event["persons"].append({"role": "witness", "name": "欧阳娜娜", "phone": "139 1234 5678"})
    event["attributes"]["description"] = (
        "张伟与欧阳 娜娜争吵，张伟称其电话是１３９－１２３４－５６７８，车牌京A·12345。"
    )
    out = normalize_event(event, ctx, NOW_MS)
    zhang, ouyang = (pseudonymize(n, "name", KEY) for n in ("张伟", "欧阳娜娜"))
    assert out["attributes"]["description"] == (
        f"{zhang}与{ouyang}争吵，{zhang}称其电话是"
        + pseudonymize("13912345678", "phone", KEY)
        + "，车牌"
        + pseudonymize("京A12345", "plate", KEY)
        + "。"
    )
    assert [p["name_hash"] for p in out["persons"]] == [zhang, ouyang]


def test_the_event_id_leaves_as_a_stable_keyed_token(ctx, grid_event):
    event = copy.deepcopy(grid_event)
    event["event_id"] = " grid-13800138000-7 "
    out = normalize_event(event, ctx, NOW_MS)
    assert out["event_id"] == event_token("grid-13800138000-7", KEY)
    # A replay of the event gets the same token; another event another one.
    assert normalize_event(copy.deepcopy(event), ctx, NOW_MS)["event_id"] == out["event_id"]
    assert out["event_id"] != normalize_event(grid_event, ctx, NOW_MS)["event_id"]
    assert "grid-" not in json.dumps(out) and "13800138000" not in json.dumps(out)


@pytest.mark.parametrize(
    ("given", "person", "vehicle"),
    [
        ("party", "party", OTHER_ROLE),
        ("suspect", "suspect", "suspect"),
        (" Caller ", "caller", OTHER_ROLE),
        ("reporter", "caller", OTHER_ROLE),
        ("报警人", "caller", OTHER_ROLE),
        ("嫌疑人", "suspect", OTHER_ROLE),
        ("observed", OTHER_ROLE, "observed"),
        ("张伟", OTHER_ROLE, OTHER_ROLE),
        ("13800138000", OTHER_ROLE, OTHER_ROLE),
        ("", OTHER_ROLE, OTHER_ROLE),
    ],
)
def test_roles_outside_the_vocabulary_become_other(ctx, grid_event, given, person, vehicle):
    event = copy.deepcopy(grid_event)
    event["persons"][0]["role"] = given
    event["vehicles"][0]["role"] = given
    out = normalize_event(event, ctx, NOW_MS)
    assert (out["persons"][0]["role"], out["vehicles"][0]["role"]) == (person, vehicle)
    assert person in PERSON_ROLES and vehicle in VEHICLE_ROLES


def test_roles_the_simulator_and_the_graph_job_use_are_in_the_vocabulary():
    # jobs/graph/edges.py (caller), risk.py and watch_list.py (suspect), the
    # simulator's payloads, and Superset's labels in graph_new_links.
    assert {"caller", "party", "victim", "suspect", "witness"} <= set(PERSON_ROLES)
    assert {"involved", "suspect", "observed"} <= set(VEHICLE_ROLES)


def test_attributes_outside_the_declared_set_are_dropped(ctx, grid_event):
    event = copy.deepcopy(grid_event)
    event["attributes"].update({"张伟的电话": "13800138000", "note": {"nested": True}})
    out = normalize_event(event, ctx, NOW_MS)
    assert sorted(out["attributes"]) == ["description", "reporter_id"]
    assert set(REQUIRED_ATTRIBUTES["grid"]) <= set(CHANNEL_ATTRIBUTES["grid"])


def test_a_declared_number_that_reads_as_an_identifier_is_not_kept(ctx, grid_event, village):
    event = copy.deepcopy(grid_event)
    event.update(
        source="video",
        category="video.plate_read",
        location={"lon": village.lon, "lat": village.lat, "crs": "WGS84"},
        attributes={
            "device_id": "LPR-1-L1",
            "site_id": "LPR-1",
            "device_kind": "lpr",
            "lane": 13800138000,
            "confidence": 0.97,
        },
    )
    out = normalize_event(event, ctx, NOW_MS)
    assert out["attributes"] == {
        "device_id": "LPR-1-L1",
        "site_id": "LPR-1",
        "device_kind": "lpr",
        "lane": None,
        "confidence": 0.97,
    }


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


def test_every_identifier_format_in_a_description_is_scrubbed(ctx, grid_event):
    from .test_free_text_scrub import FORMATS

    for written, kind, canonical in FORMATS:
        event = copy.deepcopy(grid_event)
        event["attributes"]["description"] = f"据称{written}号"
        out = normalize_event(event, ctx, NOW_MS)
        assert out["attributes"]["description"] == (
            "据称" + pseudonymize(canonical, kind, KEY) + "号"
        ), written
