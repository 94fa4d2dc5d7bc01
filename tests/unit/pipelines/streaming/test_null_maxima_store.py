import stat

import numpy as np
import pytest

from models.scan_significance import NullMaxima
from pipelines.streaming.null_maxima_store import NullMaximaStore


def test_a_draw_is_written_privately_and_read_back_exactly(tmp_path):
    store = NullMaximaStore(tmp_path / "nulls")
    maxima = np.random.default_rng(3).gumbel(size=199)
    store["abc123"] = NullMaxima(maxima, n_cylinders=4_000)
    read = store["abc123"]
    assert np.array_equal(read.maxima, maxima) and read.n_cylinders == 4_000
    assert stat.S_IMODE((tmp_path / "nulls").stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "nulls" / "abc123.npz").stat().st_mode) == 0o600
    assert [p.name for p in (tmp_path / "nulls").iterdir()] == ["abc123.npz"]


def test_a_missing_or_unreadable_file_is_a_miss(tmp_path):
    store = NullMaximaStore(tmp_path)
    with pytest.raises(KeyError):
        store["nothere"]
    (tmp_path / "broken.npz").write_bytes(b"not a numpy file")
    assert "broken" in store
    with pytest.raises(KeyError):
        store["broken"]


def test_a_key_that_is_not_a_plain_name_is_refused(tmp_path):
    with pytest.raises(ValueError, match=r"null maxima key '\.\./x' must be letters and digits"):
        NullMaximaStore(tmp_path)["../x"] = NullMaxima(np.zeros(3), n_cylinders=1)


def test_a_disk_that_refuses_a_draw_leaves_the_look_going(tmp_path, caplog):
    (tmp_path / "nulls").write_text("a file where the folder should be")
    store = NullMaximaStore(tmp_path / "nulls")
    store["k1"] = NullMaxima(np.zeros(3), n_cylinders=1)
    assert "k1" not in store
    assert "null maxima" in caplog.text and "not kept" in caplog.text
