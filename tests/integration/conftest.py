"""Integration fixtures: the real services, started through infra/."""

from __future__ import annotations

import pytest

from pipelines.harness.services import services_up
from pipelines.settings import load_settings


def district_settings():
    """The settings, or a skip when the district's town list is absent."""
    s = load_settings()
    if not s.towns_file.exists():
        pytest.skip(
            f"the district's town list {s.towns_file} is absent (shared/data is not beside "
            "this checkout)"
        )
    return s


@pytest.fixture(scope="session")
def settings():
    s = district_settings()
    services_up(s, ["kafka", "postgres"])
    return s
