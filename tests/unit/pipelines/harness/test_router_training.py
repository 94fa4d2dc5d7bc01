import pytest

from pipelines.harness.router_training import router_params, train_router

from ...hotline_corpus import THREE, labelled_messages

PARAMS = {"ngram_range": [1, 2], "C": 1.0, "title_weight": 2}


def test_the_card_reports_out_of_fold_figures_and_the_threshold_is_the_router_s():
    router, card = train_router(labelled_messages(10), PARAMS, max_error_rate=0.05, folds=3)
    assert list(router.classes_) == sorted(THREE)
    assert card["params"] == PARAMS
    assert router.threshold == pytest.approx(card["threshold"], abs=1e-6)
    metrics = card["metrics"]
    assert set(metrics["per_class_f1"]) == set(THREE)
    # Separable words: every held-out message is routed right.
    assert metrics["macro_f1"] == metrics["accuracy"] == 1.0
    assert metrics["routed_error_rate"] <= 0.05
    assert metrics["cross_validation"] == "stratified 3-fold, these parameters, seed 0"


@pytest.mark.parametrize(
    ("model", "named"),
    [
        ({"ngram_range": [3, 1], "C": 1.0, "title_weight": 2}, "1 <= low <= high"),
        ({"ngram_range": [1, 3], "C": 0, "title_weight": 2}, "C=0.0 must be > 0"),
        ({"ngram_range": [1, 3], "C": 1.0}, "title_weight"),
        ({"ngram_range": "1-3", "C": 1.0, "title_weight": 2}, "ngram_range"),
    ],
)
def test_bad_model_settings_are_named(model, named):
    with pytest.raises(ValueError, match=named):
        router_params(model)
