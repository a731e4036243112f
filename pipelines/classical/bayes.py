"""Seed 004's Bayesian discriminant functions (Gaussian class models) as one estimator.

``g_i(x) = ln p(x | w_i) + ln P(w_i)`` with Gaussian ``p(x | w_i)`` and priors from the class
frequencies; the constant ``-d/2 ln 2 pi`` is dropped. The three cases differ only in the
covariance they assume:

* Case I   -- every class ``sigma^2 I``; ``sigma^2`` is the pooled within-class variance
  averaged over the features. Minimum-distance classifier with a prior term.
* Case II  -- every class one full covariance, the pooled within-class one: linear
  discriminant, the same model as scikit-learn's ``LinearDiscriminantAnalysis``.
* Case III -- a full covariance per class: quadratic discriminant, the same model as
  ``QuadraticDiscriminantAnalysis``.

Covariances are the maximum-likelihood (divide by n) ones, pooled with the class priors as
weights, which is what scikit-learn does, so the cases can be tested against it exactly.
``reg`` shrinks singular covariances (raw pixels always have some: constant border pixels):

* Case II:  ``(1 - reg) S_W + reg * (trace(S_W) / d) I`` -- scikit-learn's ``shrunk_covariance``,
  i.e. ``LinearDiscriminantAnalysis(solver="lsqr", shrinkage=reg)``. The target is the
  identity scaled by the mean variance, so ``reg`` is unit-free and ``reg=1`` *is* Case I.
* Case III: ``(1 - reg) S_k + reg I`` per class -- ``QuadraticDiscriminantAnalysis(reg_param=
  reg)``. The target is the plain identity, so ``reg`` is in the units of the features'
  variance (pixels scaled to [0, 1] have variances of about 0.01 to 0.2).
* Case I ignores ``reg``: shrinking ``sigma^2 I`` towards itself changes nothing.

With ``reg=0`` a singular pooled covariance is pseudo-inverted in Case II (as the ``lsqr``
solver's least-squares solution does) and a singular class covariance is an error in Case III
(as in QDA), because its log-determinant is minus infinity.
"""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from scipy import linalg
from scipy.special import log_softmax, softmax
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils._param_validation import Interval
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

# Eigenvalues below this fraction of the largest count as zero (numpy's pinv/lstsq default
# uses a similar relative cut-off).
RELATIVE_TOLERANCE = 1e-10


class GaussianDiscriminant(ClassifierMixin, BaseEstimator):
    """Bayesian discriminant functions of seed 004, Case I, II or III.

    Parameters
    ----------
    case : {1, 2, 3}
        1: shared ``sigma^2 I``; 2: shared full covariance (linear); 3: per-class full
        covariance (quadratic).
    reg : float in [0, 1]
        Shrinkage of the covariance estimate; see the module docstring for the exact
        definition per case (it matches LDA's ``shrinkage`` and QDA's ``reg_param``).
    """

    _parameter_constraints: dict = {
        "case": [Interval(Integral, 1, 3, closed="both")],
        "reg": [Interval(Real, 0, 1, closed="both")],
    }

    def __init__(self, case: int = 2, reg: float = 0.0) -> None:
        self.case = case
        self.reg = reg

    def fit(self, X, y):
        self._validate_params()
        X, y = validate_data(self, X, y, dtype=[np.float64, np.float32])
        check_classification_targets(y)
        X = X.astype(np.float64, copy=False)
        self.classes_, y_index = np.unique(y, return_inverse=True)
        n_samples, n_features = X.shape
        n_classes = len(self.classes_)
        if n_classes < 2:
            raise ValueError(f"needs samples of at least 2 classes; got 1 class: {self.classes_}")
        counts = np.bincount(y_index, minlength=n_classes)
        self.priors_ = counts / n_samples
        self.means_ = np.zeros((n_classes, n_features))
        np.add.at(self.means_, y_index, X)
        self.means_ /= counts[:, None]
        centred = X - self.means_[y_index]
        case = int(self.case)

        if case == 1:
            # mean of the diagonal of the pooled S_W = sum_k P_k S_k = centred.T @ centred / n
            sigma2 = float(np.einsum("ij,ij->", centred, centred)) / (n_samples * n_features)
            self.sigma2_ = sigma2 if sigma2 > 0 else 1.0  # all points on their means
        elif case == 2:
            pooled = centred.T @ centred / n_samples
            pooled = self._shrink_to_scaled_identity(pooled)
            self.covariance_ = pooled
            precision = _pseudo_inverse(pooled)
            self.coef_ = self.means_ @ precision
            self.intercept_ = (-0.5 * np.einsum("ij,ij->i", self.coef_, self.means_)
                               + np.log(self.priors_))
        else:
            self.rotations_, self.scalings_ = [], []
            for k in range(n_classes):
                member_rows = centred[y_index == k]
                covariance = member_rows.T @ member_rows / counts[k]
                covariance = (1.0 - self.reg) * covariance + self.reg * np.eye(n_features)
                scaling, rotation = linalg.eigh(covariance)
                if scaling.min() <= RELATIVE_TOLERANCE * max(scaling.max(), 0.0):
                    raise linalg.LinAlgError(
                        f"the covariance matrix of class {self.classes_[k]} is singular "
                        f"(Case III needs {n_features} independent directions per class); "
                        f"increase reg above {self.reg} to shrink it towards the identity"
                    )
                self.rotations_.append(rotation)
                self.scalings_.append(scaling)
            self.log_determinants_ = np.array([np.sum(np.log(s)) for s in self.scalings_])
        return self

    def _shrink_to_scaled_identity(self, covariance: np.ndarray) -> np.ndarray:
        if self.reg == 0:
            return covariance
        mean_variance = np.trace(covariance) / covariance.shape[0]
        shrunk = (1.0 - self.reg) * covariance
        shrunk.flat[:: covariance.shape[0] + 1] += self.reg * mean_variance
        return shrunk

    def _discriminants(self, X) -> np.ndarray:
        """g_i(x) for every sample and class, shape (n_samples, n_classes)."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=[np.float64, np.float32])
        X = X.astype(np.float64, copy=False)
        case = int(self.case)
        if case == 1:
            squared = (np.einsum("ij,ij->i", X, X)[:, None] - 2.0 * X @ self.means_.T
                       + np.einsum("ij,ij->i", self.means_, self.means_)[None, :])
            return -0.5 * squared / self.sigma2_ + np.log(self.priors_)
        if case == 2:
            # -x'S^-1 x / 2 is common to every class and dropped: it changes no argmax or softmax
            return X @ self.coef_.T + self.intercept_
        columns = []
        for mean, rotation, scaling in zip(self.means_, self.rotations_, self.scalings_,
                                           strict=True):
            whitened = (X - mean) @ (rotation / np.sqrt(scaling))
            columns.append(np.einsum("ij,ij->i", whitened, whitened))
        mahalanobis = np.column_stack(columns)
        return -0.5 * (mahalanobis + self.log_determinants_) + np.log(self.priors_)

    def decision_function(self, X) -> np.ndarray:
        """g_i(x); for two classes g_1 - g_0, scikit-learn's binary convention."""
        scores = self._discriminants(X)
        return scores[:, 1] - scores[:, 0] if len(self.classes_) == 2 else scores

    def predict(self, X) -> np.ndarray:
        scores = self._discriminants(X)  # checks fitted before classes_ is read
        return self.classes_[np.argmax(scores, axis=1)]

    def predict_proba(self, X) -> np.ndarray:
        """Posterior P(w_i | x): the discriminants are log-posteriors up to a shared constant."""
        return softmax(self._discriminants(X), axis=1)

    def predict_with_proba(self, X) -> tuple[np.ndarray, np.ndarray]:
        """``predict(X)`` and ``predict_proba(X)`` from one computation of the discriminants."""
        scores = self._discriminants(X)
        return self.classes_[np.argmax(scores, axis=1)], softmax(scores, axis=1)

    def predict_log_proba(self, X) -> np.ndarray:
        return log_softmax(self._discriminants(X), axis=1)


def _pseudo_inverse(symmetric: np.ndarray) -> np.ndarray:
    """Inverse of a symmetric PSD matrix, pseudo-inverse where it is singular."""
    eigenvalues, eigenvectors = linalg.eigh(symmetric)
    keep = eigenvalues > RELATIVE_TOLERANCE * max(eigenvalues.max(), 0.0)
    kept_vectors = eigenvectors[:, keep]
    return (kept_vectors / eigenvalues[keep]) @ kept_vectors.T
