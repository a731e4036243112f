"""An RBF support-vector machine that libsvm fits and BLAS evaluates.

libsvm predicts one image at a time, each kernel value a scalar loop over the features, on one
core: 16 s for 10,000 Fashion-MNIST images against 4,362 support vectors, most of hog-svm's
job. The decision function is a fixed formula of the fitted model, so ``BlasSVC`` evaluates
the same formula with matrix products instead: the kernel against the support vectors in
chunks (``sklearn.metrics.pairwise.rbf_kernel``), then every one-vs-one decision value at once
(one matrix product with the dual coefficients laid out per class pair), then libsvm's vote
(ties to the lower class index). Same predictions, about ten times faster on one core, and
multi-threaded through the job's BLAS thread budget (tested against ``SVC.predict`` and
``SVC.decision_function``).

Fitting is libsvm's, untouched; anything but an RBF kernel on dense input, or
``break_ties=True``, predicts through ``SVC`` itself.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse
from sklearn.metrics.pairwise import rbf_kernel
from sklearn.svm import SVC
from sklearn.utils.multiclass import _ovr_decision_function  # private: SVC's own transform
from sklearn.utils.validation import check_array, check_is_fitted

# a chunk of images times the support vectors, in float64 kernel values
KERNEL_CHUNK_BYTES = 64 * 2**20


def class_pairs(n_classes: int) -> list[tuple[int, int]]:
    """libsvm's one-vs-one pairs, in its order: (0, 1), (0, 2) ... (1, 2) ..."""
    return [(i, j) for i in range(n_classes) for j in range(i + 1, n_classes)]


class BlasSVC(SVC):
    """``sklearn.svm.SVC`` whose RBF predictions are computed with BLAS from the fitted model."""

    def _blas_applies(self, X) -> bool:
        return self.kernel == "rbf" and not self.break_ties and not sparse.issparse(X) \
            and not self._sparse

    def ovo_decision_function(self, X) -> np.ndarray:
        """One-vs-one decision values, n_images x n_pairs in libsvm's pair order
        ((0, 1), (0, 2), ... (1, 2) ...), positive for the pair's first class; equal to
        ``SVC(decision_function_shape="ovo").decision_function`` up to rounding."""
        check_is_fitted(self)
        X = check_array(X, dtype=np.float64, order="C")
        if X.shape[1] != self.shape_fit_[1]:
            raise ValueError(f"X has {X.shape[1]} features, but {type(self).__name__} was "
                             f"fitted with {self.shape_fit_[1]}")
        weights = self.pair_weights_
        # libsvm's own convention for the two-class case, which scikit-learn flips in public
        intercept = -self.intercept_ if len(self.classes_) == 2 else self.intercept_
        support = self.support_vectors_
        rows = max(1, KERNEL_CHUNK_BYTES // (8 * max(1, len(support))))
        decision = np.empty((len(X), weights.shape[1]))
        for start in range(0, len(X), rows):
            kernel = rbf_kernel(X[start:start + rows], support, gamma=self._gamma)
            decision[start:start + rows] = kernel @ weights + intercept
        return decision

    def fit(self, X, y, sample_weight=None) -> BlasSVC:
        super().fit(X, y, sample_weight=sample_weight)
        # laid out once here, not on every predict (the runner's single-image latency calls)
        self.pair_weights_ = self._pair_weights()
        return self

    def _pair_weights(self) -> np.ndarray:
        """The dual coefficients as one column per class pair (i, j): the support vectors of
        class i weighted by their coefficient against j, those of j by theirs against i."""
        n_classes = len(self.classes_)
        coef = -self.dual_coef_ if n_classes == 2 else self.dual_coef_
        bounds = np.concatenate([[0], np.cumsum(self.n_support_)])
        pairs = class_pairs(n_classes)
        weights = np.zeros((len(self.support_vectors_), len(pairs)))
        for column, (i, j) in enumerate(pairs):
            of_i, of_j = slice(bounds[i], bounds[i + 1]), slice(bounds[j], bounds[j + 1])
            weights[of_i, column] = coef[j - 1, of_i]
            weights[of_j, column] = coef[i, of_j]
        return weights

    def predict(self, X) -> np.ndarray:
        check_is_fitted(self)
        if not self._blas_applies(X):
            return super().predict(X)
        return self._vote(self.ovo_decision_function(X))

    def _vote(self, decision: np.ndarray) -> np.ndarray:
        votes = np.zeros((len(decision), len(self.classes_)), dtype=np.int32)
        for column, (i, j) in enumerate(class_pairs(len(self.classes_))):
            wins = decision[:, column] > 0
            votes[:, i] += wins
            votes[:, j] += ~wins
        return self.classes_[votes.argmax(axis=1)]  # argmax: ties to the lower index, as libsvm

    def decision_function(self, X) -> np.ndarray:
        """``SVC.decision_function`` through the BLAS decision values: the one-vs-one values,
        or (``decision_function_shape="ovr"``, the default) scikit-learn's own transform of
        them into one column per class, votes plus a bounded share of the confidences."""
        check_is_fitted(self)
        if not self._blas_applies(X) or len(self.classes_) == 2:
            return super().decision_function(X)
        return self._shaped(self.ovo_decision_function(X))

    def _shaped(self, decision: np.ndarray) -> np.ndarray:
        if self.decision_function_shape == "ovo":
            return decision
        return _ovr_decision_function(decision < 0, -decision, len(self.classes_))

    def predict_with_decision(self, X) -> tuple[np.ndarray, np.ndarray]:
        """``predict(X)`` and ``decision_function(X)`` from one pass over the support vectors
        (the kernel is nearly all of either's cost): what a calibrated SVM's labels and
        probabilities need, at the price of its labels alone."""
        check_is_fitted(self)
        if not self._blas_applies(X) or len(self.classes_) == 2:
            return self.predict(X), self.decision_function(X)
        decision = self.ovo_decision_function(X)
        return self._vote(decision), self._shaped(decision)
