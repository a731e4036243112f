"""SVMs' probabilities: one temperature fitted on the validation split scales the decision
function into a softmax. Checked against SVC's own decision function, by the negative
log-likelihood the temperature must minimise (computed here by hand), and by what must not
change: the labels."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from scipy.special import log_softmax
from sklearn.calibration import CalibratedClassifierCV
from sklearn.frozen import FrozenEstimator
from sklearn.pipeline import Pipeline
from sklearn.svm import SVC

from pipelines.base import SklearnPipeline
from pipelines.classical.reducers import scale_pixels
from pipelines.classical.svm import BlasSVC
from pipelines.registry import create_pipeline


@pytest.fixture(scope="module")
def parts(digits):
    """Digits' training part cut into training and validation, and its test part."""
    images, labels = digits.train_images, digits.train_labels
    cut = len(images) * 3 // 4
    return ((images[:cut], labels[:cut]), (images[cut:], labels[cut:]),
            (digits.test_images, digits.test_labels))


@pytest.mark.parametrize("shape", ["ovr", "ovo"])
def test_the_blas_decision_function_is_svcs_own(digits, shape):
    X = scale_pixels(digits.images.reshape(len(digits.labels), -1))
    y = digits.labels
    reference = SVC(C=10.0, decision_function_shape=shape).fit(X[:700], y[:700])
    blas = BlasSVC(C=10.0, decision_function_shape=shape).fit(X[:700], y[:700])
    np.testing.assert_allclose(blas.decision_function(X[700:]),
                               reference.decision_function(X[700:]), atol=1e-9)


def negative_log_likelihood(decision: np.ndarray, labels: np.ndarray, temperature: float):
    return -np.mean(log_softmax(decision / temperature, axis=1)[np.arange(len(labels)), labels])


@pytest.mark.parametrize("name", ["raw-svm", "hog-svm"])
def test_an_svm_gains_probabilities_from_its_validation_split(parts, name):
    train, validation, test = parts
    calibrated = create_pipeline(name, "smoke").fit(*train, validation=validation)
    plain = create_pipeline(name, "smoke").fit(*train)  # a refit: nothing held out
    assert plain.predict_proba(test[0]) is None and plain.describe()["calibration"] is None

    labels, probabilities = calibrated.predict_with_proba(test[0])
    assert np.array_equal(labels, plain.predict(test[0]))  # the labels are the SVM's own
    assert probabilities.shape == (len(test[0]), 10)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0)
    final, rows = calibrated._final_input(test[0])
    assert np.array_equal(probabilities.argmax(axis=1), final.decision_function(rows).argmax(1))

    # the temperature is the one that minimises the validation set's negative log-likelihood
    temperature = calibrated.describe()["calibration"]["temperature"]
    final, rows = calibrated._final_input(validation[0])
    decision = final.decision_function(rows)
    best = negative_log_likelihood(decision, validation[1], temperature)
    for factor in (0.8, 0.95, 1.05, 1.25):
        assert best <= negative_log_likelihood(decision, validation[1], temperature * factor)


def test_a_pipeline_with_its_own_probabilities_is_left_alone(parts):
    train, validation, test = parts
    knn = create_pipeline("raw-knn", "smoke").fit(*train, validation=validation)
    assert knn.describe()["calibration"] is None
    final, rows = knn._final_input(test[0])
    np.testing.assert_array_equal(knn.predict_proba(test[0]), final.predict_proba(rows))


def test_a_model_kept_before_calibration_existed_still_predicts(parts):
    train, validation, test = parts
    pipeline = create_pipeline("raw-svm", "smoke").fit(*train, validation=validation)
    del pipeline.calibrator_  # what a model pickled by the code before this one holds
    labels, probabilities = pipeline.predict_with_proba(test[0])
    assert probabilities is None and len(labels) == len(test[0])
    assert pipeline.calibrate(*validation)  # and --evaluate can calibrate it afterwards
    assert pipeline.predict_proba(test[0]).shape == (len(test[0]), 10)


def test_virtual_support_vectors_decide_through_their_second_svm(parts):
    train, validation, test = parts
    pipeline = create_pipeline("hog-svm-vsv", "smoke").fit(*train, validation=validation)
    final, rows = pipeline._final_input(test[0])
    np.testing.assert_allclose(final.decision_function(rows),
                               final.svc_.decision_function(final._features(rows)))
    labels, decision = final.predict_with_decision(rows)
    np.testing.assert_array_equal(labels, final.predict(rows))
    np.testing.assert_array_equal(decision, final.decision_function(rows))
    assert pipeline.describe()["calibration"]["temperature"] > 0


def test_a_given_temperature_gives_the_calibrators_own_softmax(parts):
    """A refit is given its validation run's temperature: the same probabilities as
    scikit-learn's calibrator with that temperature."""
    train, validation, test = parts
    calibrated = create_pipeline("raw-svm", "smoke").fit(*train, validation=validation)
    temperature = calibrated.describe()["calibration"]["temperature"]
    given = create_pipeline("raw-svm", "smoke").fit(*train, temperature=temperature)
    np.testing.assert_allclose(given.predict_proba(test[0]), calibrated.predict_proba(test[0]),
                               rtol=1e-6, atol=1e-9)
    assert given.describe()["calibration"] == {
        "method": "temperature scaling of the decision function", "temperature": temperature,
        "fitted_on": "its validation run"}
    knn = create_pipeline("raw-knn", "smoke").fit(*train, temperature=2.0)
    assert knn.describe()["calibration"] is None  # its own probabilities stand


@pytest.mark.parametrize("name", ["raw-svm", "hog-svm-committee"])
def test_a_calibrated_svm_gives_labels_and_probabilities_from_one_pass(parts, name,
                                                                       monkeypatch):
    """One kernel pass (one vote of the members) gives both: the same labels as predict and
    the same probabilities as scikit-learn's fitted calibrator, which computes its own
    decision values; so the runner times that pass as the test predict."""
    train, validation, test = parts
    calibrated = create_pipeline(name, "smoke").fit(*train, validation=validation)
    final, rows = calibrated._final_input(test[0])
    reference = CalibratedClassifierCV(FrozenEstimator(final), method="temperature").fit(
        calibrated._final_input(validation[0])[1], validation[1])  # on the SVM itself
    expected = calibrated.predict(test[0]), reference.predict_proba(rows)
    assert calibrated.proba_at_predict_cost
    passes = []  # the SVM's kernel against its support vectors, or the members' vote
    counted = "ovo_decision_function" if isinstance(final, BlasSVC) else "decision_function"
    method = getattr(type(final), counted)
    monkeypatch.setattr(type(final), counted,
                        lambda self, X: passes.append(len(X)) or method(self, X))
    labels, probabilities = calibrated.predict_with_proba(test[0])
    assert passes == [len(test[0])]
    np.testing.assert_array_equal(labels, expected[0])
    np.testing.assert_allclose(probabilities, expected[1], rtol=1e-9, atol=1e-12)
    assert not create_pipeline(name, "smoke").fit(*train).proba_at_predict_cost


@pytest.mark.parametrize("name", ["raw-svm", "hog-svm-vsv", "hog-svm-committee"])
def test_the_validation_images_calibration_scored_are_not_scored_again(parts, name,
                                                                       monkeypatch):
    """Calibration computes the validation images' labels and decision values; the runner's
    validation pass that follows gets them without another kernel pass, once, and the same
    as predict and predict_proba give. A pickled model does not carry them."""
    train, validation, test = parts
    calibrated = create_pipeline(name, "smoke").fit(*train, validation=validation)
    expected = calibrated.predict(validation[0]), calibrated.predict_proba(validation[0])
    final = calibrated._final_step()
    passes = []
    method = type(final).predict_with_decision
    monkeypatch.setattr(type(final), "predict_with_decision",
                        lambda self, X: passes.append(len(X)) or method(self, X))
    assert pickle.loads(pickle.dumps(calibrated)).__dict__.get("_calibration_pass") is None
    labels, probabilities = calibrated.predict_with_proba(validation[0])
    assert passes == []
    np.testing.assert_array_equal(labels, expected[0])
    np.testing.assert_array_equal(probabilities, expected[1])
    calibrated.predict_with_proba(test[0])
    calibrated.predict_with_proba(validation[0])  # kept once: computed this time
    assert passes == [len(test[0]), len(validation[0])]


def test_predict_with_decision_is_predict_and_decision_function(digits):
    X = scale_pixels(digits.images.reshape(len(digits.labels), -1))
    y = digits.labels
    blas = BlasSVC(C=10.0).fit(X[:700], y[:700])
    labels, decision = blas.predict_with_decision(X[700:])
    np.testing.assert_array_equal(labels, SVC(C=10.0).fit(X[:700], y[:700]).predict(X[700:]))
    np.testing.assert_array_equal(decision, blas.decision_function(X[700:]))


def test_a_second_fit_forgets_the_validation_pass_of_the_first(parts):
    """Fitted again (on other images, with a carried temperature), a pipeline predicts the
    first fit's validation images with the model it has now, not the labels kept before."""
    train, validation, test = parts
    pipeline = create_pipeline("raw-svm", "smoke").fit(*train, validation=validation)
    pipeline.fit(*test, temperature=2.0)
    labels, probabilities = pipeline.predict_with_proba(validation[0])
    np.testing.assert_array_equal(labels, pipeline.predict(validation[0]))
    np.testing.assert_array_equal(probabilities, pipeline.predict_proba(validation[0]))


def test_a_one_step_pipeline_predicts_through_its_step(parts):
    train, validation, test = parts
    pipeline = SklearnPipeline("svm", Pipeline([("svm", BlasSVC(C=10.0))]))
    pipeline.fit(*train, validation=validation)
    assert pipeline.proba_at_predict_cost
    labels, probabilities = pipeline.predict_with_proba(test[0])
    np.testing.assert_array_equal(labels, pipeline.predict(test[0]))
    np.testing.assert_array_equal(probabilities, pipeline.predict_proba(test[0]))
