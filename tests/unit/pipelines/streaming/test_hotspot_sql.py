"""The hotspot job's Flink SQL, as text: what each statement counts and leaves out."""

from pipelines.streaming.hotspot_sql import cell_slices_sql, late_events_sql


def test_the_sql_counts_one_slice_per_event_and_skips_excluded_categories():
    hotspot = {"window_slide_minutes": 5, "excluded_categories": ["video.plate_read"]}
    slices = cell_slices_sql(hotspot)
    assert "TUMBLE(TABLE events, DESCRIPTOR(ts), INTERVAL '0 00:05' DAY TO MINUTE)" in slices
    assert "COUNT(*) AS n" in slices
    assert "category NOT IN ('video.plate_read')" in slices


def test_without_exclusions_the_filter_excludes_only_the_empty_category():
    assert "category NOT IN ('')" in cell_slices_sql({"window_slide_minutes": 5})


def test_an_event_is_late_once_the_watermark_passes_its_earliest_window_end():
    # 5-minute slides: the earliest window of an event ends at the next
    # 300,000 ms boundary; it has fired at that end less 1 ms.
    sql = late_events_sql({"window_slide_minutes": 5})
    assert sql.startswith("INSERT INTO late_out")
    assert "(CAST(FLOOR(event_time_ms / 300000.0) AS BIGINT) + 1) * 300000 - 1" in sql
    assert "<= CURRENT_WATERMARK(ts)" in sql
