"""Classification metrics: confusion matrix, per-class precision/recall/F1, top-k accuracy.

Definitions follow scikit-learn's `confusion_matrix` and `classification_report` (zero_division=0):
rows of the confusion matrix are true classes, columns predicted classes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, num_classes: int) -> np.ndarray:
    """(num_classes, num_classes) int64 counts; entry [i, j] = images of class i predicted as j."""
    y_true = np.asarray(y_true, np.int64)
    y_pred = np.asarray(y_pred, np.int64)
    flat = np.bincount(y_true * num_classes + y_pred, minlength=num_classes * num_classes)
    return flat.reshape(num_classes, num_classes)


def top_k_accuracy(scores: np.ndarray, y_true: np.ndarray, k: int) -> float:
    """Fraction of rows whose true class is among the k highest scores (ties broken by index)."""
    scores = np.asarray(scores)
    if len(scores) == 0:
        return 0.0
    k = min(k, scores.shape[1])
    top = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    return float((top == np.asarray(y_true)[:, None]).any(axis=1).mean())


def _safe_divide(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    return np.divide(num, den, out=np.zeros_like(num, dtype=np.float64), where=den > 0)


@dataclass
class ClassificationMetrics:
    """Everything `evaluate` reports; `to_dict` is what metrics.json holds."""

    class_names: list[str]
    confusion: np.ndarray
    top_k: dict[int, float] = field(default_factory=dict)
    loss: float | None = None

    @property
    def support(self) -> np.ndarray:
        return self.confusion.sum(axis=1)

    @property
    def precision(self) -> np.ndarray:
        return _safe_divide(np.diag(self.confusion).astype(np.float64), self.confusion.sum(axis=0))

    @property
    def recall(self) -> np.ndarray:
        return _safe_divide(np.diag(self.confusion).astype(np.float64), self.support)

    @property
    def f1(self) -> np.ndarray:
        p, r = self.precision, self.recall
        return _safe_divide(2 * p * r, p + r)

    @property
    def accuracy(self) -> float:
        total = self.confusion.sum()
        return float(np.trace(self.confusion) / total) if total else 0.0

    def averages(self) -> dict[str, dict[str, float]]:
        """Macro and support-weighted averages, as in scikit-learn's report."""
        weights = self.support / max(self.support.sum(), 1)
        out = {}
        for name, w in (("macro avg", None), ("weighted avg", weights)):
            out[name] = {m: float(np.average(getattr(self, m), weights=w)) if len(self.class_names) else 0.0
                         for m in ("precision", "recall", "f1")}
        return out

    def to_dict(self) -> dict[str, Any]:
        per_class = {name: {"precision": float(self.precision[i]), "recall": float(self.recall[i]),
                            "f1": float(self.f1[i]), "support": int(self.support[i])}
                     for i, name in enumerate(self.class_names)}
        return {"accuracy": self.accuracy, "loss": self.loss,
                **{f"top_{k}_accuracy": v for k, v in sorted(self.top_k.items())},
                "classes": per_class, **self.averages(), "class_names": list(self.class_names),
                "confusion_matrix": self.confusion.tolist(), "images": int(self.confusion.sum())}


def classification_metrics(probabilities: np.ndarray, y_true: np.ndarray, class_names: list[str],
                           top_k: tuple[int, ...] = (1,)) -> ClassificationMetrics:
    """Metrics of softmax outputs (N, C) against integer labels; loss is the mean cross-entropy."""
    probabilities = np.asarray(probabilities, np.float64)
    y_true = np.asarray(y_true, np.int64)
    pred = probabilities.argmax(axis=1) if len(probabilities) else np.zeros(0, np.int64)
    confusion = confusion_matrix(y_true, pred, len(class_names))
    picked = probabilities[np.arange(len(y_true)), y_true] if len(y_true) else np.zeros(0)
    loss = float(-np.log(np.clip(picked, 1e-7, 1.0)).mean()) if len(y_true) else None
    ks = sorted({1, *top_k})
    return ClassificationMetrics(list(class_names), confusion, {k: top_k_accuracy(probabilities, y_true, k)
                                                                for k in ks}, loss)
