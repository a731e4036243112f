"""Which HOG features for hog-svm: variants scored on the validation split, never the test.

    python -m benchmarks.perf.hog_features                       # the variants behind the choice
    python -m benchmarks.perf.hog_features --variants "sqrt,raw=0.5,g=2" "raw=0.35" --workers 2

A variant is comma-separated settings: ``sqrt`` (HOG's square-root gamma correction),
``raw=W`` (append the pixels x W), ``cell=P`` (P x P-pixel cells), ``block=B``,
``orientations=N``, ``C=...`` (the SVM's), ``g=F`` (gamma = F x scikit-learn's 'scale'),
``vsv=T+T...`` (refit on the support vectors and their copies moved by each transformation T
of ``pipelines.classical.virtual_svs``: mirror, left, right, up, down; ``vsv=all`` for all five),
``aug=T+T...`` (the whole training sample and its moved copies, for comparison),
``power=P`` (each HOG value to the power P, before the pixels are appended: P = 0.5 is the
Hellinger / "root" normalisation of histogram features), ``tta=T+T...`` (test-time
augmentation: the SVM's decision values averaged over each validation image and its copies
moved by each T, the class the highest average; ``tta=none`` is the same rule on the image
alone, the baseline to compare with: it breaks the one-vs-one vote's ties by the decision
values, where ``predict`` gives them to the lower class).
Each is fitted on a seeded sample of the standard split's training part and scored on a
sample of its validation part; one JSON line per variant. The chosen settings are written
into ``pipelines/classical/zoo.py`` (REDUCER_CHOSEN) with the figures that justified them.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

CHOICE_VARIANTS = ("", "raw=0.35", "raw=0.5", "raw=0.7", "sqrt,raw=0.5", "sqrt,raw=0.5,C=5",
                   "sqrt,raw=0.5,C=20", "sqrt,raw=0.5,g=0.5", "sqrt,raw=0.5,g=2",
                   "sqrt,raw=0.5,g=3", "cell=3,raw=0.5", "block=3,raw=0.5")


def parse_variant(text: str) -> dict:
    settings = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        key, _, value = item.partition("=")
        settings[key] = value or "1"
    return settings


def transformations(text: str) -> tuple[str, ...]:
    from pipelines.classical.virtual_svs import TRANSFORMS

    return TRANSFORMS if text == "all" else tuple(text.split("+"))


def raised(X: np.ndarray, exponent: float, weight: float = 1.0) -> np.ndarray:
    """weight x X ** exponent, in float32 (HOG values are non-negative)."""
    return (np.float32(weight) * np.power(X, np.float32(exponent))).astype(np.float32)


def evaluate(text: str, train: tuple, validation: tuple) -> dict:
    from sklearn.pipeline import make_pipeline, make_union
    from sklearn.preprocessing import FunctionTransformer

    from pipelines.classical.reducers import HogFeatures, shape_of_rows
    from pipelines.classical.svm import BlasSVC
    from pipelines.classical.virtual_svs import VirtualSupportVectorSVC, moved_rows

    settings = parse_variant(text)
    started = time.perf_counter()
    hog = HogFeatures(orientations=int(settings.get("orientations", 9)),
                      pixels_per_cell=int(settings["cell"]) if "cell" in settings else None,
                      cells_per_block=int(settings.get("block", 2)),
                      transform_sqrt="sqrt" in settings,
                      raw_weight=float(settings.get("raw", 0.0)))
    features = hog if "power" not in settings else make_pipeline(
        hog.set_params(raw_weight=0.0),
        FunctionTransformer(raised, kw_args={"exponent": float(settings["power"])}))
    if "power" in settings and "raw" in settings:
        features = make_union(features, FunctionTransformer(
            raised, kw_args={"exponent": 1.0, "weight": float(settings["raw"])}))
    images, labels = train
    if "aug" in settings:
        moved = moved_rows(images, shape_of_rows(images.shape[1], None, "aug"),
                           transformations(settings["aug"]))
        images = np.concatenate([images, *moved])
        labels = np.tile(labels, 1 + len(moved))
    X_train = features.fit(images).transform(images)
    gamma = float(settings.get("g", 1.0)) / float(X_train.shape[1] * X_train.var())
    C = float(settings.get("C", 10.0))
    if "vsv" in settings:
        model = VirtualSupportVectorSVC(features=features, C=C, gamma=gamma,
                                        transforms=transformations(settings["vsv"]))
        model.fit(images, labels)
        svc, features = model.svc_, model.features_
        extra = {"first_support_vectors": model.n_first_support_,
                 "second_fit_images": model.n_virtual_training_}
    else:
        svc = BlasSVC(C=C, kernel="rbf", gamma=gamma).fit(X_train, labels)
        extra = {"support_vectors": int(len(svc.support_)), "training_images": len(images)}
    if "tta" in settings:
        moves = () if settings["tta"] == "none" else transformations(settings["tta"])
        views = [validation[0]] + moved_rows(
            validation[0], shape_of_rows(validation[0].shape[1], None, "tta"), moves)
        decisions = np.mean([svc.decision_function(features.transform(view))
                             for view in views], axis=0)
        predicted = svc.classes_[np.argmax(decisions, axis=1)]
    else:
        predicted = svc.predict(features.transform(validation[0]))
    accuracy = float(np.mean(predicted == validation[1]))
    return {"variant": text or "hog", "features": int(X_train.shape[1]),
            "gamma": round(gamma, 5), "validation_accuracy": round(100 * accuracy, 2),
            **extra, "seconds": round(time.perf_counter() - started, 1)}


def seeded_sample(data_dir, train_size: int, validation_size: int | None) -> list[tuple]:
    """Scaled pixel rows and labels of ``train_size`` training and ``validation_size``
    validation images of the standard split (None: all of its validation images), drawn with
    seed 0: the sample every selection script of hog-svm's family scores on."""
    from pipelines.classical.reducers import scale_pixels

    from ..data.datasets import load_dataset
    from ..data.splits import make_split

    dataset = load_dataset("fashion-mnist", data_dir)
    split = make_split("standard", dataset)
    rng = np.random.default_rng(0)
    train = rng.choice(split.train, train_size, replace=False)
    validation = (split.validation if validation_size is None
                  else rng.choice(split.validation, validation_size, replace=False))
    return [(scale_pixels(dataset.images[indices].reshape(len(indices), -1)),
             dataset.labels[indices])
            for indices in (train, validation)]


def main(argv: list[str] | None = None) -> int:
    from joblib import Parallel, delayed

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--variants", nargs="+", default=list(CHOICE_VARIANTS))
    parser.add_argument("--train", type=int, default=10_000)
    parser.add_argument("--validation", type=int, default=5_000)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--data-dir", default=None)
    args = parser.parse_args(argv)
    parts = seeded_sample(args.data_dir, args.train, args.validation)
    for result in Parallel(n_jobs=args.workers, return_as="generator")(
            delayed(evaluate)(variant, *parts) for variant in args.variants):
        print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
