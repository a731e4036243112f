"""Scores of one set of predictions, from scikit-learn's metrics; fractions in [0, 1]."""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.metrics import (
    accuracy_score,
    balanced_accuracy_score,
    cohen_kappa_score,
    confusion_matrix,
    f1_score,
    log_loss,
    precision_recall_fscore_support,
)

PER_CLASS_SCORES = ("per_class_precision", "per_class_recall", "per_class_f1")


def score(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int,
          probabilities: np.ndarray | None = None) -> dict:
    """Accuracy, macro-F1, balanced accuracy, Cohen's kappa, per-class accuracy (the class's
    recall), per-class precision, recall and F1, confusion matrix (rows true, columns
    predicted) and, given probabilities, log-loss."""
    labels = np.arange(n_classes)
    y_true = np.asarray(y_true)
    y_pred = np.asarray(y_pred)
    confusion = confusion_matrix(y_true, y_pred, labels=labels)
    support = confusion.sum(axis=1)
    per_class = [
        float(confusion[index, index] / support[index]) if support[index] else None
        for index in labels
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # classes absent from a small subsample
        result = {
            "n": int(len(y_true)),
            "accuracy": float(accuracy_score(y_true, y_pred)),
            "macro_f1": float(f1_score(y_true, y_pred, labels=labels, average="macro",
                                       zero_division=0)),
            "balanced_accuracy": float(balanced_accuracy_score(y_true, y_pred)),
            "kappa": float(cohen_kappa_score(y_true, y_pred, labels=labels)),
            "log_loss": None,
            "per_class": per_class,
            **per_class_scores(y_true, y_pred, n_classes),
            "confusion": confusion.tolist(),
        }
        if probabilities is not None and probabilities.shape == (len(y_true), n_classes) \
                and np.isfinite(probabilities).all():
            result["log_loss"] = float(log_loss(y_true, probabilities, labels=labels))
    return result


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
