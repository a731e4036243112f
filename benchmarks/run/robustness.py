"""A job's robustness: its pipeline scored on corrupted copies of a fixed stratified subset of
its test images (data/corruptions.py: MNIST-C's corruptions, one fixed severity each), after
the clean test pass, through the pipeline's own predictions; no retraining.

The record keeps each corruption's accuracy, their mean, the clean accuracy on the same
subset and the ratio of the two (relative robustness) and the suite's fingerprint (two
records with the same fingerprint saw the same corrupted images) in ``metrics.robustness``,
and what it cost in ``timing.robustness_seconds``.
"""

from __future__ import annotations

import time

import numpy as np

SUITE_SEED = 0  # the subset and the noises: the same for every job and seed


def corrupted_predictions(predict, images: np.ndarray, labels: np.ndarray,
                          size: int) -> dict | None:
    """``predict`` (images -> labels) on the clean subset and on each corruption of it; the
    pipeline's own call, timed together with making the corrupted images when this process
    has not made them yet. None for images the suite does not take (colour images of one's
    own: it corrupts grayscale)."""
    # imported here: scikit-image loads when a job is scored, not with the runner (the GPU
    # machine's command lists what it must bring: tests/pipelines/test_deep_zoo.py)
    from ..data.corruptions import corrupted_suite, suite_fingerprint

    images = np.asarray(images)
    if images.ndim != 3 or images.dtype != np.uint8 or not size:
        return None
    started = time.perf_counter()
    suite = corrupted_suite(images, labels, size, SUITE_SEED)
    # one call for the clean subset and every corruption: a pipeline's fixed cost per call
    # (a network's predict loop, a feature step's setup) is paid once, not fifteen times
    predicted = suite.parts(predict(suite.images))
    return {"labels": labels[suite.indices], "predicted": predicted,
            "fingerprint": suite_fingerprint(suite.indices, SUITE_SEED),
            "seconds": time.perf_counter() - started}


def robustness_metrics(outcome: dict | None) -> dict | None:
    """The record's ``metrics.robustness`` from ``corrupted_predictions``' outcome."""

    from ..data.corruptions import CORRUPTIONS, SUITE_VERSION

    if outcome is None:
        return None
    labels = outcome["labels"]
    accuracy = {name: float(np.mean(predicted == labels))
                for name, predicted in outcome["predicted"].items()}
    clean = accuracy.pop("clean")
    mean = float(np.mean([accuracy[name] for name in CORRUPTIONS]))
    return {
        "suite": outcome["fingerprint"],
        "version": SUITE_VERSION,
        "images": int(len(labels)),
        "clean_accuracy": clean,
        "accuracy": accuracy,
        "mean_accuracy": mean,
        "relative": mean / clean if clean else None,
    }
