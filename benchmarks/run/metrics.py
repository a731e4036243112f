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
from .calibration import (
    brier_score,
    expected_calibration_error,
    reliability_bins,
    selective_accuracy,
)


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
            result.update(calibration_scores(probabilities, y_true))
    return result


SELECTIVE_COVERAGE = 0.9  # the most confident 90% of the images


def calibration_scores(probabilities: np.ndarray, y_true: np.ndarray) -> dict:
    """How far the probabilities can be believed: expected calibration error (15 equal-width
    bins), multiclass Brier score, the accuracy of the most confident 90%, and the
    reliability diagram's bins (kept in the record, so the reports draw it without the
    probabilities)."""
    table = reliability_bins(probabilities, y_true)
    return {
        "ece": expected_calibration_error(probabilities, y_true),
        "brier": brier_score(probabilities, y_true),
        "selective_accuracy_90": selective_accuracy(probabilities, y_true, SELECTIVE_COVERAGE),
        "reliability": {
            "confidence": [None if np.isnan(v) else float(v) for v in table.confidence],
            "accuracy": [None if np.isnan(v) else float(v) for v in table.accuracy],
            "count": [int(v) for v in table.count],
        },
    }
