import numpy as np
import pytest
from sklearn.base import clone

from models.hotline_routing import (
    MAX_CHARS,
    HotlineRouter,
    chinese_share,
    clean_message,
    flag_threshold,
    message_text,
)

# Three small classes of short messages, in the words of real ones.
CORPUS = {
    "城乡建设": [
        "小区物业乱收停车费",
        "老旧小区加装电梯",
        "道路施工占道扬尘",
        "小区违章搭建",
        "物业不作为",
    ],
    "教育文体": ["幼儿园收费过高", "小学划片入学", "教师待遇问题", "学校周边补课", "中学招生政策"],
    "卫生计生": ["医院乱收费", "医保报销问题", "社区诊所无证行医", "疫苗接种预约", "医生态度恶劣"],
}


def _corpus():
    texts = [t for ts in CORPUS.values() for t in ts]
    labels = [label for label, ts in CORPUS.items() for _ in ts]
    return texts, labels


def test_clean_message_removes_the_debris_of_the_real_exports():
    raw = "\n\t\t\t\t\t\n\t\t\t\t\t<div>A3区&amp;小区</div>\u3000路灯\n\t\t\t\t不亮\xa0"
    assert clean_message(raw) == "A3区&小区 路灯 不亮"


def test_clean_message_caps_a_very_long_message():
    assert len(clean_message("噪" * (MAX_CHARS * 3))) == MAX_CHARS
    assert clean_message("abc", max_chars=2) == "ab"


def test_empty_and_missing_messages_are_empty_text():
    assert [clean_message(v) for v in (None, "", "  \n\t ", float("nan"))] == ["", "", "", ""]
    assert message_text(None, None) == ""
    assert message_text("", "正文") == "正文"


def test_chinese_share_tells_chinese_from_other_languages():
    assert chinese_share("小区路灯不亮") == 1.0
    assert chinese_share("The street light is broken") == 0.0
    assert chinese_share("") == 0.0


def test_router_learns_and_routes_the_small_corpus():
    texts, labels = _corpus()
    router = HotlineRouter(ngram_range=(1, 2), calibration_folds=2, threshold=0.5).fit(
        texts, labels
    )
    assert list(router.classes_) == sorted(CORPUS)
    assert list(router.predict(["小区物业乱收费", "幼儿园招生收费"])) == ["城乡建设", "教育文体"]
    proba = router.predict_proba(texts)
    assert proba.shape == (15, 3)
    assert np.allclose(proba.sum(axis=1), 1.0)
    routed = router.route(["小区物业乱收费", ""])
    assert routed[0]["label"] == "城乡建设" and 0 < routed[0]["probability"] <= 1
    # An empty message carries no evidence: it is flagged, not guessed.
    assert routed[1]["flagged"] is True


@pytest.mark.parametrize("labels", [sorted(CORPUS), ["城乡建设", "教育文体"]])
def test_route_one_routes_as_the_batch_does(labels):
    texts, all_labels = _corpus()
    kept = [(t, label) for t, label in zip(texts, all_labels, strict=True) if label in labels]
    router = HotlineRouter(ngram_range=(1, 2), calibration_folds=2, threshold=0.5).fit(
        [t for t, _ in kept], [label for _, label in kept]
    )
    probes = [*texts, "", "ZZZ 12345", "小区医院幼儿园", "物业" * 300]
    assert [router.route_one(t) for t in probes] == router.route(probes)


def test_router_refuses_what_it_cannot_learn():
    with pytest.raises(ValueError, match="at least two classes"):
        HotlineRouter().fit(["a", "b"], ["x", "x"])
    with pytest.raises(ValueError, match="'y' has 1 message"):
        HotlineRouter().fit(["a", "b", "c"], ["x", "x", "y"])
    with pytest.raises(ValueError, match="3 texts but 2 labels"):
        HotlineRouter().fit(["a", "b", "c"], ["x", "y"])
    with pytest.raises(ValueError, match="one string"):
        HotlineRouter(calibration_folds=2).fit(*_corpus()).predict("小区")


def test_an_unfitted_router_says_so():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        HotlineRouter().predict(["小区"])


def test_flag_threshold_routes_the_most_within_the_error_budget():
    confidence = [0.95, 0.9, 0.9, 0.7, 0.6, 0.4]
    correct = [True, True, False, True, True, False]
    # Routing all five above 0.4 gives 1 error in 5 (0.2); 0.9 would be 1 in 3.
    assert flag_threshold(confidence, correct, 0.2) == {
        "threshold": 0.6,
        "routed_share": round(5 / 6, 6),
        "flagged_share": round(1 / 6, 6),
        "routed_error_rate": 0.2,
    }
    # Ties are routed or flagged together: 0.9 cannot split its two messages.
    assert flag_threshold(confidence, correct, 0.0)["routed_share"] == round(1 / 6, 6)
    # A budget nothing meets flags everything.
    nothing = flag_threshold([0.9, 0.8], [False, False], 0.1)
    assert nothing["routed_share"] == 0.0 and nothing["threshold"] > 0.9


def test_flag_threshold_names_bad_input():
    with pytest.raises(ValueError, match="max_error_rate must be within"):
        flag_threshold([0.5], [True], 1.5)
    with pytest.raises(ValueError, match="same non-zero length, got 2 and 1"):
        flag_threshold([0.5, 0.4], [True], 0.1)


def test_router_clones_with_its_parameters_and_nothing_learned():
    # Text in, so scikit-learn's numeric estimator checks do not apply; its
    # parameter contract does (grid search clones the router).
    router = HotlineRouter(ngram_range=(2, 4), C=0.3, threshold=0.6)
    twin = clone(router)
    assert twin.get_params() == router.get_params()
    assert not hasattr(twin, "classes_")
