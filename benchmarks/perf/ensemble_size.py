"""How many trees or boosting rounds: a forest's or AdaBoost's validation accuracy after each
prefix of its ensemble, from one fit at the profile's setting (never the test set).

    python -m benchmarks.perf.ensemble_size --profile full --only '*-rf' --only '*-adaboost'

A random forest's prediction from its first k trees is the mean of their class probabilities
(what the forest of k trees would predict, as its trees are drawn independently); AdaBoost's
after k rounds is ``staged_predict``'s. So one fit gives the whole curve, and the smallest
ensemble from which the curve stays within ``--tolerance`` points of its best, up to the best
prefix, is printed: the size to choose where fit time matters. A fit's time grows with the
ensemble, so the time a prefix would have taken is estimated as the fit time x k / n. One JSON
line per pipeline, with the whole curve, for results/selection/.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from .arguments import add_selection_arguments, selected_pipelines

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
    """The fewest members from which every prefix up to the best one is within
    ``tolerance_points`` of the best: a lucky early spike of a noisy curve is not chosen, and a
    curve that falls after its peak (AdaBoost overfitting) is cut at or before the peak."""
    best_at = int(np.argmax(accuracies))
    floor = max(accuracies) - tolerance_points / 100 - 1e-9
    chosen = best_at
    while chosen > 0 and accuracies[chosen - 1] >= floor:
        chosen -= 1
    return chosen + 1


def evaluate(name: str, profile: str, parts: dict, tolerance: float) -> dict:
    from pipelines.registry import create_pipeline

    pipeline = create_pipeline(name, profile, seed=0)
    train, validation = parts["train"], parts["validation"]
    started = time.perf_counter()
    pipeline.fit(train.images, train.labels)
    fit_seconds = time.perf_counter() - started
    fitted = pipeline.estimator_
    rows = validation.images.reshape(len(validation.images), -1)
    if hasattr(fitted, "steps"):  # the feature steps (scaling, PCA, HOG ...), then the ensemble
        rows, fitted = (fitted[:-1].transform(rows) if len(fitted.steps) > 1 else rows), fitted[-1]
    accuracies = prefix_accuracies(fitted, rows, validation.labels)
    size = len(accuracies)
    chosen = smallest_within(accuracies, tolerance)
    return {"pipeline": name, "profile": profile, "train_images": len(train.labels),
            "validation_images": len(validation.labels), "members": size,
            "fit_seconds": round(fit_seconds, 1),
            "validation_accuracy": {k: round(100 * accuracies[k - 1], 2)
                                    for k in sorted({*CHECKPOINTS, chosen, size}) if k <= size},
            "best": {"members": int(np.argmax(accuracies)) + 1,
                     "accuracy": round(100 * max(accuracies), 2)},
            "tolerance_points": tolerance, "chosen": chosen,
            "estimated_fit_seconds_at_that_size": round(fit_seconds * chosen / size, 1),
            "curve": [round(100 * accuracy, 2) for accuracy in accuracies]}


def main(argv: list[str] | None = None) -> int:
    from pipelines.profiles import get_profile

    from ..datasets import load_dataset
    from ..job import RunContext
    from ..splits import make_split

    parser = argparse.ArgumentParser(prog="python -m benchmarks.perf.ensemble_size",
                                     description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add_selection_arguments(parser)
    parser.add_argument("--tolerance", type=float, default=0.1,
                        help="validation accuracy points given up for a smaller ensemble "
                             "(default 0.1)")
    args = parser.parse_args(argv)
    if not args.only:
        args.only = ["*-rf", "*-adaboost"]
    dataset = load_dataset(args.dataset, args.data_dir)
    context = RunContext(dataset, make_split("standard", dataset), get_profile(args.profile))
    parts = context.partitions(0)
    for name in selected_pipelines(args):
        print(json.dumps(evaluate(name, args.profile, parts, args.tolerance)), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
