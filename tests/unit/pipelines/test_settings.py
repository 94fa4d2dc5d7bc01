import copy

import pytest

from pipelines.errors import SettingsError
from pipelines.settings import Settings, load_settings

BASE = load_settings()


def _with_hotspot(**changes) -> Settings:
    raw = copy.deepcopy(BASE.raw)
    raw["hotspot"].update(changes)
    return Settings(raw=raw, root=BASE.root, var=BASE.var)


def test_the_committed_windows_are_valid():
    hotspot = BASE.hotspot
    assert hotspot["window_size_minutes"] % hotspot["window_slide_minutes"] == 0


def test_windows_of_days_are_allowed():
    settings = _with_hotspot(
        window_slide_minutes=60, window_size_minutes=1440, scan_durations_minutes=[60, 1440]
    )
    assert settings.hotspot["window_size_minutes"] == 1440


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"window_slide_minutes": 0}, r"hotspot.window_slide_minutes=0 must be from 1 minute"),
        ({"window_slide_minutes": "x"}, r"hotspot.window_slide_minutes='x' must be an integer"),
        ({"window_size_minutes": 32}, r"hotspot.window_size_minutes=32 must be a whole number"),
        (
            {"window_size_minutes": 200 * 1440},
            r"hotspot.window_size_minutes=288000 must be a whole number of slides .* 99 days",
        ),
        ({"scan_durations_minutes": [7]}, r"hotspot.scan_durations_minutes=\[7\] must list"),
        ({"scan_durations_minutes": 30}, r"hotspot.scan_durations_minutes=30 must list"),
    ],
)
def test_a_bad_window_setting_is_named_in_one_line(changes, message):
    with pytest.raises(SettingsError, match=message):
        assert _with_hotspot(**changes).hotspot is None


def _with_scale(index: int, **changes) -> Settings:
    scales = copy.deepcopy(BASE.raw["hotspot"]["longer_scales"])
    scales[index].update(changes)
    return _with_hotspot(longer_scales=scales)


def test_the_committed_scales_share_the_budget_with_the_base_window():
    scales = BASE.hotspot["longer_scales"]
    assert [s["name"] for s in scales] == ["hours", "days"]
    assert 0 < sum(s["budget_share"] for s in scales) < 1


@pytest.mark.parametrize(
    "index, changes, message",
    [
        (0, {"name": "minutes"}, r"hotspot.longer_scales\[0\].name='minutes' must be a new"),
        (1, {"name": "hours"}, r"hotspot.longer_scales\[1\].name='hours' must be a new"),
        (0, {"slide_minutes": 7}, r"longer_scales\[0\].slide_minutes=7 must be a whole number"),
        (0, {"slide_minutes": 50}, r"longer_scales\[0\].slide_minutes=50 .* divides a day"),
        (1, {"window_minutes": 3000}, r"longer_scales\[1\].window_minutes=3000 must be"),
        (1, {"durations_minutes": [1440, 30000]}, r"durations_minutes=\[1440, 30000\] must"),
        (0, {"budget_share": 0}, r"longer_scales\[0\].budget_share=0 must lie in \(0, 1\)"),
        (0, {"budget_share": 0.8}, r"budget shares add up to 1.05; they must leave the base"),
        (1, {"threshold_factor": 0}, r"longer_scales\[1\].threshold_factor=0 must be a positive"),
    ],
)
def test_a_bad_scale_is_named_in_one_line(index, changes, message):
    with pytest.raises(SettingsError, match=message):
        assert _with_scale(index, **changes).hotspot is None


def test_a_scale_missing_a_key_is_named():
    scales = copy.deepcopy(BASE.raw["hotspot"]["longer_scales"])
    del scales[0]["budget_share"]
    with pytest.raises(SettingsError, match=r"longer_scales\[0\] lacks budget_share"):
        assert _with_hotspot(longer_scales=scales).hotspot is None


def test_a_bad_base_threshold_factor_is_named():
    with pytest.raises(SettingsError, match=r"hotspot.threshold_factor='x' must be a positive"):
        assert _with_hotspot(threshold_factor="x").hotspot is None


@pytest.mark.parametrize("power", ["x", -0.5, 5, True])
def test_a_bad_zone_weight_power_is_named(power):
    with pytest.raises(
        SettingsError, match=r"hotspot.zone_weight_power=.* must be a number from 0"
    ):
        assert _with_hotspot(zone_weight_power=power).hotspot is None


def test_the_jit_mode_comes_from_the_config_unless_the_environment_names_one(monkeypatch):
    settings = load_settings()
    monkeypatch.delenv("ZONGZHI_JIT", raising=False)
    assert settings.jit == settings.raw["jvm"]["jit"] == "tiered"
    assert settings.jit_options == ""
    monkeypatch.setenv("ZONGZHI_JIT", "quick")
    assert settings.jit == "quick"
    assert settings.jit_options == "-XX:TieredStopAtLevel=1"


def test_an_unknown_jit_mode_is_named_with_the_allowed_ones(monkeypatch):
    monkeypatch.setenv("ZONGZHI_JIT", "c2")
    with pytest.raises(SettingsError, match=r"^jvm.jit='c2' must be one of: tiered, quick"):
        assert load_settings().jit_options is None
