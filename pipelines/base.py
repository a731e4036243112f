"""The pipeline contract and the adapter that puts any scikit-learn estimator behind it."""

from __future__ import annotations

import hashlib
from typing import Any, Protocol, runtime_checkable

import numpy as np
from scipy.special import softmax
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import ExtraTreesClassifier, RandomForestClassifier
from sklearn.frozen import FrozenEstimator
from sklearn.neighbors import KNeighborsClassifier
from sklearn.tree import DecisionTreeClassifier, ExtraTreeClassifier

from . import sharing

# final steps whose labels are the argmax of their probabilities (SklearnPipeline)
LABELS_FROM_PROBA = (RandomForestClassifier, ExtraTreesClassifier, DecisionTreeClassifier,
                     ExtraTreeClassifier, KNeighborsClassifier)


@runtime_checkable
class Pipeline(Protocol):
    """What the runner needs from a model: fit, predict, optional probabilities, a description.

    ``X`` is a uint8 array of images (N x H x W); each pipeline scales it its own way.
    ``validation`` is ``(X_val, y_val)`` for pipelines that early-stop or tune on it.
    """

    name: str
    family: str

    def fit(self, X: np.ndarray, y: np.ndarray, *, validation: tuple | None = None) -> Pipeline:
        ...

    def predict(self, X: np.ndarray) -> np.ndarray:
        ...

    def predict_proba(self, X: np.ndarray) -> np.ndarray | None:
        ...

    def describe(self) -> dict:
        ...



# The optional parts of the contract: a pipeline offers one by having its member; the runner
# asks with isinstance (runtime-checkable), never by probing signatures.

@runtime_checkable
class PredictsWithProba(Protocol):
    """Labels and probabilities (or None) from one pass over X, the labels equal to
    ``predict(X)``: the runner scores the validation images with it."""

    def predict_with_proba(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        ...


@runtime_checkable
class ProbaAtPredictCost(PredictsWithProba, Protocol):
    """``proba_at_predict_cost = True``: predict_with_proba costs what predict costs (a
    network's predict is its probabilities' argmax; a calibrated SVM's labels and
    probabilities come from one kernel pass), so the runner times it as the test predict
    and runs the test images through once, not twice."""

    proba_at_predict_cost: bool


@runtime_checkable
class TakesClassCount(Protocol):
    """``takes_n_classes = True``: fit takes ``n_classes=``, the dataset's class count, which
    a subsample's labels may not show (a network sizes its output layer with it)."""

    takes_n_classes: bool


@runtime_checkable
class TakesTemperature(Protocol):
    """``takes_temperature = True``: fit takes ``temperature=``, the one its validation run
    fitted, for a refit, which holds no images out to fit its own on."""

    takes_temperature: bool


@runtime_checkable
class KeepsNetwork(Protocol):
    """Holds a fitted Keras network in the attribute it names: saved as a ``.keras`` file of
    its own (pipelines/saving.py), not inside the pipeline's joblib file."""

    keeps_network: bool
    network_attribute: str


@runtime_checkable
class Resumable(Protocol):
    """``resumable = True``: fit takes ``checkpoint_dir=``, where it keeps a checkpoint after
    every epoch and resumes from the last one (a killed or timed-out job goes on from it)."""

    resumable: bool


@runtime_checkable
class PredictsAs(Protocol):
    """``prediction_settings``: the names in ``hyperparameters()`` (what ``describe()`` lists
    as ``params``, known before fit) that change only how the fitted pipeline predicts (a
    network's test-time augmentation), never what fit learns. ``predict_as(other, warm_up=X)``:
    this fitted pipeline predicts from now on as ``other``, unfitted and alike but for those,
    would (True), or stays as it is where it cannot (False); ``X``, training images, warms its
    predict up as fit would have. A job that differs from a stored one only in them is scored
    with that job's kept model rather than trained again (benchmarks/run/twins.py)."""

    prediction_settings: tuple[str, ...]

    def hyperparameters(self) -> dict[str, Any]:
        ...

    def predict_as(self, other, *, warm_up: np.ndarray) -> bool:
        ...


def flatten_images(X: np.ndarray) -> np.ndarray:
    """N x H x W (x C) images as N x features rows, without copying."""
    X = np.asarray(X)
    return X.reshape(len(X), -1)


def json_safe_params(params: dict[str, Any]) -> dict[str, Any]:
    """Hyper-parameters that are plain values; estimators and callables become their names."""
    safe: dict[str, Any] = {}
    for key, value in sorted(params.items()):
        if value is None or isinstance(value, bool | int | float | str):
            safe[key] = value
        elif isinstance(value, tuple | list):
            if all(isinstance(item, bool | int | float | str) for item in value):
                safe[key] = list(value)
            # else: a Pipeline's steps; each step's own parameters are listed with a prefix
        elif hasattr(value, "get_params"):
            continue  # nested estimators: their own parameters are listed with a prefix
        elif callable(value):
            safe[key] = getattr(value, "__name__", type(value).__name__)
        else:
            safe[key] = repr(value)
    return safe


class SklearnPipeline:
    """Any scikit-learn estimator or Pipeline behind the fashionbench contract.

    The estimator is cloned at fit time, so the same object can be fitted again from scratch.
    """

    family = "classical"
    takes_temperature = True

    def __init__(self, name: str, estimator, *, reducer: str = "raw",
                 selection: str = "fixed defaults", notes: str | None = None) -> None:
        self.name = name
        self.estimator = estimator
        self.reducer = reducer
        self.selection = selection
        self.notes = notes

    def fit(self, X, y, *, validation=None, temperature: float | None = None
            ) -> SklearnPipeline:
        estimator = clone(self.estimator)
        # steps that need the images' shape, not just their rows (HOG), declare an
        # ``image_shape`` parameter: any dataset's size and channels then reach them
        shape = {key: tuple(np.shape(X)[1:]) for key in estimator.get_params(deep=True)
                 if key == "image_shape" or key.endswith("__image_shape")}
        if shape:
            estimator.set_params(**shape)
        final = estimator[-1] if hasattr(estimator, "steps") else estimator
        self.chosen_on_validation_ = None
        self.__dict__.pop("_calibration_pass", None)  # the previous fit's, if any
        if getattr(final, "early_stopping_rounds", None):
            if validation is not None:
                self.estimator_ = self._fit_watching(estimator, final, X, y, validation)
                return self
            # nothing to watch (a refit, or a caller's own fit): every round is trained
            final.set_params(early_stopping_rounds=None)
        rows, labels = flatten_images(X), np.asarray(y)
        if shares_features(estimator):
            features, rows = sharing.fit_transform(estimator[:-1], rows, labels)
            final.fit(rows, labels)
            estimator.steps = [*features.steps, estimator.steps[-1]]
        else:
            estimator.fit(rows, labels)
        self.estimator_ = estimator
        self.calibrator_, self.temperature_ = None, None
        if validation is not None:
            self.calibrate(*validation)
        elif temperature is not None and self._needs_calibration():
            self.temperature_ = float(temperature)  # a refit: its validation run's
        return self

    def _final_step(self):
        return self.estimator_[-1] if hasattr(self.estimator_, "steps") else self.estimator_

    def _needs_calibration(self) -> bool:
        final = self._final_step()
        return not hasattr(final, "predict_proba") and hasattr(final, "decision_function")

    def calibrate(self, images, labels) -> bool:
        """Give probabilities to a final step that has a decision function but none (an SVM,
        whose own Platt scaling costs five more fits): one temperature scales its decision
        values into a softmax, fitted on held-out ``images`` (the validation split; scikit-
        learn's ``CalibratedClassifierCV(FrozenEstimator(...), method="temperature")``). A
        single temperature keeps the decision function's argmax, so the labels are the
        step's own. False, and nothing changed, when there is nothing to calibrate."""
        labels = np.asarray(labels)
        self.__dict__.pop("_calibration_pass", None)
        if not self._needs_calibration() \
                or set(np.unique(labels)) != set(self._final_step().classes_):
            return False  # checked before the feature steps run: they may cost seconds
        final, rows = self._final_input(images)
        predicted, decision = _labels_and_decision(final, rows)
        # fitted on the decision values themselves (computed once, here), which is what its
        # temperature step scales (``_scaled``); the same fit as on the step and its rows
        self.calibrator_ = CalibratedClassifierCV(
            FrozenEstimator(DecisionValues().fit(decision, labels)), method="temperature",
        ).fit(decision, labels)
        # the runner's validation pass asks for these images next: their labels and
        # probabilities are already paid for (kept once, never pickled)
        self._calibration_pass = (_fingerprint(images), predicted, decision)
        return True

    def calibration(self) -> dict | None:
        """How the probabilities were made, when they were calibrated here."""
        step = self._temperature_step()
        if step is not None:
            temperature, fitted_on = 1.0 / float(step.beta_), "validation"
        elif getattr(self, "temperature_", None):
            temperature, fitted_on = self.temperature_, "its validation run"
        else:
            return None
        return {"method": "temperature scaling of the decision function",
                "temperature": temperature, "fitted_on": fitted_on}

    def _fit_watching(self, estimator, final, X, y, validation):
        """Fit a final step that stops early (XGBoost's ``early_stopping_rounds``) watching
        the runner's validation split, seen through the feature steps fitted on the training
        images; the rounds it kept are what a refit trains (``chosen_on_validation``)."""
        rows, watched = flatten_images(X), flatten_images(validation[0])
        if final is not estimator and len(estimator.steps) > 1:
            if shares_features(estimator):
                features, rows = sharing.fit_transform(estimator[:-1], rows, np.asarray(y))
                estimator.steps = [*features.steps, estimator.steps[-1]]
            else:  # fitted in place: these steps are the estimator's own
                features = estimator[:-1]
                rows = features.fit_transform(rows, np.asarray(y))
            watched = _transformed(features, watched, estimator)
        final.fit(rows, np.asarray(y), eval_set=[(watched, np.asarray(validation[1]))],
                  verbose=False)
        self.chosen_on_validation_ = {"n_estimators": int(final.best_iteration) + 1,
                                      "early_stopping_rounds": None}
        return estimator

    def _final_input(self, X) -> tuple:
        """The final step and what the feature steps make of ``X`` for it: exactly what
        ``Pipeline.predict`` would give it (shared with other pipelines where it can be)."""
        rows, final = flatten_images(X), self.estimator_
        if hasattr(final, "steps"):  # one step or more: the step, as _final_step has it
            if len(final.steps) > 1:
                rows = _transformed(final[:-1], rows, final)
            final = final[-1]
        return final, rows

    def predict(self, X) -> np.ndarray:
        final, rows = self._final_input(X)
        return np.asarray(final.predict(rows))

    def predict_proba(self, X) -> np.ndarray | None:
        return self._probabilities(*self._final_input(X))

    def _probabilities(self, final, rows: np.ndarray) -> np.ndarray | None:
        if self._calibrated():
            return self._scaled(np.asarray(final.decision_function(rows)))
        return _probabilities(final, rows)

    def _calibrated(self) -> bool:
        # absent from models kept before calibration
        return getattr(self, "calibrator_", None) is not None \
            or bool(getattr(self, "temperature_", None))

    def _scaled(self, decision: np.ndarray) -> np.ndarray:
        """The calibrated probabilities of the final step's decision values: the fitted
        calibrator's own temperature step (what its ``predict_proba`` applies to them), or
        the same softmax at the temperature a refit carries."""
        step = self._temperature_step()
        if step is not None:
            return step.predict(decision)
        return softmax(decision / self.temperature_, axis=1)

    def _temperature_step(self):
        """The fitted calibrator's one temperature step (``CalibratedClassifierCV`` on a
        frozen estimator holds one calibrated classifier with one calibrator), or None."""
        calibrator = getattr(self, "calibrator_", None)  # absent from models kept before it
        if calibrator is None:
            return None
        return calibrator.calibrated_classifiers_[0].calibrators[0]

    @property
    def proba_at_predict_cost(self) -> bool:
        """Whether ``predict_with_proba`` costs what ``predict`` does: a calibrated final step
        that gives its labels and decision values from one pass (an SVM's kernel, a
        committee's votes), or one whose predict is the argmax of its predict_proba. The
        runner then times it as the test predict."""
        return self._own_predictions() and (self._labels_from_proba() or (
            self._calibrated() and hasattr(self._final_step(), "predict_with_decision")))

    def _labels_from_proba(self) -> bool:
        """scikit-learn's forests and trees predict ``classes_[argmax(predict_proba)]``
        (their predict calls it), and its kNN's vote is predict_proba's before the
        normalisation: one predict_proba gives both. A step of this project may say the
        same by its own ``predict_with_proba`` (the Bayesian discriminants)."""
        final = self._final_step()
        return _predicts_argmax_of_proba(final) or hasattr(final, "predict_with_proba")

    def _own_predictions(self) -> bool:
        cls = type(self)
        return cls.predict is SklearnPipeline.predict \
            and cls.predict_proba is SklearnPipeline.predict_proba

    def predict_with_proba(self, X) -> tuple[np.ndarray, np.ndarray | None]:
        """Labels and probabilities with the feature steps (scaling, PCA, HOG ...) run once,
        and a calibrated SVM's kernel, a forest's, tree's or kNN's predict_proba, or the final
        step's own predict_with_proba too; the final step gets exactly what
        ``Pipeline.predict`` would give it. A subclass that overrides predict or
        predict_proba gets its own two calls instead."""
        if not self._own_predictions():
            return self.predict(X), self.predict_proba(X)
        remembered = self._remembered_pass(X)
        if remembered is not None:
            return remembered
        final, rows = self._final_input(X)
        if hasattr(final, "predict_with_proba"):
            labels, probabilities = final.predict_with_proba(rows)
            return np.asarray(labels), np.asarray(probabilities)
        if self._labels_from_proba():
            probabilities = np.asarray(final.predict_proba(rows))
            return final.classes_.take(probabilities.argmax(axis=1)), probabilities
        if self.proba_at_predict_cost:
            labels, decision = final.predict_with_decision(rows)
            return np.asarray(labels), self._scaled(np.asarray(decision))
        return np.asarray(final.predict(rows)), self._probabilities(final, rows)

    def _remembered_pass(self, X) -> tuple[np.ndarray, np.ndarray] | None:
        """The labels and probabilities of the images ``calibrate`` just computed, once."""
        kept = self.__dict__.pop("_calibration_pass", None)  # taken: a second caller misses
        if kept is None or kept[0][0] != np.shape(X) or kept[0] != _fingerprint(X):
            if kept is not None:
                self._calibration_pass = kept  # other images: still the runner's to ask for
            return None
        return kept[1], self._scaled(kept[2])

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state.pop("_calibration_pass", None)
        return state

    def describe(self) -> dict:
        estimator = self.estimator
        steps = getattr(estimator, "steps", None)
        return {
            "name": self.name,
            "family": self.family,
            "reducer": self.reducer,
            "estimator": type(estimator).__name__,
            "steps": [[step, type(obj).__name__] for step, obj in steps] if steps else None,
            "params": json_safe_params(estimator.get_params(deep=True)),
            "n_parameters": None,
            "hyperparameter_selection": self.selection,
            # what early stopping chose on the validation split (the boosting rounds kept):
            # a refit on train + validation trains with these settings (benchmarks/run/refit.py)
            "chosen_on_validation": getattr(self, "chosen_on_validation_", None),
            "calibration": self.calibration(),
            "notes": self.notes,
        }


def shares_features(estimator) -> bool:
    """Whether a pipeline's feature steps go through the run's shared cache (sharing.py):
    while it is active, and when there is more than the pixel scaling before the final step
    (PCA, FLD, HOG), the steps worth computing once for several pipelines."""
    return sharing.active() and hasattr(estimator, "steps") and len(estimator.steps) > 2


def _transformed(features, rows: np.ndarray, estimator) -> np.ndarray:
    return (sharing.transform(features, rows) if shares_features(estimator)
            else features.transform(rows))


class DecisionValues(ClassifierMixin, BaseEstimator):
    """A classifier whose input is its decision values: scikit-learn's calibrator fitted on
    decision values an SVM computed once, for labels and probabilities together."""

    def fit(self, X, y):
        self.classes_ = np.unique(y)
        return self

    def decision_function(self, X):
        return np.asarray(X)

    def predict(self, X):  # the calibrated softmax's argmax (scikit-learn asks for one)
        return self.classes_.take(np.asarray(X).argmax(axis=1))


def _predicts_argmax_of_proba(final) -> bool:
    """Whether ``final.predict`` is ``classes_[argmax(final.predict_proba)]`` bit for bit:
    scikit-learn's own forests and trees (their predict calls predict_proba), and its kNN where
    both add the same weights in the same order. kNN's predict sums each class's weights with
    ``np.sum``, predict_proba adds them neighbour by neighbour: the same sums for uniform
    weights (counts) and for distance weights below 8 neighbours (numpy sums 8 at a time from
    there on, and a last-bit difference can change a label)."""
    base = next((cls for cls in LABELS_FROM_PROBA if isinstance(final, cls)), None)
    if base is None or type(final).predict is not base.predict \
            or type(final).predict_proba is not base.predict_proba:
        return False  # a subclass may predict its own way
    if isinstance(final, KNeighborsClassifier):
        return final.weights in (None, "uniform") \
            or (final.weights == "distance" and final.n_neighbors < 8)
    return True


def _labels_and_decision(final, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if hasattr(final, "predict_with_decision"):
        labels, decision = final.predict_with_decision(rows)
        return np.asarray(labels), np.asarray(decision)
    return np.asarray(final.predict(rows)), np.asarray(final.decision_function(rows))


def _fingerprint(images) -> tuple:
    """Images' shape and a digest of their bytes: which images a kept pass was for."""
    images = np.ascontiguousarray(images)
    return images.shape, str(images.dtype), hashlib.blake2b(images.data).hexdigest()


def _probabilities(estimator, rows: np.ndarray) -> np.ndarray | None:
    if not hasattr(estimator, "predict_proba"):
        return None
    try:
        return np.asarray(estimator.predict_proba(rows))
    except AttributeError:  # e.g. SVC(probability=False) exposes the method but refuses
        return None
