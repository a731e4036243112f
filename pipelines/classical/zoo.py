"""The classical zoo of seed 004 (and the Fashion-MNIST benchmark table): reducer x classifier.

Every pipeline is ``scale -> reduce -> classify`` as one scikit-learn Pipeline, so the reducer
is fitted on the training split only. The names are ``<reducer>-<classifier>``
(``raw-svm``, ``fld-bayes2``, ``hog-svm`` ...); they are generated from the tables below
rather than written out 40 times, each with its own name, tags and description.

Hyper-parameters per profile live in ``CLASSIFIER_SETTINGS``: ``smoke`` makes each pipeline
fit and predict in about a second on 1,000 images; ``quick`` keeps the whole zoo within about
ten minutes on 2 cores at 10,000 training images; ``full`` uses strong settings. How each value
was chosen is written into ``describe()["hyperparameter_selection"]``. ``raw-knn`` and
``pca-knn`` are registered by ``neighbors.py`` and share its ``knn`` step.

Keyword overrides given to ``create_pipeline`` go to the reducer when they name one of its
parameters (``n_components`` for PCA, ``orientations`` ... for HOG, ``tol`` for FLD) and to the
classifier otherwise.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sklearn.ensemble import AdaBoostClassifier, RandomForestClassifier
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline as SkPipeline
from sklearn.tree import DecisionTreeClassifier

from ..base import SklearnPipeline
from ..hardware import thread_budget
from ..profiles import Profile
from ..registry import register_pipeline
from .bayes import GaussianDiscriminant
from .clustering import KMeansClassifier
from .neighbors import knn
from .reducers import PCA_COMPONENTS, fld, hog, pca, pixel_scaler
from .svm import BlasSVC


def n_jobs() -> int:
    """Threads for the estimators that have them: the job's thread budget (what a parallel
    executor granted it, else the process's CPU affinity), at most 8."""
    return max(1, min(thread_budget(), 8))

REDUCER_PARAMETERS = {
    "raw": set(),
    "pca": {"n_components", "whiten"},
    "fld": {"tol"},
    "hog": {"orientations", "pixels_per_cell", "cells_per_block", "transform_sqrt",
            "raw_weight"},
}

REDUCER_DESCRIPTIONS = {
    "raw": "the 784 scaled pixels",
    "pca": "PCA features (components per profile: {pca})".format(
        pca=", ".join(f"{k} {v}" for k, v in PCA_COMPONENTS.items())),
    "fld": "Fisher's linear discriminant, c - 1 = 9 dimensions",
    "hog": "HOG features (9 orientations, 4x4-pixel cells, 2x2-cell blocks)",
}


def build_reducer(reducer: str, profile: Profile, seed: int, params: dict) -> list[tuple]:
    if reducer == "raw":
        return []
    if reducer == "pca":
        return [("pca", pca(profile, seed=seed, **params))]
    if reducer == "fld":
        return [("fld", fld(**params))]
    if reducer == "hog":
        return [("hog", hog(**params))]
    raise ValueError(f"unknown reducer {reducer!r}")


@dataclass(frozen=True)
class ClassifierSpec:
    """How to build one classifier, its settings per profile and where they come from."""

    description: str
    build: Callable[..., object]  # build(seed=..., **settings) -> estimator
    settings: dict[str, dict]  # profile name -> keyword arguments
    selection: dict[str, str]  # profile name -> how the settings were chosen
    per_reducer: dict[str, dict[str, dict]] | None = None  # reducer -> profile -> overrides

    def settings_for(self, reducer: str, profile: Profile) -> dict:
        chosen = dict(self.settings.get(profile.name, self.settings["full"]))
        if self.per_reducer and reducer in self.per_reducer:
            chosen.update(self.per_reducer[reducer].get(profile.name, {}))
        return chosen


# hog-svm's gamma: 2x 'scale' on HOG + pixels x 0.5 (HOG_SVM_FEATURES), which is 0.0194
# whatever the sample size
HOG_SVM_GAMMA = 0.039


def _svm(seed: int, **settings) -> BlasSVC:
    # probability=False: Platt scaling costs a 5-fold internal fit. Probabilities come instead
    # from one temperature on the validation split (SklearnPipeline.calibrate, pipelines/base.py)
    # libsvm fits; the predictions are libsvm's decision function evaluated with BLAS (svm.py)
    return BlasSVC(kernel="rbf", random_state=seed, **settings)


def _random_forest(seed: int, **settings) -> RandomForestClassifier:
    return RandomForestClassifier(random_state=seed, n_jobs=n_jobs(), **settings)


def _adaboost(seed: int, *, max_depth: int, max_features=None, **settings) -> AdaBoostClassifier:
    # scikit-learn >= 1.6 implements only SAMME (the multi-class AdaBoost) -- seed 004's Adaboost
    weak = DecisionTreeClassifier(max_depth=max_depth, max_features=max_features,
                                  random_state=seed)
    return AdaBoostClassifier(estimator=weak, random_state=seed, **settings)


def _tree(seed: int, **settings) -> DecisionTreeClassifier:
    return DecisionTreeClassifier(random_state=seed, **settings)


def _xgboost(seed: int, **settings):
    from xgboost import XGBClassifier  # imported when used: it is the slowest import here

    return XGBClassifier(tree_method="hist", random_state=seed, n_jobs=n_jobs(), **settings)


def _mlp(seed: int, **settings) -> MLPClassifier:
    return MLPClassifier(random_state=seed, **settings)


def _knn(seed: int, **settings):
    return knn(**settings)


def _kmeans(seed: int, **settings) -> KMeansClassifier:
    return KMeansClassifier(random_state=seed, **settings)


def _bayes(case: int) -> Callable[..., GaussianDiscriminant]:
    def build(seed: int, **settings) -> GaussianDiscriminant:
        return GaussianDiscriminant(case=case, **settings)

    return build


BENCHMARK_TABLE = "fixed from the Fashion-MNIST benchmark table (zalandoresearch/fashion-mnist)"
SMOKE = "smoke: small fixed values so that every pipeline runs in about a second; not a result"
QUICK_BUDGET = "quick: fixed, scaled down to keep the whole zoo within ~10 min on 2 cores"


# The Bayesian discriminants' shrinkage was picked from a small grid per reducer
# (Case II: 0, 0.01, 0.1, 0.3, 0.6; Case III: 0 or 0.001 ... 1) by validation accuracy.
REG_SELECTION = ("chosen on the validation split: 4,000 training and 2,000 held-out images of "
                 "the Fashion-MNIST training file (quick settings, seed 0), never the test file")


# A faster setting may give up at most 0.1 validation points (the selection scripts' tolerance):
# half of the 0.2 points the classical zoo may lose to its speed-ups, the other half left for
# the validation-to-test difference. At 0.2 on validation, raw-rf's 128 trees (-0.17 there)
# and raw-xgboost's eta 0.2 (-0.15) each lost more than 0.2 points on test.
SELECTION_TOLERANCE = 0.1
ENSEMBLE_SIZES = ("python -m benchmarks.perf.ensemble_size --profile full, "
                  "results/selection/ensemble_size.jsonl")


# AdaBoost's weak trees searched every pixel at each split, its slowest setting; on raw pixels
# trees that search a random quarter of them peaked higher on validation (81.27% at 117 rounds
# against 80.97% at 139) in about a fifth of the fit; a random sqrt or 10% gave up half a point
# (python -m benchmarks.perf.ensemble_size --profile full --only raw-adaboost --set
# n_estimators=N --set max_features=F: results/selection/adaboost_features.jsonl). The other
# feature steps have few features (PCA 50ish, FLD 9) and were not measured: every feature.
ADABOOST_FEATURE_SHARE = {"raw": 0.25}
ADABOOST_FEATURES = (f"on raw pixels each tree searches a random "
                     f"{ADABOOST_FEATURE_SHARE['raw']:.0%} of the pixels at each split (chosen "
                     "on validation among sqrt, 10%, 25% and all: "
                     "results/selection/adaboost_features.jsonl), on PCA and FLD every feature")

# Depth-4 trees (then the usual boosted-tree setting, not tuned) left raw-adaboost at ~81% on
# validation and pca-adaboost at ~77%, where a round's accuracy swings by up to a point. Deeper
# weak trees, each with its 250-round curve (the same --set commands with max_depth=D:
# results/selection/adaboost_depth.jsonl), peaked higher: raw 83.89% (depth 6) and 87.11%
# (depth 8) for 1.8x and 2.6x the fit; PCA 77.76% (4), 82.09% (6) and 84.28% (8) for 1.4x and
# 1.8x. Depths past 8 were not measured; FLD (9 features) keeps 4.
ADABOOST_DEPTH = {"raw": 8, "pca": 8}


XGBOOST_RATE = "python -m benchmarks.perf.xgboost_rate, results/selection/xgboost_rate.jsonl"

# raw pixels' histograms: 128 bins per pixel instead of 256 make a round about a third cheaper
# with the same validation accuracy (90.66% against 90.61%, eta 0.1, on this Xeon 397 s
# against 614 s); 64 bins gave up 0.12 points, eta 0.2 0.15 (more than SELECTION_TOLERANCE)
XGBOOST_RAW_BINS = 128


# the full profile's ensemble sizes per reducer, as chosen on validation (ENSEMBLE_SIZES)
FOREST_TREES = {"raw": 288, "pca": 285, "hog": 264, "fld": 210}
ADABOOST_ROUNDS = {"raw": 245, "pca": 249, "fld": 49}


def _full_sizes(members: dict[str, int], **per_reducer: dict[str, object]
                ) -> dict[str, dict[str, dict]]:
    """Per-reducer overrides of the full profile's ``n_estimators``, and of the settings named
    in ``per_reducer`` (``max_depth={"raw": 8}``) for the reducers they list."""
    return {reducer: {"full": {"n_estimators": count,
                               **{name: values[reducer] for name, values in per_reducer.items()
                                  if reducer in values}}}
            for reducer, count in members.items()}


def _listed(members: dict[str, int]) -> str:
    return ", ".join(f"{reducer} {count}" for reducer, count in members.items())


def _same_for_all(text: str) -> dict[str, str]:
    return {"smoke": SMOKE, "quick": text, "full": text}


def _same_settings(**settings) -> dict[str, dict]:
    return {name: dict(settings) for name in ("smoke", "quick", "full")}


CLASSIFIERS: dict[str, ClassifierSpec] = {
    "knn": ClassifierSpec(
        "k-nearest neighbours (k=5, distance-weighted, Euclidean)", _knn,
        settings={"smoke": {}, "quick": {}, "full": {}},
        selection=_same_for_all("k=5 distance-weighted, as raw-knn/pca-knn; "
                                "the benchmark table's best kNN is k=5 distance-weighted"),
    ),
    "svm": ClassifierSpec(
        "RBF support-vector machine", _svm,
        settings={"smoke": {"C": 10.0, "gamma": "scale"},
                  "quick": {"C": 10.0, "gamma": "scale"},
                  "full": {"C": 10.0, "gamma": "scale"}},
        selection={"smoke": SMOKE,
                   "quick": "C=10, RBF, gamma='scale': " + BENCHMARK_TABLE,
                   "full": "C=10, RBF, gamma='scale': " + BENCHMARK_TABLE
                           + " (raw SVC C=10 RBF: 89.7%)"},
        # on HOG + pixels (REDUCER_CHOSEN), 'scale' is 0.0194 whatever the sample size
        per_reducer={"hog": {"quick": {"gamma": HOG_SVM_GAMMA},
                             "full": {"gamma": HOG_SVM_GAMMA}}},
    ),
    "rf": ClassifierSpec(
        "random forest", _random_forest,
        settings={"smoke": {"n_estimators": 20},
                  "quick": {"n_estimators": 100},
                  "full": {"n_estimators": 300}},
        selection={"smoke": SMOKE,
                   "quick": "100 trees, full depth: " + BENCHMARK_TABLE,
                   "full": "full depth; trees: the fewest from which the validation accuracy "
                           f"stays within {SELECTION_TOLERANCE} points of a 300-tree forest's ("
                           + ENSEMBLE_SIZES + "): " + _listed(FOREST_TREES)},
        per_reducer=_full_sizes(FOREST_TREES),
    ),
    "adaboost": ClassifierSpec(
        "AdaBoost (SAMME) over depth-limited decision trees", _adaboost,
        settings={"smoke": {"n_estimators": 10, "max_depth": 2, "learning_rate": 0.5},
                  "quick": {"n_estimators": 50, "max_depth": 3, "learning_rate": 0.5},
                  "full": {"n_estimators": 200, "max_depth": 4, "learning_rate": 0.5}},
        selection={"smoke": SMOKE, "quick": QUICK_BUDGET,
                   "full": "learning rate 0.5 (a common boosting setting, not tuned here); "
                           "trees of depth 8 on raw pixels and PCA (chosen on validation among "
                           "4, 6 and 8: results/selection/adaboost_depth.jsonl), on FLD depth 4; "
                           + ADABOOST_FEATURES + "; rounds: early stopping at the validation "
                           "peak of a 250-round fit for raw and PCA, a 200-round fit for FLD ("
                           + ENSEMBLE_SIZES + "): " + _listed(ADABOOST_ROUNDS)},
        per_reducer=_full_sizes(ADABOOST_ROUNDS, max_features=ADABOOST_FEATURE_SHARE,
                                max_depth=ADABOOST_DEPTH),
    ),
    "tree": ClassifierSpec(
        "decision tree (entropy impurity)", _tree,
        settings={"smoke": {"criterion": "entropy", "max_depth": 10},
                  "quick": {"criterion": "entropy", "max_depth": 10},
                  "full": {"criterion": "entropy", "max_depth": 10}},
        selection=_same_for_all("entropy, max_depth=10: " + BENCHMARK_TABLE
                                + " (best DecisionTreeClassifier, 79.8%)"),
    ),
    "bayes1": ClassifierSpec(
        "Bayesian discriminant Case I (shared sigma^2 I)", _bayes(1),
        settings={"smoke": {}, "quick": {}, "full": {}},
        selection=_same_for_all("no hyper-parameters"),
    ),
    "bayes2": ClassifierSpec(
        "Bayesian discriminant Case II (shared covariance, linear)", _bayes(2),
        settings=_same_settings(reg=0.1),
        selection=_same_for_all("reg (LDA shrinkage towards the mean-variance identity) "
                                + REG_SELECTION + "; raw 0.1, pca 0.0, hog 0.1, fld 0.0"),
        per_reducer={"pca": _same_settings(reg=0.0), "fld": _same_settings(reg=0.0)},
    ),
    "bayes3": ClassifierSpec(
        "Bayesian discriminant Case III (per-class covariance, quadratic)", _bayes(3),
        settings=_same_settings(reg=0.01),
        selection=_same_for_all("reg (QDA reg_param, towards the identity) " + REG_SELECTION
                                + "; raw 0.01, pca 0.3, fld 0.1"),
        per_reducer={"pca": _same_settings(reg=0.3), "fld": _same_settings(reg=0.1)},
    ),
    "xgboost": ClassifierSpec(
        "gradient-boosted trees (XGBoost, hist)", _xgboost,
        # early stopping watches the runner's validation split (base.SklearnPipeline): the
        # rounds are chosen there, and a refit trains that many (benchmarks/run/refit.py)
        settings={"smoke": {"n_estimators": 10, "max_depth": 4, "learning_rate": 0.3,
                            "early_stopping_rounds": 3},
                  "quick": {"n_estimators": 50, "max_depth": 6, "learning_rate": 0.3,
                            "early_stopping_rounds": 10},
                  "full": {"n_estimators": 500, "max_depth": 6, "learning_rate": 0.1,
                           "subsample": 0.8, "colsample_bytree": 0.5,
                           "early_stopping_rounds": 20}},
        selection={"smoke": SMOKE,
                   "quick": QUICK_BUDGET + "; rounds: at most 50, early stopping (10 rounds "
                            "without a better validation log-loss) on the validation split",
                   "full": "fixed: depth 6, eta 0.1, row/column subsampling (usual hist "
                           "settings, aiming at the ~89.8% reported for XGBoost); rounds: at "
                           "most 500, early stopping (20 rounds without a better validation "
                           "log-loss) on the validation split; raw pixels: "
                           f"{XGBOOST_RAW_BINS} histogram bins, on validation 90.66% in 325 "
                           "rounds and 397 s against 256 bins' 90.61% in 310 rounds and 614 s "
                           "(64 bins 90.49%, eta 0.2 90.46%: " + XGBOOST_RATE + ")"},
        per_reducer={"raw": {"full": {"max_bin": XGBOOST_RAW_BINS}}},
    ),
    "mlp": ClassifierSpec(
        "back-propagation neural network (seed 004's BPNN, scikit-learn MLP)", _mlp,
        settings={"smoke": {"hidden_layer_sizes": (64,), "max_iter": 60},
                  "quick": {"hidden_layer_sizes": (128,), "max_iter": 30,
                            "early_stopping": True},
                  "full": {"hidden_layer_sizes": (256, 128), "max_iter": 200,
                           "early_stopping": True}},
        selection={"smoke": SMOKE, "quick": QUICK_BUDGET,
                   "full": "fixed: ReLU, Adam, early stopping on 10% of the training split; "
                           "the benchmark table's MLP (100 ReLU units) reaches 87.7%"},
    ),
    "kmeans": ClassifierSpec(
        "K-means, clusters labelled by their majority class", _kmeans,
        settings={"smoke": {"n_clusters": 10, "n_init": 1},
                  "quick": {"n_clusters": 10, "n_init": 3},
                  "full": {"n_clusters": 10, "n_init": 10}},
        selection=_same_for_all("k=10, one cluster per class, as seed 004"),
    ),
}

STANDARD_REDUCERS = ("raw", "pca", "fld")
STANDARD_CLASSIFIERS = ("knn", "svm", "rf", "adaboost", "tree", "bayes1", "bayes2", "bayes3")
EXTRA_PAIRS = (
    ("raw", "xgboost"), ("pca", "xgboost"), ("raw", "mlp"), ("pca", "mlp"),
    ("pca", "kmeans"), ("hog", "svm"), ("hog", "knn"), ("hog", "rf"), ("hog", "bayes2"),
)
REGISTERED_ELSEWHERE = {"raw-knn", "pca-knn"}  # neighbors.py


def zoo_pairs() -> list[tuple[str, str]]:
    pairs = [(r, c) for r in STANDARD_REDUCERS for c in STANDARD_CLASSIFIERS]
    pairs += list(EXTRA_PAIRS)
    return [(r, c) for r, c in pairs if f"{r}-{c}" not in REGISTERED_ELSEWHERE]


# Reducer settings chosen for one classifier and profile, by validation accuracy, over the
# reducer's defaults; each with the sentence that goes into the record.
# - pca-svm, full: the pca-components study (results/studies/pca-components/fashion-mnist/full)
#   swept 10, 20, 35, 50, 100, 200 components; validation accuracy rose to 90.48% at 200
#   (89.30% at 50).
# - hog-svm, quick and full: ``python -m benchmarks.perf.hog_features`` (10,000 training and 5,000
#   validation images of the standard split, SVC C=10, validation accuracy):
#   HOG alone 88.68%; HOG + pixels x 0.5 90.08%, x 0.35 90.12%, x 0.7 89.72%; with the square-
#   root gamma correction and gamma = 2x 'scale' 90.38%; 3x3-pixel cells, 3x3-cell blocks,
#   12 orientations, a second HOG of 7x7 cells or C of 5 / 20 did no better.
HOG_SVM_FEATURES = ({"transform_sqrt": True, "raw_weight": 0.5},
                    "HOG with the square-root gamma correction, followed by the pixels x 0.5, "
                    "and gamma=0.039 (2x 'scale' on these features) chosen on the validation "
                    "split (10,000 training images): 90.38% against 88.68% for HOG alone")
REDUCER_CHOSEN: dict[tuple[str, str, str], tuple[dict, str]] = {
    ("pca", "svm", "full"): ({"n_components": 200}, "n_components=200 chosen on the validation "
                                                    "split by the pca-components study"),
    ("hog", "svm", "quick"): HOG_SVM_FEATURES,
    ("hog", "svm", "full"): HOG_SVM_FEATURES,
}


def make_factory(reducer: str, classifier: str) -> Callable[..., SklearnPipeline]:
    spec = CLASSIFIERS[classifier]
    name = f"{reducer}-{classifier}"

    def factory(profile: Profile, seed: int = 0, **hyperparameters) -> SklearnPipeline:
        given = {key: value for key, value in hyperparameters.items()
                 if key in REDUCER_PARAMETERS[reducer]}
        chosen = REDUCER_CHOSEN.get((reducer, classifier, profile.name))
        # the caller's settings go on top of the chosen ones: overriding one HOG setting of
        # hog-svm keeps the others (and the SVM's gamma, tuned for them, stays meaningful)
        reducer_params = {**(chosen[0] if chosen else {}), **given}
        classifier_params = spec.settings_for(reducer, profile)
        classifier_params.update({key: value for key, value in hyperparameters.items()
                                  if key not in reducer_params})
        estimator = SkPipeline([
            ("scale", pixel_scaler()),
            *build_reducer(reducer, profile, seed, reducer_params),
            (classifier, spec.build(seed=seed, **classifier_params)),
        ])
        selection = spec.selection.get(profile.name, spec.selection["full"])
        if chosen:
            selection += "; " + chosen[1]
        if hyperparameters:
            selection += f"; overridden by the caller: {sorted(hyperparameters)}"
        return SklearnPipeline(name, estimator, reducer=reducer, selection=selection)

    factory.__name__ = name.replace("-", "_")
    factory.__qualname__ = factory.__name__
    factory.__doc__ = f"{spec.description} on {REDUCER_DESCRIPTIONS[reducer]}."
    return factory


for _reducer, _classifier in zoo_pairs():
    register_pipeline(
        f"{_reducer}-{_classifier}", family="classical", tags=(_reducer, _classifier),
    )(make_factory(_reducer, _classifier))
