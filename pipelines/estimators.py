"""Any scikit-learn estimator (or Pipeline) as a pipeline for one run, as PyCaret's
``compare_models(include=[...])`` and LazyPredict take them: each is put behind the contract
on scaled pixels (pixels / 255, as the zoo's ``raw-*`` pipelines) and registered under a name
for as long as ``registered_for_now`` holds, then removed. A pipeline to publish is still a
decorated factory (``register_pipeline``); this is for a notebook's quick comparison.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable, Iterator, Mapping

from sklearn.base import BaseEstimator, clone
from sklearn.pipeline import Pipeline as SkPipeline
from sklearn.pipeline import make_pipeline

from .base import SklearnPipeline
from .classical.reducers import pixel_scaler
from .errors import FashionbenchError
from .registry import pipeline_entries, register_pipeline, unregister_pipeline

SESSION_TAG = "this-session"  # made in this process: no worker process can build it


def is_estimator(value: object) -> bool:
    return isinstance(value, BaseEstimator) or (
        hasattr(value, "fit") and hasattr(value, "predict") and hasattr(value, "get_params"))


def kebab(text: str) -> str:
    """``LogisticRegression`` -> ``logistic-regression``."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "-", text).lower()


def estimator_name(estimator) -> str:
    """A name from the class: ``logistic-regression``; a Pipeline's from its steps'."""
    if isinstance(estimator, SkPipeline):
        return "+".join(kebab(type(step).__name__) for _, step in estimator.steps)[:100]
    return kebab(type(estimator).__name__)


def named_estimators(given: Mapping[str, object] | Iterable[object]) -> dict[str, object]:
    """``{name: estimator}`` from a mapping, or from a list named by class (a name given twice
    gets ``-2``, ``-3``); a name a built-in pipeline has is one line naming another."""
    if isinstance(given, Mapping):
        named = dict(given)
    else:
        named = {}
        for estimator in given:
            base = estimator_name(estimator)
            name, number = base, 1
            while name in named:
                number += 1
                name = f"{base}-{number}"
            named[name] = estimator
    builtin = pipeline_entries()
    for name, estimator in named.items():
        if not is_estimator(estimator):
            raise FashionbenchError(f"{name!r}: {type(estimator).__name__} is not a "
                                    f"scikit-learn estimator (it needs fit, predict, get_params)")
        if name in builtin and SESSION_TAG not in builtin[name].tags:
            raise FashionbenchError(f"{name!r} is the name of a built-in pipeline; give your "
                                    f"estimator another, e.g. {{'my-{name}': ...}}")
    return named


def _factory(name: str, estimator):
    def factory(profile, seed: int | None = None):
        model = clone(estimator)
        if seed is not None and "random_state" in model.get_params(deep=False):
            model.set_params(random_state=seed)
        return SklearnPipeline(name, make_pipeline(pixel_scaler(), model), reducer="raw",
                               selection="as given (your estimator)")

    factory.__qualname__ = f"estimator[{name}]"
    factory.__doc__ = f"{type(estimator).__name__}, given to run(), on pixels / 255"
    return factory


@contextlib.contextmanager
def registered_for_now(named: Mapping[str, object]) -> Iterator[list[str]]:
    """Register each estimator as a classical pipeline; remove them all on exit."""
    added = []
    try:
        for name, estimator in named.items():
            unregister_pipeline(name)  # one of an earlier call of this session
            register_pipeline(name, family="classical", tags=("estimator", SESSION_TAG))(
                _factory(name, estimator))
            added.append(name)
        yield added
    finally:
        for name in added:
            unregister_pipeline(name)
