"""Integration fixtures: the real services, started through infra/."""
from __future__ import annotations

import pytest

from pipelines.kafka_io import delete_groups, reset_topics
from pipelines.services import services_up
from pipelines.settings import load_settings

GROUPS = ["zongzhi-normalize", "zongzhi-hotspot", "zongzhi-lake", "zongzhi-alert-store"]


def district_settings():
    """The settings, or a skip when the district's town list is absent."""
    s = load_settings()
    towns = s.root / s.raw["district"]["towns_file"]
    if not towns.exists():
        pytest.skip(f"the district's town list {towns} is absent (shared/data is not beside "
                    "this checkout)")
    return s


@pytest.fixture(scope="session")
def settings():
    s = district_settings()
    services_up(s, ["kafka", "postgres"])
    return s


def fresh_topics(settings) -> None:
    """Empty topics and forgotten consumer offsets: counts belong to one scenario."""
    delete_groups(settings, GROUPS)
    reset_topics(settings, list(settings.raw["kafka"]["topics"].values()))
