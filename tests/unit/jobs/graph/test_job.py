import pytest

from jobs.graph.job import GraphReport, graph_config, report_dict
from pipelines.errors import SettingsError
from pipelines.settings import Settings


def test_the_report_is_a_plain_dict_with_every_count_even_when_nothing_was_found():
    got = report_dict(GraphReport(as_of="2026-11-04", days=["2026-11-04"], events=12))
    assert got["as_of"] == "2026-11-04" and got["events"] == 12
    assert (got["persons"], got["new_links"], got["edges"], got["skipped"]) == (0, None, {}, {})
    assert list(got)[:3] == ["as_of", "days", "events"] and list(got)[-1] == "seconds"


def test_a_graph_section_without_its_keys_is_refused_by_name(tmp_path):
    settings = Settings(raw={"graph": {"lookback_days": 30}}, root=tmp_path, var=tmp_path)
    with pytest.raises(SettingsError, match="co_presence_seconds"):
        graph_config(settings)
