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
)

from ..records.scores import per_class_scores


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
