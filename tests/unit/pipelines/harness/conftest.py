"""Settings the offline evals share in tests: the district's, with short scales and few replicates."""

import copy

import pytest

from pipelines.settings import Settings, load_settings


@pytest.fixture
def short_scale_settings() -> Settings:
    """The configured district with one longer scale of 3 hours and 99 Monte Carlo replicates.

    The offline evals warm up for the longest window: 3 hours instead of
    two weeks keeps a test to seconds.
    """
    base = load_settings()
    raw = copy.deepcopy(base.raw)
    raw["hotspot"]["scan_replicates"] = 99
    raw["hotspot"]["longer_scales"] = [
        {
            "name": "hours",
            "slide_minutes": 60,
            "window_minutes": 180,
            "durations_minutes": [60, 180],
            "budget_share": 0.25,
        }
    ]
    return Settings(raw=raw, root=base.root, var=base.var)
