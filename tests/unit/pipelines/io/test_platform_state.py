"""Tests for pipelines.io.platform_state: the jurisdiction policy file of the configured district."""

import dataclasses
import json

import pytest

from pipelines.cli import main
from pipelines.errors import SettingsError
from pipelines.io.platform_state import (
    load_jurisdiction_policy,
    load_routing_rules,
    write_jurisdiction_policy,
)
from pipelines.settings import load_settings


@pytest.fixture(scope="module")
def settings():
    return load_settings()


def _with_policy_file(settings, path):
    raw = dict(settings.raw, jurisdiction={"policy_file": str(path)})
    return dataclasses.replace(settings, raw=raw)


def test_the_committed_policy_lists_every_center_of_the_district(settings, capsys):
    policy = load_jurisdiction_policy(settings)
    levels = [c.level for c in policy.centers.values()]
    assert (levels.count("district"), levels.count("town"), levels.count("village")) == (1, 20, 120)
    assert policy.center("110118").name == "密云区综治中心"
    assert main(["jurisdictions", "check"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report == {"district": "110118", "centers": {"district": 1, "town": 20, "village": 120}}


def test_write_lists_the_district_and_keeps_an_edited_file(settings, tmp_path):
    local = _with_policy_file(settings, tmp_path / "jurisdictions.yaml")
    path = write_jurisdiction_policy(local)
    assert load_jurisdiction_policy(local).centers == load_jurisdiction_policy(settings).centers
    with pytest.raises(SettingsError, match=r"jurisdictions.yaml exists; --force replaces it"):
        write_jurisdiction_policy(local)
    assert write_jurisdiction_policy(local, force=True) == path


@pytest.mark.parametrize(
    "text, message",
    [
        (None, r"does not exist; `zongzhi jurisdictions write` lists"),
        ("centers: [", r"is not valid YAML"),
        (
            "district: '110118'\ncenters: []\n",
            r"jurisdictions.yaml: centers must be a non-empty list",
        ),
    ],
)
def test_a_missing_or_broken_file_is_one_line_naming_it(settings, tmp_path, text, message):
    path = tmp_path / "jurisdictions.yaml"
    if text is not None:
        path.write_text(text, encoding="utf-8")
    with pytest.raises(SettingsError, match=message):
        load_jurisdiction_policy(_with_policy_file(settings, path))


def test_the_configured_routing_covers_every_severity_the_detector_gives(settings):
    rules = load_routing_rules(settings)
    # The detector's three severities, and the watch list's (关注).
    assert dict(rules.levels_up) == {"黄色": 0, "橙色": 1, "红色": 2, "关注": 2}
    assert rules.ack_ms("红色") == 15 * 60_000
    section = dict(
        settings.raw["jurisdiction"], routing={"红色": {"levels_up": 2, "ack_minutes": 15}}
    )
    partial = dataclasses.replace(settings, raw=dict(settings.raw, jurisdiction=section))
    with pytest.raises(
        SettingsError, match=r"no rule for severity '橙色'; the detector gives 红色"
    ):
        load_routing_rules(partial)
