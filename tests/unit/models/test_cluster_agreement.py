import random

import pytest
from sklearn.metrics.cluster import pair_confusion_matrix

from models.cluster_agreement import adjusted_rand, pairwise_scores


def test_pairwise_counts_equal_sklearns_pair_confusion_matrix():
    rng = random.Random(3)
    truth = [rng.randrange(30) for _ in range(500)]
    predicted = [t if rng.random() < 0.9 else rng.randrange(40) for t in truth]
    scores = pairwise_scores(truth, predicted)
    # sklearn counts ordered pairs.
    (_, fp), (fn, tp) = pair_confusion_matrix(truth, predicted) // 2
    assert scores["pairs_correct"] == tp
    assert scores["pairs_predicted"] == tp + fp
    assert scores["pairs_true"] == tp + fn
    assert scores["f1"] == pytest.approx(2 * tp / (2 * tp + fp + fn), abs=1e-4)


def test_all_singletons_are_perfectly_precise_and_recall_nothing():
    scores = pairwise_scores(["a", "a", "b"], [1, 2, 3])
    assert (scores["precision"], scores["recall"], scores["f1"]) == (1.0, 0.0, 0.0)


def test_ari_of_a_relabelled_partition_is_one_and_of_a_merge_less():
    assert adjusted_rand([1, 1, 2, 2, 3, 3], ["x", "x", "y", "y", "z", "z"]) == 1.0
    assert adjusted_rand([1, 1, 2, 2, 3, 3], ["x"] * 6) == 0.0


def test_label_lists_of_different_lengths_are_refused():
    with pytest.raises(ValueError, match="truth has 2 labels but predicted has 1"):
        pairwise_scores([1, 2], [1])
