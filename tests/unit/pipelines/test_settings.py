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
