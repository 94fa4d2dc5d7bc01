"""The hotspot job's entry module: the names the harnesses import from it."""

from pipelines.streaming import baseline_store, hotspot_job, hotspot_sql, window_scorer


def test_the_job_module_re_exports_the_harnesses_names_from_their_modules():
    assert hotspot_job.BaselineStore is baseline_store.BaselineStore
    assert hotspot_job.WindowScorer is window_scorer.WindowScorer
    assert hotspot_job.district_detector is window_scorer.district_detector
    assert hotspot_job.scored_categories is window_scorer.scored_categories
    assert hotspot_job.create_event_source is hotspot_sql.create_event_source
    assert hotspot_job.GROUP_ID == "zongzhi-hotspot"
    for name in hotspot_job.__all__:
        assert hasattr(hotspot_job, name), name
