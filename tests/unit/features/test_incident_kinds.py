import pytest
import yaml

from features.incident_kinds import EVIDENCE, incident_fusion_rules
from pipelines.settings import load_settings


def test_the_committed_fusion_file_is_valid():
    settings = load_settings()
    path = settings.root / settings.section("incident_fusion")["file"]
    rules = incident_fusion_rules(yaml.safe_load(path.read_text(encoding="utf-8")))
    assert rules["incident_kinds"]["illegal_dumping"]["video"] == "video.camera_alarm"
    assert rules["max_distance_m"] == 300.0 and 0 < rules["min_confidence"] < 1
    assert set(rules["linker"]) == {"intercept", *EVIDENCE}
    assert rules["linker"]["closeness"] > 0 and rules["count_incidents"] is True


LINKER = {"intercept": -1.0, **{name: 1.0 for name in EVIDENCE}}
GOOD = {
    "incident_kinds": {"x": {"grid": "public_order.fight"}},
    "max_distance_m": 400,
    "max_gap_minutes": 60,
    "min_confidence": 0.5,
    "linker": LINKER,
}


def test_counting_incidents_is_off_unless_declared():
    assert incident_fusion_rules(GOOD)["count_incidents"] is False


@pytest.mark.parametrize(
    "raw, message",
    [
        ({}, "incident_kinds"),
        ({"incident_kinds": {"x": {"grid": "hotline.transport"}}}, "not a category of the 'grid'"),
        (
            {
                "incident_kinds": {"x": {"grid": "public_order.fight"}},
                "max_distance_m": -1,
                "max_gap_minutes": 60,
                "min_confidence": 0.5,
            },
            "max_distance_m=-1 must be a number > 0",
        ),
        (
            {
                "incident_kinds": {"x": {"grid": "public_order.fight"}},
                "max_distance_m": 400,
                "max_gap_minutes": 60,
                "min_confidence": 1.5,
            },
            "min_confidence=1.5 must be below 1",
        ),
        ({**GOOD, "linker": {"intercept": 1}}, "linker needs exactly"),
        ({**GOOD, "linker": {**LINKER, "closeness": "x"}}, "linker.closeness='x' must be a number"),
        ({**GOOD, "count_incidents": "yes"}, "count_incidents='yes' must be true or false"),
    ],
)
def test_a_bad_fusion_file_is_named(raw, message):
    with pytest.raises(ValueError, match=message):
        incident_fusion_rules(raw)
