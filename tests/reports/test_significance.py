import math

import numpy as np
import pytest

from benchmarks.reports.significance import bootstrap_accuracy_ci, mcnemar_exact


def test_mcnemar_hand_computed():
    # discordant pairs b = 1, c = 9: p = 2 * (C(10,0) + C(10,1)) / 2**10 = 22 / 1024
    first = np.array([True] * 5 + [True] + [False] * 9 + [False] * 3)
    second = np.array([True] * 5 + [False] + [True] * 9 + [False] * 3)
    result = mcnemar_exact(first, second)
    assert (result.only_first_correct, result.only_second_correct) == (1, 9)
    assert result.p_value == pytest.approx(22 / 1024)
    assert result.distinguishable


def test_mcnemar_balanced_and_identical():
    same = np.array([True, False, True])
    assert mcnemar_exact(same, same).p_value == 1.0
    # b = c = 2: p = 2 * sum_{k<=2} C(4,k) / 16 = 2 * 11 / 16 > 1, capped at 1
    first = np.array([True, True, False, False])
    assert mcnemar_exact(first, ~first).p_value == 1.0
    # b = 0, c = 6: p = 2 / 64
    assert mcnemar_exact(np.zeros(6, bool), np.ones(6, bool)).p_value == pytest.approx(2 / 64)


def test_mcnemar_needs_the_same_images():
    with pytest.raises(ValueError, match="same test images"):
        mcnemar_exact(np.ones(3, bool), np.ones(4, bool))


def test_bootstrap_matches_the_normal_approximation():
    correct = np.zeros(10_000)
    correct[:9_000] = 1  # accuracy 0.9
    low, high = bootstrap_accuracy_ci(correct)
    half_width = 1.96 * math.sqrt(0.9 * 0.1 / 10_000)  # 0.00588
    assert low == pytest.approx(0.9 - half_width, abs=0.0015)
    assert high == pytest.approx(0.9 + half_width, abs=0.0015)
    assert bootstrap_accuracy_ci(correct) == (low, high)  # fixed seed: byte-stable reports


def test_bootstrap_of_a_hand_sized_case():
    # 1 of 2 correct: resampled means are 0, 0.5 or 1 with probability 1/4, 1/2, 1/4,
    # so the 2.5th and 97.5th percentiles are 0 and 1
    assert bootstrap_accuracy_ci(np.array([1.0, 0.0])) == (0.0, 1.0)
    assert bootstrap_accuracy_ci(np.ones(50)) == (1.0, 1.0)
