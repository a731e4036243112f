"""BlasSVC: libsvm fits, BLAS evaluates its decision function -- checked against SVC itself."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.svm import SVC

from pipelines.classical import svm as svm_module
from pipelines.classical.reducers import scale_pixels
from pipelines.classical.svm import BlasSVC, class_pairs
from pipelines.registry import create_pipeline


@pytest.fixture(scope="module")
def pixels(digits):
    X = scale_pixels(digits.images.reshape(len(digits.labels), -1))
    return X, digits.labels


def fitted_pair(X, y, **settings):
    return SVC(**settings).fit(X, y), BlasSVC(**settings).fit(X, y)


@pytest.mark.parametrize("settings", [{"C": 10.0}, {"C": 1.0, "gamma": 0.02},
                                      {"C": 0.5, "gamma": "auto"}])
def test_ten_classes_same_predictions_and_decision_values_as_libsvm(pixels, settings):
    X, y = pixels
    reference, blas = fitted_pair(X[:700], y[:700], **settings)
    held_out = X[700:]
    assert np.array_equal(blas.predict(held_out), reference.predict(held_out))
    reference.decision_function_shape = "ovo"
    expected = reference.decision_function(held_out)
    assert expected.shape == (len(held_out), 45)
    np.testing.assert_allclose(blas.ovo_decision_function(held_out), expected, atol=1e-9)


def test_two_classes_keep_libsvm_sign_convention(pixels):
    X, y = pixels
    chosen = np.isin(y, (3, 8))
    X, y = X[chosen], y[chosen]
    reference, blas = fitted_pair(X[:200], y[:200], C=1.0, gamma=0.01)
    # scikit-learn's binary decision is positive for classes_[1]; libsvm's pair is (0, 1)
    np.testing.assert_allclose(blas.ovo_decision_function(X[200:])[:, 0],
                               -reference.decision_function(X[200:]), atol=1e-9)
    assert np.array_equal(blas.predict(X[200:]), reference.predict(X[200:]))


def test_labels_that_are_not_0_to_k_come_back_as_given(pixels):
    X, y = pixels
    names = np.array(["zero", "one", "two", "three", "four", "five", "six", "seven", "eight",
                      "nine"])[y]
    chosen = np.isin(y, (1, 4, 7))
    reference, blas = fitted_pair(X[chosen][:250], names[chosen][:250], C=3.0)
    rest = X[chosen][250:]
    assert np.array_equal(blas.predict(rest), reference.predict(rest))
    assert set(blas.predict(rest)) <= {"one", "four", "seven"}


def test_vote_ties_go_to_the_lower_class_index_as_in_libsvm():
    # three classes, each pair's decision chosen so that every class wins exactly once
    model = BlasSVC()
    model.classes_ = np.array([0, 1, 2])
    decision = np.array([[1.0, -1.0, 1.0]])  # 0 beats 1, 2 beats 0, 1 beats 2
    model.ovo_decision_function = lambda X: decision
    model._sparse = False
    assert class_pairs(3) == [(0, 1), (0, 2), (1, 2)]
    assert model.predict(np.zeros((1, 4))).tolist() == [0]


def test_small_chunks_give_the_same_answer(pixels, monkeypatch):
    X, y = pixels
    _, blas = fitted_pair(X[:500], y[:500], C=10.0)
    whole, predicted = blas.ovo_decision_function(X[500:]), blas.predict(X[500:])
    monkeypatch.setattr(svm_module, "KERNEL_CHUNK_BYTES", 8 * len(blas.support_vectors_) * 7)
    # seven images a chunk: only the matrix products' rounding may differ
    np.testing.assert_allclose(blas.ovo_decision_function(X[500:]), whole, atol=1e-12)
    assert np.array_equal(blas.predict(X[500:]), predicted)


def test_other_kernels_and_break_ties_predict_through_svc(pixels):
    X, y = pixels
    for settings in ({"kernel": "linear"}, {"kernel": "poly", "degree": 2},
                     {"break_ties": True}):
        reference, blas = fitted_pair(X[:400], y[:400], **settings)
        assert np.array_equal(blas.predict(X[400:]), reference.predict(X[400:]))


def test_wrong_feature_count_and_unfitted_model_are_refused(pixels):
    from sklearn.exceptions import NotFittedError

    X, y = pixels
    with pytest.raises(NotFittedError):
        BlasSVC().predict(X[:5])
    blas = BlasSVC().fit(X[:300], y[:300])
    with pytest.raises(ValueError, match="63 features.*fitted with 64"):
        blas.predict(X[:5, :63])


def test_svm_pipelines_use_it_and_clone_like_any_estimator():
    pipeline = create_pipeline("hog-svm", "smoke")
    step = pipeline.estimator.steps[-1][1]
    assert isinstance(step, BlasSVC) and step.kernel == "rbf"
    assert clone(step).get_params() == step.get_params()
    assert pipeline.describe()["steps"][-1] == ["svm", "BlasSVC"]
