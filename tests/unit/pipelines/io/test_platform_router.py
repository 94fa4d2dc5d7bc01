"""Tests for pipelines.io.platform_router: the trained router in the platform's terms, as the stream uses it."""

import pickle

import pytest

from models.hotline_routing import HotlineRouter
from pipelines.errors import SettingsError
from pipelines.io.platform_router import has_router, load_platform_router
from pipelines.io.router_artifact import save_router
from pipelines.settings import load_settings

from ...hotline_corpus import WORDS


@pytest.fixture(scope="module")
def settings():
    return load_settings()


@pytest.fixture
def folder(tmp_path):
    texts = [
        f"{w}{words[(i + 1) % 5]}问题" for words in WORDS.values() for i, w in enumerate(words)
    ]
    labels = [label for label, words in WORDS.items() for _ in words]
    router = HotlineRouter(ngram_range=(1, 2), calibration_folds=2, threshold=0.3).fit(
        texts, labels
    )
    save_router(tmp_path / "router", router, {"version": "hr1-test", "params": {}})
    return tmp_path / "router"


def test_a_message_is_routed_in_the_platforms_terms(settings, folder):
    platform = load_platform_router(settings, folder)
    routing = platform.route_text("\n\t\t\t小区物业乱收停车费")
    assert routing["model_version"] == "hr1-test"
    assert (routing["label"], routing["category"]) == (
        "城乡建设",
        "hotline.urban_rural_construction",
    )
    # The department is the category's work-order rule (alert_service.work_orders).
    assert routing["department"] == "城管"
    assert platform.route_text("医院医生态度")["department"] == "卫生"
    assert platform.route_text("The bus is late")["flag_reason"] == "not Chinese"
    assert platform.route_text(" \n\t ")["flag_reason"] == "empty text"


def test_pickled_it_leaves_the_model_behind_and_loads_it_again(settings, folder):
    platform = load_platform_router(settings, folder)
    expected = platform.route_text("公交班车太少")
    shipped = pickle.dumps(platform)
    assert len(shipped) < 5_000
    assert pickle.loads(shipped).route_text("公交班车太少") == expected


def test_a_router_retrained_under_a_running_job_is_refused(settings, folder, tmp_path):
    platform = load_platform_router(settings, folder)
    router = HotlineRouter(calibration_folds=2).fit(
        ["物业", "违建", "医院", "医生"], ["a", "a", "b", "b"]
    )
    save_router(folder, router, {"version": "hr1-other", "params": {}})
    with pytest.raises(SettingsError, match="changed from hr1-test to hr1-other"):
        platform.route_text("物业")


def test_no_router_is_no_router_and_unmapped_classes_are_named(settings, folder, tmp_path):
    assert has_router(folder) and not has_router(tmp_path / "none")
    router = HotlineRouter(calibration_folds=2).fit(
        ["物业", "违建", "医院", "医生"], ["甲", "甲", "乙", "乙"]
    )
    save_router(folder, router, {"version": "hr1-x", "params": {}})
    with pytest.raises(SettingsError, match=r"predicts \['乙', '甲'\]"):
        load_platform_router(settings, folder)
