"""Integration fixtures: the real services, started through infra/."""

from __future__ import annotations

import pytest

from pipelines.harness.services import services_up
from pipelines.settings import load_settings

from .graph_lake import run_graph_nights


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


@pytest.fixture(scope="session")
def graph_nights(settings):
    """Two nights of the graph job on the graph lake, shared by the graph modules.

    ``test_graph.py`` checks what the job wrote, ``test_graph_superset.py``
    what Superset shows of it; they sort next to each other, so nothing
    runs between them that rewrites the lake or the graph's tables.
    """
    return run_graph_nights(settings)
