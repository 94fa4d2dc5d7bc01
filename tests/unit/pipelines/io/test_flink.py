import copy
import dataclasses
import os
import time
from pathlib import Path

import pytest

from pipelines.errors import SettingsError
from pipelines.io.flink import ARCHIVE_SETTLE_S, _fault_tolerance_options, class_archive_args
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


def test_the_first_run_dumps_its_classes_and_a_later_run_maps_the_finished_dump(tmp_path):
    settings = _settings(tmp_path)
    first = class_archive_args(settings, "-Xmx2g")
    (dump,) = [
        w.split("=", 1)[1] for w in first.split() if w.startswith("-XX:ArchiveClassesAtExit=")
    ]
    assert dump.endswith(f".{os.getpid()}.dump") and "-Xlog:cds=off" in first
    # The writer still runs: its dump is not adopted, and this run dumps as well.
    Path(dump).write_bytes(b"classes")
    assert "ArchiveClassesAtExit" in class_archive_args(settings, "-Xmx2g")
    # A dump whose run has ended and which has settled becomes the archive.
    ended = Path(dump).with_name(Path(dump).name.replace(f".{os.getpid()}.", ".999999999."))
    Path(dump).rename(ended)
    old = time.time() - ARCHIVE_SETTLE_S - 1
    os.utime(ended, (old, old))
    mapped = class_archive_args(settings, "-Xmx2g")
    archive = ended.with_name(ended.name.split(".")[0] + ".jsa")
    assert f"-XX:SharedArchiveFile={archive}" in mapped
    assert "-XX:+VerifySharedSpaces" in mapped and archive.read_bytes() == b"classes"
    # A later settled dump of the same key is removed, the archive kept.
    late = ended.with_name(ended.name.replace(".999999999.", ".999999998."))
    late.write_bytes(b"more classes")
    os.utime(late, (old, old))
    assert f"-XX:SharedArchiveFile={archive}" in class_archive_args(settings, "-Xmx2g")
    assert not late.exists() and archive.read_bytes() == b"classes"
    # Other JVM flags make another archive; the setting turns it all off.
    assert "ArchiveClassesAtExit" in class_archive_args(settings, "-Xmx1g")
    assert class_archive_args(_settings(tmp_path, class_archive=False), "-Xmx2g") == ""
