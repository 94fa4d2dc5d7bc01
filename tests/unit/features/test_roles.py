"""Tests for features.roles: the closed role vocabularies."""

import pytest

from features.roles import OTHER_ROLE, PERSON_ROLES, VEHICLE_ROLES, person_role, vehicle_role


@pytest.mark.parametrize("code", sorted(PERSON_ROLES))
def test_every_person_code_and_label_maps_to_itself(code):
    assert person_role(code) == code
    assert person_role(code.upper()) == code
    assert person_role(PERSON_ROLES[code]) == code


@pytest.mark.parametrize("code", sorted(VEHICLE_ROLES))
def test_every_vehicle_code_and_label_maps_to_itself(code):
    assert vehicle_role(code) == code
    assert vehicle_role(VEHICLE_ROLES[code]) == code


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("reporter", "caller"),
        ("ｃａｌｌｅｒ", "caller"),  # full-width
        ("来电人", "caller"),
        ("嫌疑人", "suspect"),
        ("司机", "driver"),
        ("王芳", OTHER_ROLE),
        ("110105194912310021", OTHER_ROLE),
        ("suspect; drop table", OTHER_ROLE),
        ("", OTHER_ROLE),
    ],
)
def test_person_roles(given, expected):
    assert person_role(given) == expected


def test_vehicle_roles():
    assert [vehicle_role(r) for r in ("involved", "嫌疑车", "caller", "京A12345")] == [
        "involved",
        "suspect",
        OTHER_ROLE,
        OTHER_ROLE,
    ]


def test_other_is_in_both_vocabularies():
    assert OTHER_ROLE in PERSON_ROLES and OTHER_ROLE in VEHICLE_ROLES
