"""libsvm's kernel cache against an SVM pipeline's fit time: the same model, fitted with
several ``cache_size`` values (MB of kernel rows libsvm keeps between solver steps).

    python -m benchmarks.perf.svm_cache --pipeline hog-svm --profile full --cache-sizes 200 2000

The cache changes only how often a kernel row is recomputed, never the solution: each fit's
support vectors and validation predictions are checked equal to the first one's. What it
costs is memory, which the line reports as the fit's peak. One JSON line per size, for
results/selection/.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from .arguments import add_data_arguments, standard_parts


def measure(name: str, profile: str, cache_mb: float, train, validation) -> dict:
    from pipelines.registry import create_pipeline

    from ..run.timing import peak_memory_mb, reset_peak_memory

    pipeline = create_pipeline(name, profile, seed=0)
    pipeline.estimator[-1].set_params(cache_size=cache_mb)
    reset_peak_memory()
    started = time.perf_counter()
    pipeline.fit(train.images, train.labels)
    fit_seconds = time.perf_counter() - started
    peak_mb = peak_memory_mb()
    svm = pipeline.estimator_[-1]
    return {"pipeline": name, "profile": profile, "train_images": len(train.labels),
            "cache_mb": cache_mb, "fit_seconds": round(fit_seconds, 1),
            "peak_mb": round(peak_mb), "support_vectors": int(svm.support_.size),
            "support": svm.support_, "predictions": pipeline.predict(validation.images)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.perf.svm_cache",
                                     description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add_data_arguments(parser, profile="full")
    parser.add_argument("--pipeline", default="hog-svm")
    parser.add_argument("--cache-sizes", type=float, nargs="+", default=[200, 2000],
                        metavar="MB", help="scikit-learn's default is 200")
    parser.add_argument("--train-images", type=int, default=None,
                        help="fit on N of the profile's training images, stratified "
                             "(default: all)")
    args = parser.parse_args(argv)
    parts = standard_parts(args, train_size=args.train_images)  # stratified, as a cap is
    train, validation = parts["train"], parts["validation"]
    first = None
    for cache_mb in args.cache_sizes:
        line = measure(args.pipeline, args.profile, cache_mb, train, validation)
        support, predictions = line.pop("support"), line.pop("predictions")
        if first is None:
            first = support, predictions
        line["same_model"] = bool(np.array_equal(support, first[0])
                                  and np.array_equal(predictions, first[1]))
        print(json.dumps(line), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
