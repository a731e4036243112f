"""Feature steps that go in front of a classifier: pixel scaling and PCA.

Each returns scikit-learn steps, so a pipeline is an ordinary ``sklearn.pipeline.Pipeline``
and its reducer is fitted on the training split only.
"""

from __future__ import annotations

import numpy as np
from sklearn.decomposition import PCA
from sklearn.preprocessing import FunctionTransformer

from benchmarks.profiles import Profile

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
