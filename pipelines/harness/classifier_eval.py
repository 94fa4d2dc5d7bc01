"""``zongzhi eval classifier``: the hotline router, cross-validated on the labelled reference messages.

Stratified ``folds``-fold cross-validation (5) on the 495 labelled messages
of the 2020 Teddy Cup. In each outer fold, features and hyper-parameters
(:data:`GRID`) are chosen by an inner stratified cross-validation on the
outer training part only, scored by macro-F1: the outer fold's messages are
never seen while choosing. The report gives macro-F1, accuracy, per-class
F1, the confusion matrix, the most frequent confusions, the parameters each
fold chose, and the flagging trade-off (the share of messages routed
automatically for an error budget among them) over the out-of-fold
probabilities.
"""

from __future__ import annotations

import time
from collections import Counter

import numpy as np
import pandas as pd
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score
from sklearn.model_selection import GridSearchCV, StratifiedKFold

from features.reply_units import ReplyUnit, units_named, weak_label
from models.hotline_routing import HotlineRouter, clean_message, flag_threshold
from pipelines.harness.router_training import message_texts, params_router

__all__ = [
    "GOAL_MACRO_F1",
    "GRID",
    "LEARNING_FRACTIONS",
    "REFERENCES",
    "evaluate_router",
    "learning_curve",
    "weak_label_ablation",
    "weak_labelled",
]

GOAL_MACRO_F1 = 0.90
#: Published figures on the same source (the issue's).
REFERENCES = {
    "char_ngram_linear_svm_on_the_495": 0.73,
    "prize_winning_team_on_about_8000": 0.91,
}
#: What the inner cross-validation chooses from.
GRID = {"ngram_range": [(1, 2), (1, 3), (2, 4)], "C": [0.3, 1.0, 3.0]}
#: Error budgets among automatically routed messages the trade-off is reported for.
ERROR_BUDGETS = (0.02, 0.05, 0.10)
#: Shares of each outer training fold the learning curve trains on.
LEARNING_FRACTIONS = (0.2, 0.4, 0.6, 0.8, 1.0)


def evaluate_router(
    messages: pd.DataFrame,
    *,
    folds: int = 5,
    inner_folds: int = 3,
    grid: dict | None = None,
    max_error_rate: float = 0.05,
    seed: int = 0,
) -> dict:
    """Nested cross-validation of :class:`HotlineRouter` on ``messages`` (``title``, ``body``, ``label``)."""
    started = time.monotonic()
    texts = message_texts(messages)
    labels = messages["label"].to_numpy(dtype=object)
    classes = sorted(set(labels))
    predicted = np.empty(len(labels), dtype=object)
    confidence = np.zeros(len(labels))
    chosen = []
    outer = StratifiedKFold(folds, shuffle=True, random_state=seed)
    for train, test in outer.split(texts, labels):
        search = GridSearchCV(
            HotlineRouter(),
            grid or GRID,
            scoring="f1_macro",
            cv=StratifiedKFold(inner_folds, shuffle=True, random_state=seed),
        )
        search.fit(list(texts[train]), labels[train])
        chosen.append({k: _plain(v) for k, v in search.best_params_.items()})
        proba = search.best_estimator_.predict_proba(list(texts[test]))
        best = proba.argmax(axis=1)
        predicted[test] = search.best_estimator_.classes_[best]
        confidence[test] = proba[np.arange(len(test)), best]

    correct = predicted == labels
    per_class = f1_score(labels, predicted, labels=classes, average=None)
    matrix = confusion_matrix(labels, predicted, labels=classes)
    confusions = Counter(
        (str(t), str(p)) for t, p in zip(labels, predicted, strict=True) if t != p
    ).most_common(8)
    macro = float(f1_score(labels, predicted, average="macro"))
    return {
        "messages": len(labels),
        "classes": classes,
        "folds": folds,
        "inner_folds": inner_folds,
        "macro_f1": round(macro, 4),
        "accuracy": round(float(accuracy_score(labels, predicted)), 4),
        "per_class_f1": {c: round(float(f), 4) for c, f in zip(classes, per_class, strict=True)},
        "confusion_matrix": {
            "labels": classes,
            "rows_true_columns_predicted": matrix.tolist(),
        },
        "top_confusions": [{"true": t, "predicted": p, "messages": n} for (t, p), n in confusions],
        "chosen_per_fold": chosen,
        "flagging": {
            "max_error_rate": max_error_rate,
            **flag_threshold(confidence, correct, max_error_rate),
            "by_error_budget": {
                str(budget): flag_threshold(confidence, correct, budget)["routed_share"]
                for budget in ERROR_BUDGETS
            },
        },
        "goal_macro_f1": GOAL_MACRO_F1,
        "met": macro >= GOAL_MACRO_F1,
        "references": dict(REFERENCES),
        "seconds": round(time.monotonic() - started, 1),
    }


def _plain(value):
    return list(value) if isinstance(value, tuple) else value


def learning_curve(
    messages: pd.DataFrame,
    params: dict,
    *,
    fractions=LEARNING_FRACTIONS,
    folds: int = 5,
    seed: int = 0,
) -> list[dict]:
    """Out-of-fold macro-F1 when each outer training fold is cut to each of ``fractions``.

    The cut is stratified and nested (a smaller share is part of a larger
    one); the held-out folds are always the whole of theirs. How fast F1
    still grows at the full 495 bounds what more labelled messages could
    give.
    """
    texts = message_texts(messages, params["title_weight"])
    labels = messages["label"].to_numpy(dtype=object)
    rng = np.random.default_rng(seed)
    predicted = {f: np.empty(len(labels), dtype=object) for f in fractions}
    outer = StratifiedKFold(folds, shuffle=True, random_state=seed)
    for train, test in outer.split(texts, labels):
        order = {c: rng.permutation(train[labels[train] == c]) for c in set(labels[train])}
        for fraction in fractions:
            part = np.concatenate(
                [rows[: max(3, round(fraction * rows.size))] for rows in order.values()]
            )
            model = params_router(params).fit(list(texts[part]), labels[part])
            predicted[fraction][test] = model.predict(list(texts[test]))
    per_fold = len(labels) * (folds - 1) / folds
    return [
        {
            "fraction": f,
            "training_messages": round(f * per_fold),
            "macro_f1": round(float(f1_score(labels, predicted[f], average="macro")), 4),
        }
        for f in fractions
    ]


def weak_label_ablation(
    messages: pd.DataFrame,
    weak: pd.DataFrame,
    params: dict,
    *,
    weights=(0.25, 0.5, 1.0),
    folds: int = 5,
    seed: int = 0,
) -> dict:
    """Out-of-fold macro-F1 on the labelled messages, without and with the weak-labelled ones.

    The weak messages (``title``, ``body``, ``label``; e.g. replies' units)
    join every outer training fold with each of ``weights``; they are never
    scored. The same folds and parameters throughout, so the figures differ
    by the weak labels alone.
    """
    texts = message_texts(messages, params["title_weight"])
    labels = messages["label"].to_numpy(dtype=object)
    weak_texts = list(message_texts(weak, params["title_weight"]))
    weak_labels = weak["label"].to_numpy(dtype=object)
    predicted = {w: np.empty(len(labels), dtype=object) for w in (0.0, *weights)}
    outer = StratifiedKFold(folds, shuffle=True, random_state=seed)
    for train, test in outer.split(texts, labels):
        for weight, out in predicted.items():
            x, y = list(texts[train]), labels[train]
            sample_weight = None
            if weight:
                x = x + weak_texts
                y = np.concatenate([y, weak_labels])
                sample_weight = np.concatenate(
                    [np.ones(train.size), np.full(len(weak_texts), weight)]
                )
            model = params_router(params).fit(x, y, sample_weight=sample_weight)
            out[test] = model.predict(list(texts[test]))
    return {
        "weak_messages": len(weak_labels),
        "weak_by_label": dict(Counter(str(label) for label in weak_labels).most_common()),
        "macro_f1_by_weight": {
            str(w): round(float(f1_score(labels, p, average="macro")), 4)
            for w, p in predicted.items()
        },
    }


def self_training_ablation(
    messages: pd.DataFrame,
    unlabelled: pd.DataFrame,
    params: dict,
    *,
    min_probabilities=(0.9, 0.7),
    weight: float = 0.5,
    folds: int = 5,
    seed: int = 0,
) -> dict:
    """Out-of-fold macro-F1 without and with one round of self-training on unlabelled messages.

    In each outer fold the router fitted on the training part labels the
    ``unlabelled`` messages (``title``, ``body``); those it is at least
    ``min_probability`` sure of join the training part with ``weight``, and
    the router is fitted again. The same folds and parameters throughout.
    """
    texts = message_texts(messages, params["title_weight"])
    labels = messages["label"].to_numpy(dtype=object)
    pool = message_texts(unlabelled, params["title_weight"])
    pool = pool[[bool(t) for t in pool]]
    predicted = {p: np.empty(len(labels), dtype=object) for p in (1.0, *min_probabilities)}
    taken = {p: [] for p in min_probabilities}
    outer = StratifiedKFold(folds, shuffle=True, random_state=seed)
    for train, test in outer.split(texts, labels):
        x, y = list(texts[train]), labels[train]
        first = params_router(params).fit(x, y)
        predicted[1.0][test] = first.predict(list(texts[test]))
        proba = first.predict_proba(list(pool))
        guess = first.classes_[proba.argmax(axis=1)]
        for least in min_probabilities:
            sure = proba.max(axis=1) >= least
            taken[least].append(int(sure.sum()))
            model = params_router(params).fit(
                x + list(pool[sure]),
                np.concatenate([y, guess[sure]]),
                sample_weight=np.concatenate([np.ones(train.size), np.full(sure.sum(), weight)]),
            )
            predicted[least][test] = model.predict(list(texts[test]))
    return {
        "unlabelled_messages": len(pool),
        "weight": weight,
        "pseudo_labelled_per_fold": {str(p): taken[p] for p in min_probabilities},
        "macro_f1_by_min_probability": {
            ("none" if p == 1.0 else str(p)): round(
                float(f1_score(labels, out, average="macro")), 4
            )
            for p, out in predicted.items()
        },
    }


def weak_labelled(
    replied: pd.DataFrame, units: tuple[ReplyUnit, ...], labelled: pd.DataFrame
) -> pd.DataFrame:
    """Answered messages (``title``, ``body``, ``reply``) labelled by the first unit their reply names.

    Messages whose reply names no unit with a class are left out, and so is
    any whose subject is also a labelled message's (the two sets must not
    share a message, or the ablation would score on what it trained on).
    """
    labels = [weak_label(units_named(reply, units), units) for reply in replied["reply"]]
    known = {clean_message(t) for t in labelled["title"]}
    keep = [
        label is not None and clean_message(title) not in known
        for label, title in zip(labels, replied["title"], strict=True)
    ]
    weak = replied.loc[keep, ["title", "body"]].copy()
    weak["label"] = [label for label, k in zip(labels, keep, strict=True) if k]
    return weak.reset_index(drop=True)
