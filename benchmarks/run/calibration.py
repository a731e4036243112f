"""Calibration metrics for class probabilities: ECE, Brier, selective accuracy, reliability.

All functions take `proba` (n, k), each row a probability distribution over the k classes
0..k-1, and `y` (n,) the true classes. The top-label metrics (ECE, reliability, selective
accuracy) look at the predicted class (argmax, first on ties) and its probability.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from sklearn.metrics import brier_score_loss

DEFAULT_BINS = 15  # Guo et al. (2017), "On calibration of modern neural networks"


class ReliabilityBins(NamedTuple):
    """Per equal-width confidence bin: mean confidence, accuracy (NaN when empty), count."""

    edges: np.ndarray
    confidence: np.ndarray
    accuracy: np.ndarray
    count: np.ndarray


def _top_label(proba: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The confidence of each prediction and whether it is right."""
    proba, y = np.asarray(proba), np.asarray(y)
    if proba.ndim != 2 or y.shape != (len(proba),) or len(y) == 0:
        raise ValueError(f"expected proba (n, k) and y (n,), got {proba.shape} and {y.shape}")
    return proba.max(axis=1), proba.argmax(axis=1) == y


def reliability_bins(proba: np.ndarray, y: np.ndarray, bins: int = DEFAULT_BINS,
                     ) -> ReliabilityBins:
    """Bin the top-label confidences into `bins` equal-width bins (lo, hi] on [0, 1].

    The bins close on the right as in Guo et al. and sklearn's calibration_curve, which
    has no bin counts, and the counts are what ECE weights by.
    """
    confidence, correct = _top_label(proba, y)
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.digitize(confidence, edges[1:-1], right=True)
    count = np.bincount(which, minlength=bins)
    with np.errstate(invalid="ignore", divide="ignore"):  # empty bins become NaN
        mean_confidence = np.bincount(which, weights=confidence, minlength=bins) / count
        accuracy = np.bincount(which, weights=correct, minlength=bins) / count
    return ReliabilityBins(edges, mean_confidence, accuracy, count)


def expected_calibration_error(proba: np.ndarray, y: np.ndarray,
                               bins: int = DEFAULT_BINS) -> float:
    """Top-label ECE: the count-weighted mean of |accuracy - confidence| over the bins."""
    table = reliability_bins(proba, y, bins)
    full = table.count > 0
    gaps = np.abs(table.accuracy[full] - table.confidence[full])
    return float(np.sum(gaps * table.count[full]) / table.count.sum())


def brier_score(proba: np.ndarray, y: np.ndarray) -> float:
    """Multiclass Brier: the mean over images of the summed squared error, in [0, 2].

    sklearn's multiclass brier_score_loss is this sum; scale_by_half=False keeps it so for two
    classes too (where it would halve by default), and `labels` keeps classes that y lacks.
    """
    proba = np.asarray(proba)
    return float(brier_score_loss(np.asarray(y), proba, labels=np.arange(proba.shape[1]),
                                  scale_by_half=False))


def selective_accuracy(proba: np.ndarray, y: np.ndarray, coverage: float = 0.9) -> float:
    """Accuracy on the most confident `coverage` of the images (the fewest that reach it).

    Equal confidences keep their original order, so the result doesn't depend on the sort.
    """
    if not 0.0 < coverage <= 1.0:
        raise ValueError(f"coverage must be in (0, 1], got {coverage}")
    confidence, correct = _top_label(proba, y)
    # the tolerance keeps 0.7 * 10 = 7.000000000000001 at 7 images
    keep = max(1, math.ceil(coverage * len(correct) - 1e-9))
    order = np.argsort(-confidence, kind="stable")
    return float(correct[order[:keep]].mean())
