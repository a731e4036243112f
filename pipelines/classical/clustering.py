"""K-means used as a classifier, as seed 004 does: clusters named after their majority class."""

from __future__ import annotations

from numbers import Integral

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.cluster import KMeans
from sklearn.utils._param_validation import Interval
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data


class KMeansClassifier(ClassifierMixin, BaseEstimator):
    """Unsupervised K-means, then each cluster takes the label most of its training members have.

    The labels are used only after clustering, to name the clusters; a sample is predicted as
    the name of its nearest centroid. ``predict_proba`` is the class make-up of that cluster
    among the training members. Ties go to the smaller label; a cluster without members (rare:
    duplicate points) is named after the most frequent class overall.
    """

    _parameter_constraints: dict = {
        "n_clusters": [Interval(Integral, 1, None, closed="left")],
        "n_init": [Interval(Integral, 1, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
    }

    def __init__(self, n_clusters: int = 10, n_init: int = 3, max_iter: int = 300,
                 random_state=None) -> None:
        self.n_clusters = n_clusters
        self.n_init = n_init
        self.max_iter = max_iter
        self.random_state = random_state

    def fit(self, X, y):
        self._validate_params()
        X, y = validate_data(self, X, y, dtype=np.float64)
        check_classification_targets(y)
        self.classes_, y_index = np.unique(y, return_inverse=True)
        n_classes = len(self.classes_)
        self.kmeans_ = KMeans(n_clusters=min(self.n_clusters, len(X)), n_init=self.n_init,
                              max_iter=self.max_iter, random_state=self.random_state).fit(X)
        self.n_iter_ = self.kmeans_.n_iter_
        n_clusters = self.kmeans_.n_clusters
        members = np.zeros((n_clusters, n_classes))
        np.add.at(members, (self.kmeans_.labels_, y_index), 1.0)
        empty = members.sum(axis=1) == 0
        members[empty] = np.bincount(y_index, minlength=n_classes)
        self.cluster_class_counts_ = members
        self.cluster_labels_ = self.classes_[np.argmax(members, axis=1)]
        return self

    def _clusters(self, X) -> np.ndarray:
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=np.float64)
        return self.kmeans_.predict(X)

    def predict(self, X) -> np.ndarray:
        clusters = self._clusters(X)  # checks fitted before cluster_labels_ is read
        return self.cluster_labels_[clusters]

    def predict_proba(self, X) -> np.ndarray:
        clusters = self._clusters(X)
        counts = self.cluster_class_counts_[clusters]
        return counts / counts.sum(axis=1, keepdims=True)
