import math

import numpy as np
import pytest
from sklearn.model_selection import train_test_split

from benchmarks.data.splits import fingerprint, make_split, subsample
from benchmarks.errors import UnknownNameError
from tests.conftest import requires_genuine_data


def assert_partition(split, n_pool):
    together = np.concatenate([split.train, split.validation, split.test])
    assert len(np.unique(together)) == len(together), "the three parts overlap"
    assert together.min() >= 0 and together.max() < n_pool


def test_standard_on_digits_is_stratified_and_deterministic(digits):
    split = make_split("standard", digits)
    assert_partition(split, len(digits.labels))
    assert len(split.validation) == math.ceil(0.2 * digits.n_train)  # as sklearn rounds
    np.testing.assert_array_equal(split.test, digits.n_train + np.arange(len(digits.test_labels)))
    train_share = np.bincount(digits.labels[split.train]) / len(split.train)
    validation_share = np.bincount(digits.labels[split.validation]) / len(split.validation)
    np.testing.assert_allclose(train_share, validation_share, atol=0.01)
    again = make_split("standard", digits)
    assert again.fingerprint == split.fingerprint
    np.testing.assert_array_equal(again.train, split.train)


def test_fingerprint_depends_on_every_index():
    a, b, c = np.arange(5), np.arange(5, 8), np.arange(8, 10)
    base = fingerprint(a, b, c)
    assert base == fingerprint(a.copy(), b.copy(), c.copy())
    assert base != fingerprint(a, c, b)
    assert base != fingerprint(np.array([0, 1, 2, 3, 9]), b, np.array([8, 4]))
    assert base != fingerprint(np.concatenate([a, b]), np.array([], int), c)
    assert len(base) == 16


def test_unknown_split_suggests(digits):
    with pytest.raises(UnknownNameError, match="did you mean standard"):
        make_split("standrd", digits)


def test_subsample_is_stratified_seeded_and_capped():
    labels = np.repeat(np.arange(10), 100)
    indices = np.arange(1000)
    chosen = subsample(indices, labels, 200, seed=3)
    assert len(chosen) == 200 and np.bincount(labels[chosen]).tolist() == [20] * 10
    np.testing.assert_array_equal(chosen, subsample(indices, labels, 200, seed=3))
    assert not np.array_equal(chosen, subsample(indices, labels, 200, seed=4))
    assert subsample(indices, labels, None, seed=0) is indices
    assert subsample(indices, labels, 5000, seed=0) is indices


@requires_genuine_data
def test_standard_on_fashion_mnist(fashion):
    split = make_split("standard", fashion)
    assert split.sizes == {"train": 48_000, "validation": 12_000, "test": 10_000}
    assert_partition(split, 70_000)
    assert np.bincount(fashion.labels[split.train]).tolist() == [4800] * 10
    assert np.bincount(fashion.labels[split.validation]).tolist() == [1200] * 10
    assert np.all(split.test >= 60_000)


@requires_genuine_data
def test_seed000_matches_the_papers_code(fashion):
    split = make_split("seed000", fashion)
    assert split.sizes == {"train": 48_000, "validation": 6_000, "test": 6_000}
    assert_partition(split, 60_000)
    # seed 000's own code, run on the image arrays themselves
    x_train, x_temp, y_train, y_temp = train_test_split(
        fashion.train_images, fashion.train_labels, test_size=0.2, random_state=42)
    x_val, x_test, y_val, y_test = train_test_split(x_temp, y_temp, test_size=0.5,
                                                    random_state=42)
    for ours, theirs in ((split.train, y_train), (split.validation, y_val), (split.test, y_test)):
        assert np.bincount(fashion.labels[ours]).tolist() == np.bincount(theirs).tolist()
    # the paper's test set: same images, whatever the order
    ours = fashion.images[split.test].reshape(6000, -1)
    theirs = x_test.reshape(6000, -1)
    order = np.lexsort(ours.T[::-1])
    their_order = np.lexsort(theirs.T[::-1])
    np.testing.assert_array_equal(ours[order], theirs[their_order])
    # seed 000's classification report: its test set has 607 T-shirts and 651 shirts
    assert np.bincount(y_test)[0] == 607 and np.bincount(y_test)[6] == 651
    assert split.fingerprint != make_split("standard", fashion).fingerprint
