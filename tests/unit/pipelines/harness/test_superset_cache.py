"""Warming after a nightly run is best effort: without Superset it says why, and goes on."""

from __future__ import annotations

from pipelines.harness.superset_cache import warm_after_nightly
from pipelines.settings import Settings, load_settings


def test_without_superset_the_reason_is_reported(tmp_path):
    base = load_settings()
    settings = Settings(raw=base.raw, root=base.root, var=tmp_path)
    report = warm_after_nightly(settings)
    assert set(report) == {"not_warmed"}
    assert "superset.admin.password" in report["not_warmed"]
