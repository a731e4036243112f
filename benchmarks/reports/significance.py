"""How sure is a leaderboard? Bootstrap intervals and McNemar's exact test, from scipy.

Both work on the per-image test predictions each record keeps, so they are recomputed from
the store by ``--report-only`` and are byte-stable (fixed resampling seed).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
from scipy import stats

BOOTSTRAP_RESAMPLES = 2000
BOOTSTRAP_SEED = 0
SIGNIFICANCE = 0.05


def bootstrap_accuracy_ci(correct: np.ndarray, *, confidence: float = 0.95,
                          resamples: int = BOOTSTRAP_RESAMPLES,
                          seed: int = BOOTSTRAP_SEED) -> tuple[float, float]:
    """Percentile bootstrap interval of the accuracy, resampling test images with replacement."""
    correct = np.asarray(correct, dtype=bool)
    return _bootstrap_accuracy_ci(np.packbits(correct).tobytes(), len(correct), confidence,
                                  resamples, seed)


# One report run draws the same interval many times (the markdown and HTML leaderboards, the
# index, the README excerpt, the study reports: 373 calls for about 120 runs, 57 of its 70 s
# on one core); the interval is a function of the correctness vector and the settings alone.
@functools.lru_cache(maxsize=4096)
def _bootstrap_accuracy_ci(packed: bytes, n_images: int, confidence: float, resamples: int,
                           seed: int) -> tuple[float, float]:
    correct = np.unpackbits(np.frombuffer(packed, dtype=np.uint8), count=n_images)
    correct = correct.astype(np.float64)
    if correct.min() == correct.max():  # every resample has the same mean
        return float(correct[0]), float(correct[0])
    result = stats.bootstrap((correct,), np.mean, n_resamples=resamples, method="percentile",
                             confidence_level=confidence, vectorized=True,
                             rng=np.random.default_rng(seed))
    interval = result.confidence_interval
    return float(interval.low), float(interval.high)


def bootstrap_difference_ci(first_correct: np.ndarray, second_correct: np.ndarray, *,
                            confidence: float = 0.95, resamples: int = BOOTSTRAP_RESAMPLES,
                            seed: int = BOOTSTRAP_SEED) -> tuple[float, float]:
    """Percentile bootstrap interval of the accuracy difference (first - second) of two
    models on the same test images, resampling the images in pairs (scipy's paired
    bootstrap), so the images both get right or wrong cancel out."""
    first = np.asarray(first_correct, dtype=np.float64)
    second = np.asarray(second_correct, dtype=np.float64)
    if np.array_equal(first, second):
        return 0.0, 0.0
    result = stats.bootstrap((first, second), lambda a, b, axis=-1: a.mean(axis) - b.mean(axis),
                             paired=True, n_resamples=resamples, method="percentile",
                             confidence_level=confidence, vectorized=True,
                             rng=np.random.default_rng(seed))
    interval = result.confidence_interval
    return float(interval.low), float(interval.high)


@dataclass(frozen=True)
class McNemar:
    only_first_correct: int  # images the first model gets right and the second wrong
    only_second_correct: int
    p_value: float

    @property
    def distinguishable(self) -> bool:
        return self.p_value < SIGNIFICANCE


def mcnemar_exact(first_correct: np.ndarray, second_correct: np.ndarray) -> McNemar:
    """McNemar's exact test: a two-sided binomial test on the discordant pairs."""
    first_correct = np.asarray(first_correct, dtype=bool)
    second_correct = np.asarray(second_correct, dtype=bool)
    if first_correct.shape != second_correct.shape:
        raise ValueError("McNemar's test needs predictions on the same test images")
    b = int(np.sum(first_correct & ~second_correct))
    c = int(np.sum(~first_correct & second_correct))
    p_value = 1.0 if b + c == 0 else float(stats.binomtest(min(b, c), b + c, 0.5).pvalue)
    return McNemar(b, c, min(p_value, 1.0))
