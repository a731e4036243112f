"""Per-class precision, recall and F1: kept in every record, and computed from the confusion
matrix for a record stored before they were (retraining nothing)."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import precision_recall_fscore_support

PER_CLASS_SCORES = ("per_class_precision", "per_class_recall", "per_class_f1")


def per_class_scores(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> dict:
    """Each class's precision, recall and F1 (scikit-learn's, 0 where undefined), as the
    seeds' classification reports give them."""
    precision, recall, f1, _ = precision_recall_fscore_support(
        y_true, y_pred, labels=np.arange(n_classes), zero_division=0)
    return dict(zip(PER_CLASS_SCORES, (precision.tolist(), recall.tolist(), f1.tolist()),
                    strict=True))


def with_per_class_scores(metrics: dict | None) -> dict | None:
    """A part's stored metrics with per-class precision, recall and F1: as stored, or, for a
    record made before they were kept, from its confusion matrix (a new dict; the record is
    not altered)."""
    if not metrics or not metrics.get("confusion") or PER_CLASS_SCORES[-1] in metrics:
        return metrics
    return {**metrics, **scores_from_confusion(metrics["confusion"])}


def scores_from_confusion(confusion: list[list[int]]) -> dict:
    """``per_class_scores`` of the predictions a confusion matrix counts (rows true,
    columns predicted): how a record stored before they were kept gets them, retraining
    nothing."""
    counts = np.asarray(confusion, dtype=np.int64)
    classes = np.arange(len(counts))
    y_true = np.repeat(np.repeat(classes, len(classes)), counts.ravel())
    y_pred = np.repeat(np.tile(classes, len(classes)), counts.ravel())
    return per_class_scores(y_true, y_pred, len(classes))
