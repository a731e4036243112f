"""XGBoost's learning rate against its cost: a pipeline's profile settings with other rates,
each early-stopped on the standard split's validation part (never the test set).

    python -m benchmarks.perf.xgboost_rate --pipeline raw-xgboost --profile full --rates 0.2
    python -m benchmarks.perf.xgboost_rate --rates 0.1 --set max_bin=64   # fewer histogram bins

A larger rate needs fewer rounds, so the fit is shorter; fewer histogram bins (``max_bin``)
make each round cheaper. Whether the validation accuracy and log-loss it stops at are as good
is what this measures. One JSON line per rate, for results/selection/.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from pipelines.hardware import thread_budget

from ..records.hardware import cpu_description
from ..run.environment import cpu_model
from .arguments import add_data_arguments, standard_parts
from .ensemble_size import setting


def measure(name: str, profile: str, rate: float, parts: dict, settings: dict | None = None
            ) -> dict:
    from pipelines.registry import create_pipeline

    settings = settings or {}
    pipeline = create_pipeline(name, profile, seed=0, **settings)
    pipeline.estimator[-1].set_params(learning_rate=rate)
    train, validation = parts["train"], parts["validation"]
    started = time.perf_counter()
    pipeline.fit(train.images, train.labels, validation=(validation.images, validation.labels))
    fit_seconds = time.perf_counter() - started
    accuracy = float(np.mean(pipeline.predict(validation.images) == validation.labels))
    return {"pipeline": name, "profile": profile, "learning_rate": rate, "settings": settings,
            "rounds_kept": pipeline.chosen_on_validation_["n_estimators"],
            "validation_accuracy": round(100 * accuracy, 2),
            "best_validation_mlogloss": round(float(pipeline.estimator_[-1].best_score), 4),
            "fit_seconds": round(fit_seconds, 1),
            # fit times compare on one machine only
            "hardware": cpu_description(cpu_model(), thread_budget())}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.perf.xgboost_rate",
                                     description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add_data_arguments(parser, profile="full")
    parser.add_argument("--pipeline", default="raw-xgboost")
    parser.add_argument("--rates", type=float, nargs="+", default=[0.1, 0.2])
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                        dest="settings", type=setting,
                        help="a setting over the profile's (e.g. max_bin=64); repeat for several")
    args = parser.parse_args(argv)
    parts = standard_parts(args)
    for rate in args.rates:
        print(json.dumps(measure(args.pipeline, args.profile, rate, parts, dict(args.settings))),
              flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
