"""``zongzhi train classifier``: fit the hotline router on the labelled messages, and say how good it is.

The router is fitted with the configured parameters
(``hotline_routing.model``: the setting ``zongzhi eval classifier``'s nested
search chose) on every labelled message. Before that, stratified
``folds``-fold cross-validation with the same parameters gives out-of-fold
probabilities for every message: their macro-F1 and accuracy go on the
model's card, and the flagging threshold is chosen from them for the error
budget (``hotline_routing.max_error_rate``), never from messages the model
was fitted on.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

import numpy as np
import pandas as pd
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import StratifiedKFold, cross_val_predict

from models.hotline_routing import HotlineRouter, flag_threshold, message_text

__all__ = ["message_texts", "params_router", "router_params", "train_router"]


def router_params(model: dict) -> dict:
    """The router's parameters from ``hotline_routing.model``, checked; ValueError names the bad one.

    >>> router_params({"ngram_range": [1, 3], "C": 1.0, "title_weight": 2})
    {'ngram_range': [1, 3], 'C': 1.0, 'title_weight': 2}
    """
    try:
        low, high = (int(n) for n in model["ngram_range"])
        c, weight = float(model["C"]), int(model["title_weight"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(
            f"hotline_routing.model={model!r} needs ngram_range [low, high], C and title_weight "
            f"({exc})"
        ) from None
    if not 1 <= low <= high:
        raise ValueError(f"ngram_range {[low, high]} must have 1 <= low <= high")
    if c <= 0 or weight < 0:
        raise ValueError(f"C={c} must be > 0 and title_weight={weight} >= 0")
    return {"ngram_range": [low, high], "C": c, "title_weight": weight}


def message_texts(messages: pd.DataFrame, title_weight: int = 2) -> np.ndarray:
    """The text the router reads of each message (``title``, ``body``), as an object array."""
    return np.array(
        [
            message_text(t, b, title_weight)
            for t, b in zip(messages["title"], messages["body"], strict=True)
        ],
        dtype=object,
    )


def params_router(params: dict, threshold: float = 0.0) -> HotlineRouter:
    """An unfitted router with the parameters of :func:`router_params`."""
    return HotlineRouter(
        ngram_range=tuple(params["ngram_range"]), C=params["C"], threshold=threshold
    )


def train_router(
    messages: pd.DataFrame,
    params: dict,
    *,
    max_error_rate: float,
    folds: int = 5,
    seed: int = 0,
) -> tuple[HotlineRouter, dict]:
    """The router fitted on ``messages`` (``title``, ``body``, ``label``) and its card's figures."""
    started = time.monotonic()
    texts = list(message_texts(messages, params["title_weight"]))
    labels = messages["label"].to_numpy(dtype=object)
    splits = StratifiedKFold(folds, shuffle=True, random_state=seed)
    proba = cross_val_predict(
        params_router(params), texts, labels, cv=splits, method="predict_proba"
    )
    classes = np.array(sorted(set(labels)), dtype=object)
    predicted = classes[proba.argmax(axis=1)]
    confidence = proba.max(axis=1)
    trade_off = flag_threshold(confidence, predicted == labels, max_error_rate)
    fitted = params_router(params, trade_off["threshold"]).fit(texts, labels)
    return fitted, {
        "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "params": params,
        "threshold": round(trade_off["threshold"], 6),
        "max_error_rate": max_error_rate,
        "metrics": {
            "cross_validation": f"stratified {folds}-fold, these parameters, seed {seed}",
            "macro_f1": round(float(f1_score(labels, predicted, average="macro")), 4),
            "accuracy": round(float(accuracy_score(labels, predicted)), 4),
            "per_class_f1": {
                str(c): round(float(f), 4)
                for c, f in zip(
                    classes,
                    f1_score(labels, predicted, labels=classes, average=None),
                    strict=True,
                )
            },
            "routed_share": trade_off["routed_share"],
            "routed_error_rate": trade_off["routed_error_rate"],
        },
        "seconds": round(time.monotonic() - started, 1),
    }
