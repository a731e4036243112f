"""k-nearest-neighbour pipelines (seed 004): raw pixels or PCA features, Euclidean distance."""

from __future__ import annotations

from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import Pipeline as SkPipeline

from ..base import SklearnPipeline
from ..profiles import Profile
from ..registry import register_pipeline
from .reducers import pca, pixel_scaler


def knn(n_neighbors: int = 5, weights: str = "distance") -> KNeighborsClassifier:
    # brute force: with tens to hundreds of dimensions it beats trees, and it runs on BLAS
    return KNeighborsClassifier(n_neighbors=n_neighbors, weights=weights, algorithm="brute")


@register_pipeline("raw-knn", family="classical", tags=("raw", "knn"))
def raw_knn(profile: Profile, n_neighbors: int = 5, weights: str = "distance") -> SklearnPipeline:
    """kNN on the 784 scaled pixels."""
    estimator = SkPipeline([("scale", pixel_scaler()), ("knn", knn(n_neighbors, weights))])
    return SklearnPipeline("raw-knn", estimator, reducer="raw")


@register_pipeline("pca-knn", family="classical", tags=("pca", "knn"))
def pca_knn(profile: Profile, seed: int = 0, n_components: int | float | None = None,
            n_neighbors: int = 5, weights: str = "distance") -> SklearnPipeline:
    """kNN on PCA features fitted on the training split."""
    estimator = SkPipeline([
        ("scale", pixel_scaler()),
        ("pca", pca(profile, n_components=n_components, seed=seed)),
        ("knn", knn(n_neighbors, weights)),
    ])
    return SklearnPipeline("pca-knn", estimator, reducer="pca")
