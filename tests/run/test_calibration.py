"""Calibration metrics against hand computations, scikit-learn and true properties."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from sklearn.calibration import calibration_curve

import benchmarks.run.calibration as K


def _two_class(confidences, correct) -> tuple[np.ndarray, np.ndarray]:
    """Predictions of class 0 with the given confidences, labelled right or wrong."""
    confidences = np.asarray(confidences, float)
    proba = np.column_stack([confidences, 1 - confidences])
    return proba, np.where(correct, 0, 1)


def test_ece_of_a_perfectly_calibrated_example_is_zero():
    # 10 predictions at 0.8 confidence, 8 of them right
    proba, y = _two_class([0.8] * 10, [True] * 8 + [False] * 2)
    assert K.expected_calibration_error(proba, y) == pytest.approx(0.0, abs=1e-12)
    assert K.expected_calibration_error(np.eye(3), np.arange(3)) == 0.0


def test_ece_of_a_two_bin_example_by_hand():
    proba = np.array([
        [0.4, 0.3, 0.3], [0.4, 0.35, 0.25], [0.4, 0.3, 0.3],  # (0, 0.5]: 1 of 3 right
        [0.7, 0.2, 0.1], [0.9, 0.05, 0.05],  # (0.5, 1]: mean confidence 0.8, 1 of 2 right
    ])
    y = np.array([0, 1, 2, 0, 1])
    # 3/5 * |1/3 - 0.4| + 2/5 * |1/2 - 0.8| = 0.04 + 0.12
    assert K.expected_calibration_error(proba, y, bins=2) == pytest.approx(0.16)
    table = K.reliability_bins(proba, y, bins=2)
    np.testing.assert_allclose(table.confidence, [0.4, 0.8])
    np.testing.assert_allclose(table.accuracy, [1 / 3, 1 / 2])
    assert table.count.tolist() == [3, 2]


def test_bins_close_on_the_right_and_empty_ones_are_nan():
    proba, y = _two_class([0.5, 0.5, 1.0], [True, False, True])
    table = K.reliability_bins(proba, y, bins=4)
    np.testing.assert_allclose(table.edges, [0, 0.25, 0.5, 0.75, 1])
    assert table.count.tolist() == [0, 2, 0, 1]
    assert np.isnan(table.accuracy[[0, 2]]).all() and table.accuracy[1] == 0.5


def test_reliability_bins_agree_with_sklearns_calibration_curve():
    rng = np.random.default_rng(0)
    proba = rng.dirichlet(np.full(10, 0.3), size=500)
    y = rng.integers(0, 10, 500)
    table = K.reliability_bins(proba, y)
    accuracy, confidence = calibration_curve(
        proba.argmax(1) == y, proba.max(1), n_bins=15, strategy="uniform")
    full = table.count > 0
    np.testing.assert_allclose(table.accuracy[full], accuracy)
    np.testing.assert_allclose(table.confidence[full], confidence)
    assert table.count.sum() == 500


def test_brier_by_hand():
    proba = np.array([[0.7, 0.2, 0.1], [0.2, 0.5, 0.3]])
    # (0.3² + 0.2² + 0.1²) + (0.2² + 0.5² + 0.7²) = 0.14 + 0.78, over 2 images
    assert K.brier_score(proba, [0, 2]) == pytest.approx(0.46)
    # two classes are not halved, classes missing from y still count
    assert K.brier_score(np.array([[0.8, 0.2]]), [1]) == pytest.approx(1.28)
    assert K.brier_score(proba, [0, 0]) == pytest.approx((0.14 + 0.64 + 0.25 + 0.09) / 2)


def test_brier_takes_float32_softmax_without_a_warning():
    logits = np.random.default_rng(1).normal(size=(200, 10)).astype(np.float32)
    proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert 0 < K.brier_score(proba, np.zeros(200, int)) < 2


def test_selective_accuracy_by_hand():
    proba, y = _two_class([0.9, 0.6, 0.8, 0.7, 0.95], [True, False, True, False, True])
    assert K.selective_accuracy(proba, y, 1.0) == pytest.approx(3 / 5)
    assert K.selective_accuracy(proba, y, 0.8) == pytest.approx(3 / 4)  # drops the 0.6
    assert K.selective_accuracy(proba, y, 0.6) == 1.0
    assert K.selective_accuracy(proba, y, 0.01) == 1.0  # at least one image


def test_selective_accuracy_breaks_ties_by_order():
    proba, y = _two_class([0.9, 0.7, 0.7, 0.7], [True, False, True, True])
    assert K.selective_accuracy(proba, y, 0.5) == 0.5  # the 0.9 and the first 0.7
    proba, y = _two_class([0.9, 0.7, 0.7, 0.7], [True, True, False, True])
    assert K.selective_accuracy(proba, y, 0.5) == 1.0
    # 0.7 * 10 is 7.000000000000001 in floating point, still 7 images
    proba, y = _two_class(np.linspace(0.9, 0.6, 10), [True] * 7 + [False] * 3)
    assert K.selective_accuracy(proba, y, 0.7) == 1.0


def test_bad_arguments_are_refused():
    proba, y = _two_class([0.9, 0.7], [True, False])
    for coverage in (0, 1.5):
        with pytest.raises(ValueError, match="coverage"):
            K.selective_accuracy(proba, y, coverage)
    with pytest.raises(ValueError, match="expected proba"):
        K.expected_calibration_error(proba, y[:1])


@st.composite
def _predictions(draw):
    n, k = draw(st.integers(1, 40)), draw(st.integers(2, 6))
    weights = draw(hnp.arrays(float, (n, k), elements=st.floats(0, 1)))
    weights += 1e-3  # no all-zero rows
    proba = weights / weights.sum(axis=1, keepdims=True)
    y = draw(hnp.arrays(int, n, elements=st.integers(0, k - 1)))
    return proba, y


@settings(max_examples=60, deadline=None)
@given(_predictions())
def test_metric_ranges_and_bounds(predictions):
    proba, y = predictions
    correct = proba.argmax(axis=1) == y
    ece = K.expected_calibration_error(proba, y)
    assert 0 <= ece <= 1
    # binning only hides gaps, so ECE is at least the overall gap
    assert ece >= abs(correct.mean() - proba.max(axis=1).mean()) - 1e-12
    brier = K.brier_score(proba, y)
    assert 0 <= brier <= 2
    assert brier == pytest.approx(np.mean(np.sum((proba - np.eye(proba.shape[1])[y]) ** 2, 1)))
    assert K.selective_accuracy(proba, y, 1.0) == pytest.approx(correct.mean())


@settings(max_examples=60, deadline=None)
@given(_predictions(), st.floats(0.05, 1.0))
def test_selective_accuracy_beats_accuracy_when_confidence_ranks_the_right_first(
        predictions, coverage):
    proba, _ = predictions
    n, k = proba.shape
    # the most confident images (stable order) right, the others wrong
    rank = np.empty(n, int)
    rank[np.argsort(-proba.max(axis=1), kind="stable")] = np.arange(n)
    right = rank < n // 2
    y = np.where(right, proba.argmax(axis=1), (proba.argmax(axis=1) + 1) % k)
    assert K.selective_accuracy(proba, y, coverage) >= right.mean()
