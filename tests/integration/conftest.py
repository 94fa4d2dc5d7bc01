"""Integration fixtures: the real services, started through infra/."""
from __future__ import annotations

import pytest

from pipelines.kafka_io import delete_groups, reset_topics
from pipelines.services import services_up
from pipelines.settings import load_settings

GROUPS = ["zongzhi-normalize", "zongzhi-hotspot", "zongzhi-lake", "zongzhi-alert-store"]


@pytest.fixture(scope="session")
def settings():
    s = load_settings()
    services_up(s, ["kafka", "postgres"])
    return s


def fresh_topics(settings) -> None:
    """Empty topics and forgotten consumer offsets: counts belong to one scenario."""
    delete_groups(settings, GROUPS)
    reset_topics(settings, list(settings.raw["kafka"]["topics"].values()))
