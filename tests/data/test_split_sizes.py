"""Splits of small datasets (issue 33 C): too few images of a class, or in all, for a split's
stratified hold-out is one SplitError line naming the dataset and the fix; a profile's
subsample that cannot be stratified is a plain random one, never a failed job."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks.data.custom_data import dataset_from_arrays
from benchmarks.data.splits import SplitError, make_split, subsample


def tiny(labels: list[int]):
    images = np.zeros((len(labels), 4, 4), np.uint8)
    return dataset_from_arrays(images, labels, images, labels, source="arrays 'tiny'")


@pytest.mark.parametrize("labels, fraction, message", [
    ([0, 0, 0, 0, 1], None, "class 1 has 1 image"),
    ([0, 1, 2, 3] * 10, 0.01, "cannot give every one of its 4 classes a place"),
    ([0, 1, 2, 3] * 10, 0.99, "cannot give every one of its 4 classes a place"),
])
def test_a_standard_split_that_cannot_be_stratified_is_one_line(labels, fraction, message):
    with pytest.raises(SplitError) as error:
        make_split("standard", tiny(labels), fraction)
    text = str(error.value)
    assert "\n" not in text and "arrays 'tiny'" in text and message in text, text
    assert "--validation-fraction" in text


def test_seed000_on_too_few_images_is_one_line():
    with pytest.raises(SplitError, match=r"arrays 'tiny': 3 training images; the seed000 split"):
        make_split("seed000", tiny([0, 1, 0]))


def test_seed000_and_standard_still_cut_the_smallest_sizes_they_accept():
    assert make_split("seed000", tiny([0, 1] * 5)).sizes == {"train": 8, "validation": 1,
                                                            "test": 1}
    assert make_split("standard", tiny([0, 1] * 5)).sizes == {"train": 8, "validation": 2,
                                                             "test": 10}


@pytest.mark.parametrize("labels, size", [
    (np.array([0] * 10 + [1] + [2] * 3), 12),   # a class of one image
    (np.arange(14) % 3, 13),                    # one image left out, three classes
    (np.arange(14) % 3, 2),                     # fewer images than classes
])
def test_a_subsample_that_cannot_be_stratified_is_a_random_one(labels, size):
    indices = np.arange(len(labels))
    chosen = subsample(indices, labels, size, seed=3)
    assert len(chosen) == size and len(set(chosen)) == size
    assert np.array_equal(chosen, subsample(indices, labels, size, seed=3))


def test_a_stratifiable_subsample_is_unchanged():
    labels = np.arange(100) % 4
    chosen = subsample(np.arange(100), labels, 20, seed=0)
    assert np.bincount(labels[chosen]).tolist() == [5, 5, 5, 5]
