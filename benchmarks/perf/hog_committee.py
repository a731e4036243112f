"""Which committee for hog-svm-committee: SVMs on HOG at several cell sizes, scored on the
validation split, never the test.

    python -m benchmarks.perf.hog_committee          # the members and committees behind it
    python -m benchmarks.perf.hog_committee --cells 9 7 4 --committees 9+7+4 --workers 2

Each member is hog-svm's features and SVM (square-root gamma correction, pixels x 0.5
appended, C = 10, gamma 2x scikit-learn's 'scale' on its own features) with ``cells`` cells
a side (on 28 x 28 images: 9 is 3 x 3-pixel cells, 7 hog-svm's 4 x 4, 5 and 4 are 5 x 5 and
7 x 7). Each is fitted once on a seeded sample of the standard split's training part; each
committee is scikit-learn's ``VotingClassifier`` (hard vote, ties to the lower class) over
the fitted members (``FrozenEstimator``), scored on the validation images. One JSON line per
member (its gamma, what ``pipelines/svm_committee.py`` holds as MEMBER_GAMMA) and per
committee, for results/selection/.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np


def fitted_member(cells: int, images: np.ndarray, labels: np.ndarray):
    from sklearn.pipeline import make_pipeline

    from pipelines.classical.reducers import HogFeatures
    from pipelines.classical.svm import BlasSVC
    from pipelines.classical.zoo import HOG_SVM_FEATURES

    started = time.perf_counter()
    features = HogFeatures(**HOG_SVM_FEATURES[0], cells_per_side=cells).fit(images)
    rows = features.transform(images)
    gamma = 2.0 / float(rows.shape[1] * rows.var())
    svc = BlasSVC(kernel="rbf", C=10.0, gamma=gamma, random_state=0).fit(rows, labels)
    return make_pipeline(features, svc), {
        "cells_per_side": cells, "features": int(rows.shape[1]), "gamma": round(gamma, 4),
        "support_vectors": int(len(svc.support_)), "fit_seconds": round(
            time.perf_counter() - started, 1)}


def main(argv: list[str] | None = None) -> int:
    from joblib import Parallel, delayed
    from sklearn.ensemble import VotingClassifier
    from sklearn.frozen import FrozenEstimator

    from .hog_features import seeded_sample

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cells", type=int, nargs="+", default=[7, 9, 4, 5],
                        help="cells a side of each member (default 7 9 4 5)")
    parser.add_argument("--committees", nargs="+",
                        default=["9+7+4", "9+7+5", "7+5+4", "9+5+4", "9+7+5+4"],
                        help="committees of members, as cells joined by + (default: every "
                             "three of the four, and all four)")
    parser.add_argument("--train", type=int, default=10_000)
    parser.add_argument("--validation", type=int, default=None,
                        help="validation images (default: all of the split's)")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--data-dir", default=None)
    args = parser.parse_args(argv)
    (images, labels), (watched, truth) = seeded_sample(args.data_dir, args.train,
                                                       args.validation)
    members = {}
    for fitted, line in Parallel(n_jobs=args.workers, return_as="generator")(
            delayed(fitted_member)(cells, images, labels) for cells in args.cells):
        members[line["cells_per_side"]] = fitted
        accuracy = float(np.mean(fitted.predict(watched) == truth))
        print(json.dumps({"member": line["cells_per_side"], **line,
                          "validation_accuracy": round(100 * accuracy, 2),
                          "training_images": len(labels), "validation_images": len(truth)}),
              flush=True)
    for committee in args.committees:
        cells = [int(part) for part in committee.split("+")]
        # frozen members: fit only learns the labels, the SVMs stay as fitted above
        vote = VotingClassifier([(f"cells{c}", FrozenEstimator(members[c])) for c in cells],
                                voting="hard").fit(images, labels)
        accuracy = float(np.mean(vote.predict(watched) == truth))
        print(json.dumps({"committee": committee, "validation_accuracy": round(100 * accuracy, 2),
                          "training_images": len(labels), "validation_images": len(truth)}),
              flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
