"""Virtual support vectors: the moved copies, and the second fit on the support vectors."""

import numpy as np
import pytest
from sklearn.svm import SVC

from pipelines.classical.reducers import scale_pixels
from pipelines.classical.virtual_svs import TRANSFORMS, VirtualSupportVectorSVC, transformed


def test_each_transformation_moves_the_image_by_one_pixel_or_mirrors_it():
    images = np.zeros((2, 5, 6), dtype=np.float32)
    images[0, 2, 3] = 1.0
    images[1, 0, 0] = 0.5  # at the border: shifted out, nothing wraps around
    moved = {name: transformed(images, name) for name in TRANSFORMS}
    assert np.argwhere(moved["left"][0]).tolist() == [[2, 2]]
    assert np.argwhere(moved["right"][0]).tolist() == [[2, 4]]
    assert np.argwhere(moved["up"][0]).tolist() == [[1, 3]]
    assert np.argwhere(moved["down"][0]).tolist() == [[3, 3]]
    assert np.array_equal(moved["mirror"], images[:, :, ::-1])
    assert not moved["left"][1].any() and not moved["up"][1].any()
    assert moved["down"][1, 1, 0] == 0.5
    colour = np.repeat(images[..., None], 3, axis=-1)
    assert np.array_equal(transformed(colour, "right")[..., 1], moved["right"])
    with pytest.raises(ValueError, match="unknown transformation 'rotate'"):
        transformed(images, "rotate")


@pytest.fixture(scope="module")
def digit_rows(digits):
    X = scale_pixels(digits.images.reshape(len(digits.images), -1))
    return X[:1200], digits.labels[:1200], X[1200:], digits.labels[1200:]


def test_without_transformations_the_second_fit_gives_the_first_svm(digit_rows):
    """An SVM's solution depends on its support vectors alone: refitted on them, it predicts
    as scikit-learn's SVC fitted on every image."""
    X, y, X_test, _ = digit_rows
    model = VirtualSupportVectorSVC(C=10.0, gamma=0.05, transforms=()).fit(X, y)
    reference = SVC(C=10.0, gamma=0.05).fit(X, y)
    assert model.n_first_support_ == len(reference.support_)
    assert model.n_virtual_training_ == len(reference.support_)
    assert (model.predict(X_test) == reference.predict(X_test)).mean() >= 0.995


def test_the_second_fit_sees_each_support_vector_and_its_moved_copies(digit_rows):
    X, y, X_test, y_test = digit_rows
    model = VirtualSupportVectorSVC(C=10.0, gamma=0.05, transforms=("left", "right")).fit(X, y)
    assert model.n_virtual_training_ == 3 * model.n_first_support_
    assert model.image_shape is None  # 64 values: 8 x 8 inferred
    assert (model.predict(X_test) == y_test).mean() > 0.9
    with pytest.raises(ValueError, match="square greyscale"):
        VirtualSupportVectorSVC().fit(X[:, :60], y)


def test_features_are_computed_for_the_originals_and_the_copies(digit_rows):
    from pipelines.classical.reducers import HogFeatures

    X, y, X_test, y_test = digit_rows
    model = VirtualSupportVectorSVC(features=HogFeatures(raw_weight=0.5), C=10.0,
                                    transforms=("mirror",)).fit(X, y)
    assert model.svc_.shape_fit_[1] == 324 + 64  # 8x8 digits: 4x4 cells of 2x2 pixels
    assert (model.predict(X_test) == y_test).mean() > 0.9
