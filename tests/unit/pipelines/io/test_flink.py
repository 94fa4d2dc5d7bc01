import copy
import dataclasses

import pytest

from pipelines.errors import SettingsError
from pipelines.io.flink import _fault_tolerance_options
from pipelines.settings import load_settings


def _settings(tmp_path, **flink):
    settings = load_settings()
    raw = copy.deepcopy(settings.raw)
    raw["flink"].update(flink)
    return dataclasses.replace(settings, raw=raw, var=tmp_path)


def test_a_checkpointed_job_gets_unaligned_checkpoints_as_configured(tmp_path):
    options = dict(_fault_tolerance_options(_settings(tmp_path), "hotspot", True, True))
    assert options["execution.checkpointing.unaligned.enabled"] == "true"
    assert options["execution.checkpointing.dir"] == (tmp_path / "checkpoints/hotspot").as_uri()
    off = _settings(tmp_path, unaligned_checkpoints=False)
    assert (
        dict(_fault_tolerance_options(off, "hotspot", True, True))[
            "execution.checkpointing.unaligned.enabled"
        ]
        == "false"
    )


def test_a_flag_that_is_not_true_or_false_is_refused(tmp_path):
    with pytest.raises(
        SettingsError, match="flink.unaligned_checkpoints='yes' must be true or false"
    ):
        _fault_tolerance_options(_settings(tmp_path, unaligned_checkpoints="yes"), "h", True, True)
