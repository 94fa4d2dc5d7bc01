"""Warm Superset's query cache: after a nightly run, the overview opens from cache.

Each chart of a dashboard is queried once with ``force``, which runs its
query and stores the result under the key Superset looks up when the
dashboard is opened. Keys include the row-level-security clauses, so warming
as an administrator (no clause) serves the district's analysts; a town's
first view fills its own keys. Best effort after a job: a Superset that is
down is reported, not fatal.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from pipelines.errors import ServiceError
from pipelines.harness.superset_api import SupersetClient
from pipelines.settings import Settings

__all__ = [
    "WARMED_DASHBOARDS",
    "empty_query_cache",
    "query_cache_dir",
    "warm_dashboard",
    "warm_after_nightly",
]

log = logging.getLogger(__name__)

#: The dashboards warmed after each nightly run.
WARMED_DASHBOARDS = ("zongzhi-overview",)


def query_cache_dir(settings: Settings) -> Path:
    """Superset's query-result cache (``DATA_CACHE_CONFIG`` in infra/superset/superset_config.py)."""
    return settings.var / "superset" / "cache" / "data"


def empty_query_cache(settings: Settings) -> int:
    """Delete every cached query result; the number deleted.

    The folder itself stays: Superset's file-system cache creates it only
    when the server starts, and stores nothing while it is missing.
    """
    deleted = 0
    folder = query_cache_dir(settings)
    for entry in folder.iterdir() if folder.is_dir() else ():
        entry.unlink(missing_ok=True)
        deleted += 1
    return deleted


def warm_dashboard(client: SupersetClient, slug: str) -> dict:
    """Query every chart of dashboard ``slug`` with ``force``; counts and time."""
    started = time.monotonic()
    charts = client.dashboard_charts(slug)
    rows = 0
    for chart in charts:
        rows += len(client.chart_data(chart["id"], force=True))
    return {
        "dashboard": slug,
        "charts": len(charts),
        "rows": rows,
        "seconds": round(time.monotonic() - started, 2),
    }


def warm_after_nightly(settings: Settings) -> dict:
    """Warm :data:`WARMED_DASHBOARDS`; ``{"warmed": [...]}`` or ``{"not_warmed": reason}``."""
    try:
        client = SupersetClient.from_settings(settings)
        return {"warmed": [warm_dashboard(client, slug) for slug in WARMED_DASHBOARDS]}
    except ServiceError as exc:
        log.warning("Superset's cache was not warmed: %s", exc)
        return {"not_warmed": str(exc)}
