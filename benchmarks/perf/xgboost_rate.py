"""XGBoost's learning rate against its cost: a pipeline's profile settings with other rates,
each early-stopped on the standard split's validation part (never the test set).

    python -m benchmarks.perf.xgboost_rate --pipeline raw-xgboost --profile full --rates 0.2

A larger rate needs fewer rounds, so the fit is shorter; whether the validation accuracy and
log-loss it stops at are as good is what this measures. One JSON line per rate, for
results/selection/.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from .arguments import add_data_arguments, standard_parts


def measure(name: str, profile: str, rate: float, parts: dict) -> dict:
    from pipelines.registry import create_pipeline

    pipeline = create_pipeline(name, profile, seed=0)
    pipeline.estimator[-1].set_params(learning_rate=rate)
    train, validation = parts["train"], parts["validation"]
    started = time.perf_counter()
    pipeline.fit(train.images, train.labels, validation=(validation.images, validation.labels))
    fit_seconds = time.perf_counter() - started
    accuracy = float(np.mean(pipeline.predict(validation.images) == validation.labels))
    return {"pipeline": name, "profile": profile, "learning_rate": rate,
            "rounds_kept": pipeline.chosen_on_validation_["n_estimators"],
            "validation_accuracy": round(100 * accuracy, 2),
            "best_validation_mlogloss": round(float(pipeline.estimator_[-1].best_score), 4),
            "fit_seconds": round(fit_seconds, 1)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.perf.xgboost_rate",
                                     description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add_data_arguments(parser, profile="full")
    parser.add_argument("--pipeline", default="raw-xgboost")
    parser.add_argument("--rates", type=float, nargs="+", default=[0.1, 0.2])
    args = parser.parse_args(argv)
    parts = standard_parts(args)
    for rate in args.rates:
        print(json.dumps(measure(args.pipeline, args.profile, rate, parts)), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
