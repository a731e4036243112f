"""Final steps whose labels are the argmax of their probabilities (scikit-learn's forests,
trees and kNN; the Bayesian discriminants here) give both from one pass: the labels equal
predict (scikit-learn's own where it is scikit-learn's), the probabilities predict_proba, and
the runner may time that pass as predict."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.ensemble import AdaBoostClassifier, ExtraTreesClassifier, RandomForestClassifier
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier, ExtraTreeClassifier

from pipelines.base import SklearnPipeline, flatten_images

ESTIMATORS = {
    "forest": RandomForestClassifier(n_estimators=20, random_state=0),
    "extra-trees": ExtraTreesClassifier(n_estimators=20, random_state=0),
    "tree": DecisionTreeClassifier(random_state=0),
    "extra-tree": ExtraTreeClassifier(random_state=0),
    "knn-uniform": KNeighborsClassifier(n_neighbors=6),  # even: ties happen
    "knn-distance": KNeighborsClassifier(n_neighbors=5, weights="distance"),
    "knn-kd-tree": KNeighborsClassifier(n_neighbors=4, algorithm="kd_tree"),
}


@pytest.mark.parametrize("name", list(ESTIMATORS))
def test_one_predict_proba_gives_sklearns_labels_and_probabilities(digits, name, monkeypatch):
    images, labels = digits.train_images, digits.train_labels
    pipeline = SklearnPipeline(name, make_pipeline(StandardScaler(), ESTIMATORS[name]))
    fitted = pipeline.fit(images, labels).estimator_
    rows = flatten_images(digits.test_images)
    expected = fitted.predict(rows), fitted.predict_proba(rows)  # scikit-learn's own
    assert pipeline.proba_at_predict_cost

    final = fitted[-1]
    passes = []
    method = type(final).predict_proba
    monkeypatch.setattr(type(final), "predict_proba",
                        lambda self, X: passes.append(len(X)) or method(self, X))
    predicted, probabilities = pipeline.predict_with_proba(digits.test_images)
    assert passes == [len(rows)]
    np.testing.assert_array_equal(predicted, expected[0])
    np.testing.assert_array_equal(probabilities, expected[1])


class OwnVote(KNeighborsClassifier):
    """A kNN subclass with a predict of its own (here the same, but nothing says so)."""

    def predict(self, X):
        return super().predict(X)


@pytest.mark.parametrize("final", [
    KNeighborsClassifier(n_neighbors=10, weights="distance"),  # numpy sums 8 at a time
    KNeighborsClassifier(n_neighbors=5, weights=lambda distances: 1.0 / (1.0 + distances)),
    OwnVote(n_neighbors=5),
], ids=["distance-10", "callable", "subclass"])
def test_a_knn_whose_vote_may_differ_from_its_probabilities_keeps_two_passes(digits, final):
    """kNN's predict and predict_proba add a class's weights in another order from 8
    neighbours on; a callable may weigh anyhow; a subclass may predict its own way."""
    pipeline = SklearnPipeline("knn", make_pipeline(StandardScaler(), final))
    pipeline.fit(digits.train_images, digits.train_labels)
    assert not pipeline.proba_at_predict_cost
    predicted, probabilities = pipeline.predict_with_proba(digits.test_images)
    np.testing.assert_array_equal(predicted, pipeline.predict(digits.test_images))
    np.testing.assert_array_equal(probabilities, pipeline.predict_proba(digits.test_images))


def test_a_step_whose_labels_come_another_way_keeps_two_passes(digits):
    # AdaBoost predicts from its decision function, not from predict_proba
    pipeline = SklearnPipeline("boost", AdaBoostClassifier(n_estimators=5, random_state=0))
    pipeline.fit(digits.train_images, digits.train_labels)
    assert not pipeline.proba_at_predict_cost
    predicted, probabilities = pipeline.predict_with_proba(digits.test_images)
    np.testing.assert_array_equal(predicted, pipeline.predict(digits.test_images))
    np.testing.assert_array_equal(probabilities, pipeline.predict_proba(digits.test_images))


@pytest.mark.parametrize("name", ["raw-bayes1", "pca-bayes2", "fld-bayes3"])
def test_the_bayesian_discriminants_score_once_for_both(digits, name, monkeypatch):
    from pipelines.classical.bayes import GaussianDiscriminant
    from pipelines.registry import create_pipeline

    pipeline = create_pipeline(name, "smoke").fit(digits.train_images, digits.train_labels)
    expected = pipeline.predict(digits.test_images), pipeline.predict_proba(digits.test_images)
    assert pipeline.proba_at_predict_cost
    passes = []
    method = GaussianDiscriminant._discriminants
    monkeypatch.setattr(GaussianDiscriminant, "_discriminants",
                        lambda self, X: passes.append(len(X)) or method(self, X))
    predicted, probabilities = pipeline.predict_with_proba(digits.test_images)
    assert passes == [len(digits.test_images)]
    np.testing.assert_array_equal(predicted, expected[0])
    np.testing.assert_array_equal(probabilities, expected[1])
