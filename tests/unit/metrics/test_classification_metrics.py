"""Classification metrics agree with scikit-learn on random labels."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import classification_report, confusion_matrix, log_loss, top_k_accuracy_score

from taokit.metrics.classification import classification_metrics, top_k_accuracy
from taokit.metrics.classification import confusion_matrix as our_confusion


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_report_and_confusion_match_sklearn(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n, c = 300, 6
    probs = rng.dirichlet(np.ones(c), size=n)
    y = rng.integers(0, c - 1, n)  # the last class never occurs: zero support, zero division
    names = [f"c{i}" for i in range(c)]
    metrics = classification_metrics(probs, y, names, top_k=(3,))
    pred = probs.argmax(1)
    assert np.array_equal(metrics.confusion, confusion_matrix(y, pred, labels=range(c)))
    report = classification_report(y, pred, labels=range(c), target_names=names, output_dict=True, zero_division=0)
    for i, name in enumerate(names):
        assert metrics.precision[i] == pytest.approx(report[name]["precision"])
        assert metrics.recall[i] == pytest.approx(report[name]["recall"])
        assert metrics.f1[i] == pytest.approx(report[name]["f1-score"])
        assert metrics.support[i] == report[name]["support"]
    for avg in ("macro avg", "weighted avg"):
        ours = metrics.averages()[avg]
        assert ours["precision"] == pytest.approx(report[avg]["precision"])
        assert ours["f1"] == pytest.approx(report[avg]["f1-score"])
    assert metrics.accuracy == pytest.approx(report["accuracy"])
    assert metrics.top_k[3] == pytest.approx(top_k_accuracy_score(y, probs, k=3, labels=range(c)))
    assert metrics.loss == pytest.approx(log_loss(y, probs, labels=range(c)), rel=1e-6)
    d = metrics.to_dict()
    assert d["classes"]["c5"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 0}
    assert d["images"] == n and d["top_3_accuracy"] == metrics.top_k[3]


def test_edge_cases() -> None:
    assert top_k_accuracy(np.zeros((0, 3)), np.zeros(0, int), 1) == 0.0
    assert top_k_accuracy(np.eye(3), np.array([2, 1, 0]), 5) == 1.0  # k above the class count
    cm = our_confusion(np.array([0, 0, 1]), np.array([1, 0, 1]), 2)
    assert cm.tolist() == [[1, 1], [0, 1]]
