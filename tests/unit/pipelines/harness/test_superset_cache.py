"""The query cache: emptied without losing its folder; warming after a nightly run is best effort."""

from __future__ import annotations

from pipelines.harness.superset_cache import empty_query_cache, query_cache_dir, warm_after_nightly
from pipelines.settings import Settings, load_settings


def test_without_superset_the_reason_is_reported(tmp_path):
    base = load_settings()
    settings = Settings(raw=base.raw, root=base.root, var=tmp_path)
    report = warm_after_nightly(settings)
    assert set(report) == {"not_warmed"}
    assert "superset.admin.password" in report["not_warmed"]


def test_emptying_the_query_cache_keeps_its_folder(tmp_path):
    base = load_settings()
    settings = Settings(raw=base.raw, root=base.root, var=tmp_path)
    assert empty_query_cache(settings) == 0  # no folder yet: nothing to do
    folder = query_cache_dir(settings)
    folder.mkdir(parents=True)
    for name in ("zongzhi_data_a", "zongzhi_data_b", "zongzhi_data_c"):
        (folder / name).write_bytes(b"result")
    assert empty_query_cache(settings) == 3
    assert folder.is_dir() and list(folder.iterdir()) == []
