"""Virtual support vectors: an RBF SVM retrained on its support vectors and their shifted,
mirrored copies (Schölkopf, Burges & Vapnik 1996; Decoste & Schölkopf 2002, "Training
invariant support vector machines", the method behind the best kernel-SVM results on MNIST).

The support vectors are the only training images the decision function depends on, so the
invariance a transformation should teach the SVM is taught most cheaply through them: fit
once, take the support vectors, add each transformed copy of them (a one-pixel shift keeps a
garment a garment; so does a left-right mirror image), and fit again on that set alone. The
second fit sees k x the support vectors, not k x the whole training set.

``VirtualSupportVectorSVC`` takes the scaled pixel rows, computes its features (``features``,
e.g. HOG) for the originals and for each virtual copy, and predicts from the second SVM.
Everything it learns comes from the training split; the transformations are fixed.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.pipeline import Pipeline as SkPipeline
from sklearn.utils.validation import check_is_fitted, validate_data

from ..base import SklearnPipeline
from ..profiles import Profile
from ..registry import register_pipeline
from .reducers import hog, pixel_scaler, shape_of_rows
from .svm import BlasSVC
from .zoo import HOG_SVM_FEATURES, HOG_SVM_GAMMA

# transformation name -> (rows down, columns right) for shifts; "mirror" flips left-right
SHIFTS = {"left": (0, -1), "right": (0, 1), "up": (-1, 0), "down": (1, 0)}
TRANSFORMS = ("mirror", *SHIFTS)


def transformed(images: np.ndarray, name: str) -> np.ndarray:
    """N x H x W (x C) images moved by one of ``TRANSFORMS``; pixels shifted in are 0 (the
    Fashion-MNIST background) and nothing is interpolated."""
    if name == "mirror":
        return images[:, :, ::-1].copy()
    if name not in SHIFTS:
        raise ValueError(f"unknown transformation {name!r}; known: {', '.join(TRANSFORMS)}")
    shift = (0, *SHIFTS[name]) + (0,) * (images.ndim - 3)
    return ndimage.shift(images, shift, order=0, mode="constant", cval=0.0)


def moved_rows(rows: np.ndarray, shape: tuple[int, ...], names) -> list[np.ndarray]:
    """Images given as rows of ``shape`` images, moved by each of ``names``, as rows."""
    images = rows.reshape(len(rows), *shape)
    return [transformed(images, name).reshape(len(rows), -1) for name in names]


class VirtualSupportVectorSVC(ClassifierMixin, BaseEstimator):
    """RBF SVM on ``features`` of images, refitted on its support vectors plus their
    ``transforms`` (virtual support vectors). ``image_shape`` is set by the pipeline adapter
    (H x W or H x W x C); None means square greyscale rows."""

    def __init__(self, features=None, C: float = 10.0, gamma: float | str = "scale",
                 transforms: tuple[str, ...] = TRANSFORMS,
                 image_shape: tuple[int, ...] | None = None, random_state: int | None = None):
        self.features = features
        self.C = C
        self.gamma = gamma
        self.transforms = transforms
        self.image_shape = image_shape
        self.random_state = random_state

    def _svc(self) -> BlasSVC:
        return BlasSVC(kernel="rbf", C=self.C, gamma=self.gamma, random_state=self.random_state)

    def fit(self, X, y):
        X = validate_data(self, X, dtype=[np.float32, np.float64])
        y = np.asarray(y)
        for name in self.transforms:
            if name not in TRANSFORMS:
                raise ValueError(f"unknown transformation {name!r}; known: "
                                 f"{', '.join(TRANSFORMS)}")
        shape = shape_of_rows(X.shape[1], self.image_shape, "virtual support vectors")
        self.features_ = clone(self.features) if self.features is not None else None
        first = self._svc().fit(self._features(X, fit=True), y)
        support = X[first.support_]
        virtual = [support] + moved_rows(support, shape, self.transforms)
        X_virtual = np.concatenate(virtual)
        y_virtual = np.tile(y[first.support_], len(virtual))
        self.n_first_support_ = len(support)
        self.n_virtual_training_ = len(X_virtual)
        self.svc_ = self._svc().fit(self._features(X_virtual), y_virtual)
        self.classes_ = self.svc_.classes_
        return self

    def _features(self, X: np.ndarray, fit: bool = False) -> np.ndarray:
        if self.features_ is None:
            return X
        return self.features_.fit_transform(X) if fit else self.features_.transform(X)

    def predict(self, X) -> np.ndarray:
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=[np.float32, np.float64])
        return self.svc_.predict(self._features(X))

    def decision_function(self, X) -> np.ndarray:
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=[np.float32, np.float64])
        return self.svc_.decision_function(self._features(X))

    def predict_with_decision(self, X) -> tuple[np.ndarray, np.ndarray]:
        """``predict(X)`` and ``decision_function(X)`` from one pass of the second SVM."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=[np.float32, np.float64])
        return self.svc_.predict_with_decision(self._features(X))


# ---- the registered pipeline: hog-svm's features and SVM, with virtual support vectors -----
# ``python -m benchmarks.perf.hog_features`` (10,000 training and 5,000 validation images of
# the standard split, hog-svm's features and SVM, validation accuracy): without virtual
# support vectors 90.38%; their mirror images 90.52% (second fit 11,140 images, 195 s);
# the four one-pixel shifts 90.50% (27,850 images, 514 s); all five 90.62% (33,420 images,
# 1,015 s); the whole training set and its mirror images 90.48% (20,000 images, 259 s).
# The mirror images alone: most of the gain for a second fit twice the support vectors (all
# five cost 13x hog-svm's fit at 10,000 images, hours at 48,000 on one core). Averaging the
# decision values over each image and its mirror at predict (``tta=mirror``) gave 90.50%:
# nothing, so predict stays one pass.
VSV_TRANSFORMS = {"smoke": ("mirror",), "quick": ("mirror",), "full": ("mirror",)}
VSV_SELECTION = ("hog-svm's features and SVM (C=10, gamma=0.039), refitted on its support "
                 "vectors and their mirror images; the transformations chosen on the "
                 "validation split (python -m benchmarks.perf.hog_features, 10,000 training "
                 "images): mirror 90.52%, four one-pixel shifts 90.50%, all five 90.62% "
                 "at 5x the cost, none 90.38%")


# two SVM fits, the second on twice the support vectors: about 2.5x hog-svm's time, so the
# smoke profile gives it half its training images (the leaderboard states it)
VSV_TRAIN_SIZES = {"smoke": 500}

# Left out of the default run (the CPU-speed issue's 10 minutes on 2 cores): the quick budget
# it could afford, 5,000 training images (75 s of job time on a 2-core Xeon, 188 s on an AMD
# EPYC), ranked it below hog-svm on 10,000; the full profile ranks it above. A row that
# inverts the order the full rows give says nothing a user can act on.
VSV_LEFT_OUT = {"quick": "needs the full profile: the default run's budget, 5,000 training "
                         "images, ranked it below hog-svm on 10,000 (validation 89.00 against "
                         "90.38%), where the full profile ranks it above (92.87 against "
                         "92.70%); see its full row"}


@register_pipeline("hog-svm-vsv", family="classical", tags=("hog", "svm"),
                   train_sizes=VSV_TRAIN_SIZES, left_out_of=VSV_LEFT_OUT)
def hog_svm_vsv(profile: Profile, seed: int = 0, transforms: tuple[str, ...] | None = None,
                C: float = 10.0, gamma: float = HOG_SVM_GAMMA) -> SklearnPipeline:
    """RBF SVM on HOG + pixels (hog-svm's), retrained on its support vectors and their
    mirror images: virtual support vectors (Decoste & Schölkopf 2002)."""
    chosen = VSV_TRANSFORMS.get(profile.name, VSV_TRANSFORMS["full"])
    estimator = SkPipeline([
        ("scale", pixel_scaler()),
        ("vsv", VirtualSupportVectorSVC(
            features=hog(**HOG_SVM_FEATURES[0]), C=C, gamma=gamma,
            transforms=tuple(transforms) if transforms is not None else chosen,
            random_state=seed)),
    ])
    selection = VSV_SELECTION if transforms is None else \
        f"{VSV_SELECTION}; transforms overridden by the caller: {list(transforms)}"
    return SklearnPipeline("hog-svm-vsv", estimator, reducer="hog", selection=selection)
