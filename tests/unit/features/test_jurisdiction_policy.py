"""Tests for features.jurisdiction_policy: who sees what, routing up the chain, and a file's faults.

The ``ctx`` fixture (a two-town district, two villages each) is in ``conftest.py``.
"""

from __future__ import annotations

import copy

import pytest

from features.jurisdiction_policy import PolicyError, policy_from_mapping, policy_listing


@pytest.fixture()
def district(ctx):
    return ctx.district


@pytest.fixture()
def listing(district):
    return policy_listing(district)


@pytest.fixture()
def codes(district):
    (t1, t2), villages = district.towns, district.villages
    v1a, v1b = [v.code for v in villages if v.town_code == t1.code]
    v2a = next(v.code for v in villages if v.town_code == t2.code)
    return {
        "district": district.code,
        "t1": t1.code,
        "t2": t2.code,
        "v1a": v1a,
        "v1b": v1b,
        "v2a": v2a,
    }


def test_the_listing_names_one_center_per_jurisdiction(district, listing):
    policy = policy_from_mapping(listing, district)
    assert len(policy.centers) == 1 + 2 + 4
    assert [c.level for c in policy.centers.values()].count("village") == 4
    town = policy.center(district.towns[0].code)
    assert (town.name, town.parent) == (district.towns[0].name + "综治中心", district.code)
    assert policy.center(district.code).name == "密云区综治中心"


def test_each_level_sees_its_own_rows_only(district, listing, codes):
    policy = policy_from_mapping(listing, district)
    c = codes
    rows = {
        "v1a": (c["t1"], c["v1a"]),
        "v1b": (c["t1"], c["v1b"]),
        "v2a": (c["t2"], c["v2a"]),
        "unlocated": (None, None),
    }
    seen = {
        center: sorted(
            r for r, (town, village) in rows.items() if policy.may_see(c[center], town, village)
        )
        for center in ("district", "t1", "t2", "v1a")
    }
    assert seen == {
        "district": ["unlocated", "v1a", "v1b", "v2a"],
        "t1": ["v1a", "v1b"],
        "t2": ["v2a"],
        "v1a": ["v1a"],  # not its sibling village
    }


def test_a_row_goes_home_and_escalates_up_the_chain(district, listing, codes):
    policy = policy_from_mapping(listing, district)
    c = codes
    assert policy.home_center(c["t1"], c["v1b"]) == c["v1b"]
    assert policy.home_center(c["t1"], None) == c["t1"]
    # A place that could not be resolved goes to the district (未定位).
    assert policy.home_center(None, None) == c["district"]
    assert policy.escalation_chain(c["v1b"]) == (c["v1b"], c["t1"], c["district"])
    assert policy.escalation_chain(c["district"]) == (c["district"],)


def test_row_filters_are_sql_conditions_on_the_jurisdiction_columns(district, listing, codes):
    policy = policy_from_mapping(listing, district)
    assert policy.row_filter(codes["district"]) is None
    assert policy.row_filter(codes["t2"]) == f"town_code IN ('{codes['t2']}')"
    assert policy.row_filter(codes["v1a"]) == f"village_code IN ('{codes['v1a']}')"


def test_a_wider_scope_is_honoured(district, listing, codes):
    wider = copy.deepcopy(listing)
    town = next(e for e in wider["centers"] if e["id"] == codes["t1"])
    town["sees"] = {"towns": [codes["t1"]], "villages": [codes["v2a"]]}
    policy = policy_from_mapping(wider, district)
    assert policy.may_see(codes["t1"], codes["t2"], codes["v2a"])
    assert policy.row_filter(codes["t1"]) == (
        f"town_code IN ('{codes['t1']}') OR village_code IN ('{codes['v2a']}')"
    )


def test_the_center_holding_an_alert_keeps_it_when_the_cluster_moves(district, listing, codes):
    policy = policy_from_mapping(listing, district)
    # Received by village v1b's station; the cluster has since grown into village v1a.
    place = (codes["t1"], codes["v1a"])
    assert not policy.may_see(codes["v1b"], *place)
    assert policy.may_see_alert(codes["v1b"], *place, holder=codes["v1b"])
    # The centers above the holder keep it too; a neighbouring village's does not gain it.
    assert policy.may_see_alert(codes["t1"], *place, holder=codes["v1b"])
    assert policy.may_see_alert(codes["v1a"], *place, holder=codes["v1b"])  # its own place
    assert not policy.may_see_alert(codes["v2a"], *place, holder=codes["v1b"])
    assert not policy.may_see_alert(codes["v2a"], *place, holder=None)
    # The listing's condition says the same in SQL.
    assert policy.alert_filter(codes["v1b"]) == (
        f"(village_code IN ('{codes['v1b']}')) OR center_id IN ('{codes['v1b']}')"
    )
    assert policy.alert_filter(codes["t1"]).endswith(
        f"center_id IN ('{codes['t1']}', '{codes['v1a']}', '{codes['v1b']}')"
    )
    assert policy.alert_filter(codes["district"]) is None


def test_an_unknown_center_is_named(district, listing):
    policy = policy_from_mapping(listing, district)
    with pytest.raises(PolicyError, match=r"center='999' is not in the jurisdiction policy"):
        policy.may_see("999", None, None)


def _edit(listing, codes, center, **fields):
    edited = copy.deepcopy(listing)
    entry = next(e for e in edited["centers"] if e["id"] == codes[center])
    entry.update(fields)
    return edited


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda p, c: dict(p, district="110101"), r"district='110101' in the policy"),
        (lambda p, c: dict(p, centers=[]), r"centers must be a non-empty list"),
        (
            lambda p, c: dict(p, centers=[e for e in p["centers"] if e["id"] != c["v1b"]]),
            r"1 jurisdiction\(s\) have no center, first \['\d+'\]",
        ),
        (
            lambda p, c: dict(p, centers=p["centers"] + p["centers"][-1:]),
            r"center '\d+' is listed twice",
        ),
        (lambda p, c: _edit(p, c, "v1a", id="110118999999"), r"is no jurisdiction of district"),
        (lambda p, c: _edit(p, c, "v1a", id="12ab"), r"id must be a jurisdiction code"),
        (
            lambda p, c: _edit(p, c, "v1a", parent=c["t2"]),
            r"its jurisdiction needs level='village'",
        ),
        (lambda p, c: _edit(p, c, "t1", level="county"), r"level='county' is not one of"),
        (lambda p, c: _edit(p, c, "t1", name=" "), r"name must be a non-empty string"),
        (lambda p, c: _edit(p, c, "district", sees={"towns": [c["t1"]]}), r"must see all"),
        (
            lambda p, c: _edit(p, c, "t1", sees={"towns": [c["t2"]]}),
            r"does not see its own jurisdiction",
        ),
        (
            lambda p, c: _edit(p, c, "t1", sees={"towns": ["110118777"]}),
            r"sees.towns names '110118777', not one of the district's",
        ),
        (lambda p, c: _edit(p, c, "t1", sees={"streets": []}), r"must be 'all' or a mapping"),
        (lambda p, c: _edit(p, c, "t1", sees={"towns": "x"}), r"sees.towns must be a list"),
    ],
)
def test_a_faulty_policy_is_refused_naming_the_fault(district, listing, codes, edit, message):
    with pytest.raises(PolicyError, match=message):
        policy_from_mapping(edit(listing, codes), district)
