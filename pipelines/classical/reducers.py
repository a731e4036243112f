"""Feature steps that go in front of a classifier: pixel scaling, PCA, FLD and HOG.

Each returns scikit-learn steps, so a pipeline is an ordinary ``sklearn.pipeline.Pipeline``
and its reducer is fitted on the training split only.
"""

from __future__ import annotations

import math

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.decomposition import PCA
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
from sklearn.preprocessing import FunctionTransformer
from sklearn.utils.validation import check_is_fitted, validate_data

from ..profiles import Profile

# Components kept by PCA in front of a classifier, per profile (recorded in describe()).
PCA_COMPONENTS = {"smoke": 30, "quick": 50, "full": 50}


def scale_pixels(X: np.ndarray) -> np.ndarray:
    """uint8 pixels to float32 in [0, 1] (seed 004's normalisation: divide by 255)."""
    return np.asarray(X, dtype=np.float32) / np.float32(255.0)


def pixel_scaler() -> FunctionTransformer:
    return FunctionTransformer(scale_pixels, feature_names_out="one-to-one")


def pca(profile: Profile, *, n_components: int | float | None = None, whiten: bool = False,
        seed: int = 0) -> PCA:
    """PCA with a fixed component count per profile, or a retained-variance fraction if given."""
    components = n_components if n_components is not None else PCA_COMPONENTS.get(profile.name, 50)
    solver = "full" if isinstance(components, float) else "randomized"
    return PCA(n_components=components, whiten=whiten, svd_solver=solver, random_state=seed)


def fld(*, tol: float = 1e-4) -> LinearDiscriminantAnalysis:
    """Fisher's linear discriminant (seed 004, eq. 1): project onto c - 1 directions.

    ``n_components=None`` is scikit-learn's ``min(n_classes - 1, n_features)``, i.e. the c - 1
    of the seed, known only once the labels are seen (9 on Fashion-MNIST). The ``svd`` solver
    is used because raw pixels include constant ones (the corners of Fashion-MNIST in small
    samples, the borders of digits): it whitens the within-class scatter through an SVD and
    drops directions whose singular value is below ``tol``, so a singular S_W needs no
    inverse, no d x d covariance and no shrinkage value to choose. ``solver="eigen"`` would need
    ``shrinkage`` to make S_W invertible, and ``lsqr`` cannot transform at all.
    """
    return LinearDiscriminantAnalysis(solver="svd", n_components=None, tol=tol)


def shape_of_rows(values: int, image_shape: tuple[int, ...] | None,
                  what: str) -> tuple[int, ...]:
    """The image shape of rows of ``values`` values: ``image_shape`` where the pipeline
    adapter set one (checked against the rows), else square greyscale images."""
    if image_shape is not None:
        shape = tuple(int(size) for size in image_shape)
        if math.prod(shape) != values:
            raise ValueError(f"image_shape {shape} does not hold rows of {values} values")
        return shape
    side = math.isqrt(values)
    if side * side != values:
        raise ValueError(f"{what} without image_shape needs square greyscale images; rows of "
                         f"{values} values are not")
    return (side, side)


class HogFeatures(TransformerMixin, BaseEstimator):
    """Histogram-of-oriented-gradients features of images given as rows.

    Rows are reshaped back to images of ``image_shape`` (H x W, or H x W x 3 for colour; the
    pipeline adapter sets it from the images it is given; None: square greyscale, side the
    square root of the row) and passed one by one to ``skimage.feature.hog``, over the
    channels for colour images. ``pixels_per_cell=None`` adapts the cell to the image:
    ``max(2, min(H, W) // cells_per_side)`` pixels (7 cells a side unless ``cells_per_side``
    says otherwise), so 28 x 28 images get 7 x 7 cells of 4 x 4 pixels
    (6 x 6 blocks of 2 x 2 cells x 9 orientations = 1,296 features) and 8 x 8 digits get
    4 x 4 cells of 2 x 2 pixels (324 features). Nothing is learned: ``fit`` only records
    the image size. About 0.5 ms per 28 x 28 image on one core.

    ``raw_weight`` > 0 appends the pixels themselves, times that weight, after the HOG values:
    HOG alone keeps only edge directions per cell and loses where the garment's mass lies
    (a Shirt and a T-shirt/top have much the same edges), the pixels keep it. The weight sets
    the pixels' share of an RBF kernel's distance against the HOG block values (each block
    is L2-normalised to 1).
    """

    def __init__(self, orientations: int = 9, pixels_per_cell: int | None = None,
                 cells_per_block: int = 2, block_norm: str = "L2-Hys",
                 transform_sqrt: bool = False, raw_weight: float = 0.0,
                 image_shape: tuple[int, ...] | None = None,
                 cells_per_side: int | None = None) -> None:
        self.image_shape = image_shape
        self.orientations = orientations
        self.pixels_per_cell = pixels_per_cell
        self.cells_per_side = cells_per_side
        self.cells_per_block = cells_per_block
        self.block_norm = block_norm
        self.transform_sqrt = transform_sqrt
        self.raw_weight = raw_weight

    def fit(self, X, y=None):
        X = validate_data(self, X, dtype=[np.float32, np.float64])
        shape = self.image_shape_ = shape_of_rows(X.shape[1], self.image_shape, "HOG")
        self.cell_side_ = self.pixels_per_cell or max(
            2, min(shape[:2]) // (self.cells_per_side or 7))
        return self

    def transform(self, X) -> np.ndarray:
        # imported here: the GPU machine has no scikit-image, and only HOG needs it
        from skimage.feature import hog as skimage_hog

        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=[np.float32, np.float64])
        images = X.reshape(len(X), *self.image_shape_)
        cell = (self.cell_side_, self.cell_side_)
        block = (self.cells_per_block, self.cells_per_block)
        channel_axis = -1 if len(self.image_shape_) == 3 else None
        features = np.stack([
            skimage_hog(image, orientations=self.orientations, pixels_per_cell=cell,
                        cells_per_block=block, block_norm=self.block_norm,
                        transform_sqrt=self.transform_sqrt, feature_vector=True,
                        channel_axis=channel_axis)
            for image in images
        ]).astype(np.float32, copy=False)
        if self.raw_weight:
            pixels = np.asarray(X, dtype=np.float32) * np.float32(self.raw_weight)
            features = np.hstack([features, pixels])
        return features


def hog(*, orientations: int = 9, pixels_per_cell: int | None = None,
        cells_per_block: int = 2, transform_sqrt: bool = False,
        raw_weight: float = 0.0) -> HogFeatures:
    """HOG features (9 orientations, 4 x 4-pixel cells on 28 x 28, 2 x 2-cell blocks, L2-Hys),
    optionally followed by the weighted pixels."""
    return HogFeatures(orientations=orientations, pixels_per_cell=pixels_per_cell,
                       cells_per_block=cells_per_block, transform_sqrt=transform_sqrt,
                       raw_weight=raw_weight)
