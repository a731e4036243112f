"""Feature steps computed once per run and shared by the pipelines that repeat them.

hog-knn, hog-rf and hog-bayes2 compute the same HOG features of the same images; the pca-*
pipelines fit the same PCA; the fld-* ones the same discriminant. While ``shared_in(folder)``
is active, ``SklearnPipeline`` (base.py) sends its feature steps through ``fit_transform``
and ``transform`` here: ``joblib.Memory`` keys each call on the steps' parameters (or fitted
state) and the images, so the first pipeline computes and stores the result and the next
one with the same steps and images loads it. Predictions are the same either way: only
deterministic steps with equal parameters and equal inputs meet in the cache.

What a load saved is kept, for the timing columns to stay honest: each stored result carries
the seconds its computation took, and ``Ledger`` adds them up for every result this process
loaded rather than computed. The runner adds them back to the fit and predict times, so a
row states what its pipeline alone would have paid, whatever order the jobs ran in.
"""

from __future__ import annotations

import pickle
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.base import clone


@dataclass
class Ledger:
    """What one block's feature steps loaded from the cache instead of computing."""

    loads: int = 0
    computed: int = 0
    loaded_seconds: float = 0.0  # what the loaded results took to compute, where they were


_active: tuple | None = None  # (joblib.Memory, Ledger) while shared_in is active
_last_computed: str | None = None  # the token of the result this process computed last


@contextmanager
def shared_in(folder: str | Path | None) -> Iterator[Ledger]:
    """Share feature steps through ``folder`` (joblib's cache) inside the block; None shares
    nothing. Yields the ledger of what was loaded instead of computed."""
    global _active
    from joblib import Memory

    ledger = Ledger()
    before = _active
    _active = (Memory(str(folder), verbose=0), ledger) if folder is not None else None
    try:
        yield ledger
    finally:
        _active = before


def active() -> bool:
    return _active is not None


def _stamped(result: tuple, started: float) -> tuple:
    """A computed result, with its seconds and a token new to every computation."""
    global _last_computed
    _last_computed = uuid.uuid4().hex
    return (*result, time.perf_counter() - started, _last_computed)


def _computed_fit_transform(steps, rows: np.ndarray, labels: np.ndarray) -> tuple:
    started = time.perf_counter()
    transformed = steps.fit_transform(rows, labels)
    return _stamped((steps, transformed), started)


def _computed_transform(fitted, rows: np.ndarray) -> tuple:
    started = time.perf_counter()
    return _stamped((fitted.transform(rows),), started)


def _through_cache(function, *args) -> tuple:
    global _last_computed
    memory, ledger = _active
    _last_computed = None
    *result, seconds, token = memory.cache(function)(*args)
    # computed here, the call set the token it returned; a loaded result carries the token
    # of the job that computed it
    if token == _last_computed:
        ledger.computed += 1
    else:
        ledger.loads += 1
        ledger.loaded_seconds += seconds
    return tuple(result)


def fit_transform(steps, rows: np.ndarray, labels: np.ndarray) -> tuple:
    """``clone(steps).fit_transform(rows, labels)``, shared when active: (fitted, rows)."""
    if _active is None:
        fitted = clone(steps)
        return fitted, fitted.fit_transform(rows, labels)
    fitted, transformed = _through_cache(_computed_fit_transform, clone(steps), rows, labels)
    # as every later job loads it: pickling lays arrays out afresh (a fitted PCA's
    # components_ is a strided view until then), and the transforms are keyed on its bytes
    return pickle.loads(pickle.dumps(fitted)), transformed


def transform(fitted, rows: np.ndarray) -> np.ndarray:
    """``fitted.transform(rows)``, shared when active."""
    if _active is None:
        return fitted.transform(rows)
    return _through_cache(_computed_transform, fitted, rows)[0]
