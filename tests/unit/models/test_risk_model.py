import numpy as np
import pandas as pd
import pytest
from sklearn.calibration import calibration_curve

from models.risk_model import RiskModel


def _data(n=3000, seed=1):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(
        {
            "suspect_incidents": rng.poisson(1.0, n),
            "companions": rng.poisson(0.3, n),
            "noise": rng.normal(0, 1, n),
        }
    )
    logit = -3 + 1.2 * X["suspect_incidents"] + 0.8 * X["companions"]
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return X, y


def test_probabilities_are_calibrated_on_held_out_data():
    X, y = _data(8000)
    model = RiskModel().fit(X.iloc[:4000], y.iloc[:4000])
    p = model.predict_proba(X.iloc[4000:])[:, 1]
    observed, predicted = calibration_curve(y.iloc[4000:], p, n_bins=5, strategy="quantile")
    # Expected calibration error over equal-size bins of 800.
    assert np.abs(observed - predicted).mean() < 0.04
    assert model.calibrated_folds_ == 3


def test_reasons_name_the_features_that_raise_a_score():
    X, y = _data()
    model = RiskModel(
        reason_labels={"suspect_incidents": "作为嫌疑人涉事", "companions": "同行车辆"}
    ).fit(X, y)
    risky = pd.DataFrame({"suspect_incidents": [6], "companions": [3], "noise": [0.0]})
    reasons = model.top_reasons(risky, k=2)[0]
    assert [name for name, _ in reasons] == ["作为嫌疑人涉事", "同行车辆"]
    assert all(value > 0 for _, value in reasons)
    # The terms add up to the explanation model's logit.
    terms = model.contributions(risky).sum(axis=1).iloc[0]
    logistic = model.explainer_[-1]
    assert terms + logistic.intercept_[0] == pytest.approx(
        logistic.decision_function(model.explainer_[0].transform(risky))[0]
    )


def test_one_class_is_refused_with_the_classes_named():
    X, _ = _data(50)
    with pytest.raises(ValueError, match=r"classes \[0\]; both 0 and 1"):
        RiskModel().fit(X, np.zeros(50))
