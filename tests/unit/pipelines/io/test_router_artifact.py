import json

import pandas as pd
import pytest

from models.hotline_routing import HotlineRouter
from pipelines.errors import SettingsError
from pipelines.io.router_artifact import (
    CARD_FILE,
    FORMAT,
    MODEL_FILE,
    data_fingerprint,
    load_router,
    model_version,
    save_router,
)

from ...hotline_corpus import LABELS, TEXTS


@pytest.fixture
def saved(tmp_path):
    router = HotlineRouter(calibration_folds=2, threshold=0.4).fit(TEXTS, LABELS)
    card = save_router(tmp_path / "router", router, {"version": "hr1-test", "params": {}})
    return tmp_path / "router", router, card


def test_a_saved_router_loads_and_routes_as_it_did(saved):
    folder, router, card = saved
    loaded, read = load_router(folder)
    assert read == card
    assert read["format"] == FORMAT and read["labels"] == ["卫生计生", "城乡建设"]
    assert loaded.route(["物业乱收费"]) == router.route(["物业乱收费"])
    assert (folder / MODEL_FILE).stat().st_mode & 0o777 == 0o600
    assert (folder / CARD_FILE).stat().st_mode & 0o777 == 0o600


def test_another_format_is_refused_in_one_line(saved):
    folder, _, card = saved
    (folder / CARD_FILE).write_text(json.dumps({**card, "format": FORMAT + 1}))
    with pytest.raises(SettingsError) as raised:
        load_router(folder)
    message = str(raised.value)
    assert "\n" not in message
    assert f"format {FORMAT + 1}" in message and f"reads format {FORMAT}" in message
    assert "zongzhi train classifier" in message


def test_another_scikit_learn_is_refused_in_one_line(saved):
    folder, _, card = saved
    (folder / CARD_FILE).write_text(json.dumps({**card, "sklearn": "0.24.2"}))
    with pytest.raises(SettingsError, match="fitted with scikit-learn 0.24.2, this environment"):
        load_router(folder)


def test_a_model_file_changed_after_training_is_not_loaded(saved):
    folder, _, _ = saved
    with open(folder / MODEL_FILE, "ab") as handle:
        handle.write(b"\0")
    with pytest.raises(SettingsError, match="does not match its card's hash"):
        load_router(folder)


def test_no_router_says_what_to_run(tmp_path):
    with pytest.raises(SettingsError, match=r"^no hotline router at .*: run `zongzhi train"):
        load_router(tmp_path)


def test_the_version_follows_the_data_and_the_parameters():
    rows = pd.DataFrame({"title": ["路灯"], "body": ["不亮"], "label": ["城乡建设"]})
    other = rows.assign(label=["交通运输"])
    assert data_fingerprint(rows) == data_fingerprint(rows.copy())
    assert data_fingerprint(rows) != data_fingerprint(other)
    fp = data_fingerprint(rows)
    assert model_version(fp, {"C": 1.0}) == model_version(fp, {"C": 1.0})
    assert model_version(fp, {"C": 1.0}) != model_version(fp, {"C": 3.0})
    assert model_version(fp, {"C": 1.0}).startswith(f"hr{FORMAT}-")
