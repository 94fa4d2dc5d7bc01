"""How well a clustering agrees with the truth: pairwise precision, recall, F1, and ARI.

Entity resolution is judged on pairs of mentions: a pair is *predicted*
when both mentions resolve to one entity and *true* when they are one
real person or vehicle. Counted from the contingency table, so it takes
linear time in the mentions, not quadratic.

Examples
--------
>>> pairwise_scores(["a", "a", "b", "b"], [1, 1, 1, 2])
{'pairs_true': 2, 'pairs_predicted': 3, 'pairs_correct': 1, 'precision': 0.3333, 'recall': 0.5, 'f1': 0.4}
"""

from __future__ import annotations

import pandas as pd

__all__ = ["pairwise_scores", "adjusted_rand"]


def _pairs(counts) -> int:
    return int(sum(int(n) * (int(n) - 1) // 2 for n in counts))


def pairwise_scores(truth, predicted) -> dict:
    """Pairwise precision, recall and F1 of ``predicted`` labels against ``truth``."""
    truth, predicted = list(truth), list(predicted)
    if len(truth) != len(predicted):
        raise ValueError(f"truth has {len(truth)} labels but predicted has {len(predicted)}")
    frame = pd.DataFrame({"t": truth, "p": predicted})
    true_pairs = _pairs(frame.groupby("t").size())
    predicted_pairs = _pairs(frame.groupby("p").size())
    correct = _pairs(frame.groupby(["t", "p"]).size())
    precision = correct / predicted_pairs if predicted_pairs else 1.0
    recall = correct / true_pairs if true_pairs else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "pairs_true": true_pairs,
        "pairs_predicted": predicted_pairs,
        "pairs_correct": correct,
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "f1": round(f1, 4),
    }


def adjusted_rand(truth, predicted) -> float:
    """The adjusted Rand index (scikit-learn's), rounded to 4 places.

    >>> adjusted_rand(["r1", "r1", "r2", "r2"], [5, 5, 7, 7])
    1.0
    """
    from sklearn.metrics import adjusted_rand_score

    return round(float(adjusted_rand_score(list(truth), list(predicted))), 4)
