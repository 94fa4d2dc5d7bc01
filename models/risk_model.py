"""Risk scores for persons and places: calibrated probabilities with their reasons.

A scikit-learn estimator. The outcome is whether an entity is involved in
an incident of concern in the days after a cut-off (for a person: as a
suspect; for a place: any incident), learned from features of the days
before it; the nightly job then scores everyone on features up to the
night, so a score reads as "the probability of an incident of concern in
the next days, as the past nights' outcomes were".

The model is a standardized logistic regression, calibrated by isotonic
regression on cross-validation folds (``CalibratedClassifierCV``), so that
the probabilities are probabilities. Each score comes with its top
contributing features: the terms ``coef_j × (x_j − mean_j) / scale_j`` of
the linear model's logit, largest first, named in Chinese for duty staff
(``reason_labels``).

Examples
--------
>>> import numpy as np, pandas as pd
>>> rng = np.random.default_rng(0)
>>> X = pd.DataFrame({"incidents": rng.poisson(2, 400), "night_share": rng.random(400)})
>>> y = (X["incidents"] + rng.normal(0, 1, 400) > 3).astype(int)
>>> model = RiskModel(reason_labels={"incidents": "涉事次数"}).fit(X, y)
>>> p = model.predict_proba(X)[:, 1]
>>> busiest = X.loc[[X["incidents"].idxmax()]]
>>> bool(((p >= 0) & (p <= 1)).all()), model.top_reasons(busiest, k=1)[0][0][0]
(True, '涉事次数')
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

__all__ = ["RiskModel"]


class RiskModel(BaseEstimator, ClassifierMixin):
    """Calibrated logistic risk model with per-score reasons.

    Parameters
    ----------
    reason_labels : dict, optional
        Display names of the features (missing ones show their column name).
    calibration_folds : int, default 3
        Folds of the isotonic calibration.
    C : float, default 1.0
        Inverse regularization strength of the logistic regression.
    """

    def __init__(
        self, reason_labels: dict | None = None, calibration_folds: int = 3, C: float = 1.0
    ):
        self.reason_labels = reason_labels
        self.calibration_folds = calibration_folds
        self.C = C

    def fit(self, X: pd.DataFrame, y):
        """Fit the calibrated classifier on the feature frame ``X`` and labels ``y`` (0/1)."""
        y = np.asarray(y).astype(int)
        classes = np.unique(y)
        if len(classes) != 2:
            raise ValueError(
                f"risk labels hold classes {classes.tolist()}; both 0 and 1 are "
                "needed to learn a risk"
            )
        self.features_ = list(X.columns)
        base = make_pipeline(StandardScaler(), LogisticRegression(C=self.C, max_iter=1000))
        folds = int(min(self.calibration_folds, np.bincount(y).min()))
        if folds >= 2:
            self.calibrated_ = CalibratedClassifierCV(base, method="isotonic", cv=folds).fit(X, y)
        else:
            self.calibrated_ = base.fit(X, y)  # too few positives to calibrate
        # The explanation model: the same pipeline fitted on all the data.
        self.explainer_ = make_pipeline(
            StandardScaler(), LogisticRegression(C=self.C, max_iter=1000)
        ).fit(X, y)
        self.classes_ = classes
        self.calibrated_folds_ = folds if folds >= 2 else 0
        return self

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        """Calibrated class probabilities, one row per row of ``X``."""
        return self.calibrated_.predict_proba(X[self.features_])

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """Class 1 where the calibrated risk is at least 0.5."""
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(int)

    def contributions(self, X: pd.DataFrame) -> pd.DataFrame:
        """Each feature's term of the logit, per row."""
        scaler, logistic = self.explainer_[0], self.explainer_[-1]
        z = scaler.transform(X[self.features_])
        return pd.DataFrame(z * logistic.coef_[0], columns=self.features_, index=X.index)

    def top_reasons(self, X: pd.DataFrame, k: int = 3) -> list[list[tuple[str, float]]]:
        """The ``k`` features that raise each row's score most, with their terms."""
        labels = self.reason_labels or {}
        terms = self.contributions(X)
        out = []
        for _, row in terms.iterrows():
            top = row.sort_values(ascending=False).head(k)
            out.append(
                [
                    (labels.get(name, name), round(float(value), 3))
                    for name, value in top.items()
                    if value > 0
                ]
            )
        return out
