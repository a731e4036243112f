"""How many trees or boosting rounds: a forest's or AdaBoost's validation accuracy after each
prefix of its ensemble, from one fit at the profile's setting (never the test set).

    python -m benchmarks.perf.ensemble_size --profile full --only '*-rf' --only '*-adaboost'
    python -m benchmarks.perf.ensemble_size --profile full --only raw-adaboost \
        --set n_estimators=400 --set max_features=sqrt     # a candidate setting, on validation

A random forest's prediction from its first k trees is the mean of their class probabilities
(what the forest of k trees would predict, as its trees are drawn independently); AdaBoost's
after k rounds is ``staged_predict``'s. So one fit gives the whole curve, and the size to
choose where fit time matters is printed with it: for boosting, early stopping at the
validation peak (the fewest rounds within ``--tolerance`` points of the best); for a forest,
the fewest trees from which the curve stays within ``--tolerance`` points of the whole
forest's accuracy. A fit's time grows with the
ensemble, so the time a prefix would have taken is estimated as the fit time x k / n. One JSON
line per pipeline, with the whole curve, for results/selection/.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from pipelines.classical.zoo import SELECTION_TOLERANCE

from .arguments import add_selection_arguments, selected_pipelines, standard_parts

CHECKPOINTS = (10, 25, 50, 75, 100, 150, 200, 250, 300, 400, 500)


def prefix_accuracies(final, rows: np.ndarray, labels: np.ndarray) -> list[float]:
    """Validation accuracy after each prefix of the fitted ensemble ``final`` (1 .. n)."""
    if hasattr(final, "staged_score"):  # AdaBoost: scikit-learn's own staged predictions
        return [float(score) for score in final.staged_score(rows, labels)]
    # a forest: the running sum of its trees' class probabilities, as predict_proba averages
    classes = np.asarray(final.classes_)
    total = np.zeros((len(rows), len(classes)))
    accuracies = []
    for tree in final.estimators_:
        total += tree.predict_proba(rows)
        accuracies.append(float(np.mean(classes[total.argmax(axis=1)] == labels)))
    return accuracies


def smallest_within(accuracies: list[float], tolerance_points: float) -> int:
    """Boosting's choice, early stopping at the validation peak: the fewest rounds from which
    every prefix up to the best one is within ``tolerance_points`` of the best. A curve that
    falls after its peak (AdaBoost overfitting) is cut at or before the peak."""
    best_at = int(np.argmax(accuracies))
    floor = max(accuracies) - tolerance_points / 100 - 1e-9
    chosen = best_at
    while chosen > 0 and accuracies[chosen - 1] >= floor:
        chosen -= 1
    return chosen + 1


def smallest_settled(accuracies: list[float], tolerance_points: float) -> int:
    """A forest's choice: the fewest trees from which every larger prefix stays within
    ``tolerance_points`` of the whole forest. More trees never hurt a forest in expectation,
    so the question is what a smaller one gives up; a noisy curve's early spike is not
    chosen."""
    floor = accuracies[-1] - tolerance_points / 100 - 1e-9
    chosen = len(accuracies) - 1
    while chosen > 0 and accuracies[chosen - 1] >= floor:
        chosen -= 1
    return chosen + 1


def measure(name: str, profile: str, parts: dict, settings: dict | None = None) -> dict:
    """Fit ``name`` once at the profile's setting, or with ``settings`` over it; its validation
    curve over the prefixes."""
    from pipelines.registry import create_pipeline

    settings = settings or {}
    pipeline = create_pipeline(name, profile, seed=0, **settings)
    train, validation = parts["train"], parts["validation"]
    started = time.perf_counter()
    pipeline.fit(train.images, train.labels)
    fit_seconds = time.perf_counter() - started
    fitted = pipeline.estimator_
    rows = validation.images.reshape(len(validation.images), -1)
    if hasattr(fitted, "steps"):  # the feature steps (scaling, PCA, HOG ...), then the ensemble
        rows, fitted = (fitted[:-1].transform(rows) if len(fitted.steps) > 1 else rows), fitted[-1]
    accuracies = prefix_accuracies(fitted, rows, validation.labels)
    return {"pipeline": name, "profile": profile, "settings": settings,
            "train_images": len(train.labels),
            "validation_images": len(validation.labels),
            "ensemble": "boosting" if hasattr(fitted, "staged_score") else "forest",
            "members": len(accuracies), "fit_seconds": round(fit_seconds, 1),
            "curve": [round(100 * accuracy, 2) for accuracy in accuracies]}


def choose(measured: dict, tolerance: float) -> dict:
    """The measured curve with the size chosen from it (see the two rules above)."""
    curve = [accuracy / 100 for accuracy in measured["curve"]]
    rule = smallest_within if measured["ensemble"] == "boosting" else smallest_settled
    chosen, size = rule(curve, tolerance), len(curve)
    return {**{key: value for key, value in measured.items() if key != "curve"},
            "best": {"members": int(np.argmax(curve)) + 1, "accuracy": max(measured["curve"])},
            "tolerance_points": tolerance, "rule": rule.__name__, "chosen": chosen,
            "validation_accuracy": {k: measured["curve"][k - 1]
                                    for k in sorted({*CHECKPOINTS, chosen, size}) if k <= size},
            "estimated_fit_seconds_at_that_size": round(measured["fit_seconds"] * chosen / size,
                                                        1),
            "curve": measured["curve"]}


def setting(text: str) -> tuple[str, object]:
    """``"n_estimators=400"`` -> ``("n_estimators", 400)``: the value read as JSON where it
    parses (numbers, null), else kept as text (``sqrt``)."""
    name, separator, value = text.partition("=")
    if not separator or not name:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    try:
        return name, json.loads(value)
    except json.JSONDecodeError:
        return name, value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.perf.ensemble_size",
                                     description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add_selection_arguments(parser)
    parser.add_argument("--tolerance", type=float, default=SELECTION_TOLERANCE,
                        help="validation accuracy points given up for a smaller ensemble "
                             f"(default {SELECTION_TOLERANCE}, pipelines.classical.zoo's)")
    parser.add_argument("--curves", type=Path,
                        help="choose again from the curves of an earlier run's output, "
                             "with this --tolerance, without fitting anything")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                        dest="settings", type=setting,
                        help="a setting over the profile's (e.g. n_estimators=400, "
                             "max_features=sqrt); repeat for several")
    args = parser.parse_args(argv)
    if args.curves:
        for line in args.curves.read_text().splitlines():
            print(json.dumps(choose(json.loads(line), args.tolerance)))
        return 0
    if not args.only:
        args.only = ["*-rf", "*-adaboost"]
    parts = standard_parts(args)
    for name in selected_pipelines(args):
        measured = measure(name, args.profile, parts, dict(args.settings))
        print(json.dumps(choose(measured, args.tolerance)), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
