"""Benchmark: libsvm's predict against BlasSVC's on the zoo's SVM pipelines.

    python -m benchmarks.perf.svm_predict --profile quick --threads 1 --only hog-svm --only raw-svm

Each SVM pipeline is fitted once on the profile's training images of the standard split;
then its test images go through the fitted steps before the SVM, and the same fitted SVM
predicts them twice: through ``sklearn.svm.SVC.predict`` (libsvm, one image at a time) and
through ``BlasSVC.predict`` (the same decision function with matrix products). Printed per
pipeline: support vectors, features, both predict times, and how many predictions differ.
``--threads`` holds the BLAS pool (what a parallel executor grants a job).
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np
from tabulate import tabulate

from pipelines.profiles import get_profile

from .arguments import add_data_arguments, standard_parts

SVM_PIPELINES = ("raw-svm", "pca-svm", "fld-svm", "hog-svm")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.perf.svm_predict",
                                     description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add_data_arguments(parser)
    parser.add_argument("--only", action="append", choices=SVM_PIPELINES, metavar="PIPELINE")
    parser.add_argument("--threads", type=int, default=None,
                        help="BLAS threads (default: what the machine gives)")
    args = parser.parse_args(argv)

    from sklearn.svm import SVC
    from threadpoolctl import threadpool_limits

    from pipelines import create_pipeline
    from pipelines.base import flatten_images

    profile = get_profile(args.profile)
    parts = standard_parts(args, profile)
    train, test = parts["train"], parts["test"]
    rows = []
    with threadpool_limits(limits=args.threads):
        for name in args.only or SVM_PIPELINES:
            pipeline = create_pipeline(name, profile, seed=0).fit(train.images, train.labels)
            fitted = pipeline.estimator_
            features = fitted[:-1].transform(flatten_images(test.images))
            model = fitted[-1]
            started = time.perf_counter()
            libsvm = SVC.predict(model, features)
            libsvm_seconds = time.perf_counter() - started
            started = time.perf_counter()
            blas = model.predict(features)
            blas_seconds = time.perf_counter() - started
            rows.append([name, len(model.support_vectors_), features.shape[1], len(features),
                         f"{libsvm_seconds:.2f}", f"{blas_seconds:.2f}",
                         f"{libsvm_seconds / blas_seconds:.1f}x",
                         int(np.sum(libsvm != blas))])
            print(tabulate(rows[-1:], tablefmt="plain"), flush=True)
    print(tabulate(rows, headers=["pipeline", "support vectors", "features", "images",
                                  "libsvm s", "BLAS s", "faster", "predictions differ"],
                   tablefmt="github"))
    print(f"{args.profile} profile, {len(train.images):,} training images, BLAS threads: "
          f"{args.threads or 'all'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
