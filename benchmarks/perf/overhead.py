"""Benchmark: what does the runner cost on top of a bare scikit-learn fit and predict?

    python -m benchmarks.perf.overhead --pipeline pca-svm --train 10000 --repeats 3

The same pipeline (same data, same seed) is fitted and asked to predict the test images
bare, and then through ``runner.run_job``; the two alternate ``--repeats`` times and the
medians are compared. Two ratios are printed: the runner's own timed fit + predict against
the bare one (instrumentation overhead), and the whole job (which also predicts the
validation images, probabilities, single-image latency and scores them) against a bare fit
plus the same predictions of test and validation images.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from dataclasses import replace

from pipelines.profiles import get_profile

from ..data.datasets import load_dataset
from ..data.splits import make_split
from ..run.context import Job, RunContext
from ..run.job import run_job
from .arguments import add_data_arguments


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.perf.overhead")
    parser.add_argument("--pipeline", default="pca-svm")
    add_data_arguments(parser, profile=None)
    parser.add_argument("--train", type=int, default=10_000, help="training images")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)

    from pipelines import create_pipeline

    dataset = load_dataset(args.dataset, args.data_dir)
    profile = replace(get_profile("quick"), train_size=args.train)
    context = RunContext(dataset, make_split("standard", dataset), profile)
    parts = context.partitions(0)
    train, validation, test = parts["train"], parts["validation"], parts["test"]
    bare_core, bare_full, runner_core, runner_job = [], [], [], []
    for repeat in range(args.repeats):
        pipeline = create_pipeline(args.pipeline, profile, seed=0)
        started = time.perf_counter()
        pipeline.fit(train.images, train.labels, validation=(validation.images,
                                                               validation.labels))
        pipeline.predict(test.images)
        bare_core.append(time.perf_counter() - started)
        pipeline.predict(validation.images)
        bare_full.append(time.perf_counter() - started)
        started = time.perf_counter()
        record = run_job(Job(args.pipeline, args.dataset, "standard", "quick", 0), context)
        runner_job.append(time.perf_counter() - started)
        runner_core.append(record["timing"]["fit_seconds"] + record["timing"]["predict_seconds"])
        print(f"repeat {repeat + 1}: bare fit+predict {bare_core[-1]:.2f} s, through the "
              f"runner {runner_core[-1]:.2f} s; bare with validation {bare_full[-1]:.2f} s, "
              f"whole job {runner_job[-1]:.2f} s", flush=True)
    core = statistics.median(runner_core) / statistics.median(bare_core) - 1
    whole = statistics.median(runner_job) / statistics.median(bare_full) - 1
    print(f"{args.pipeline}, {args.train:,} training images: runner-timed fit+predict is "
          f"{core:+.1%} against bare (target at most +3%); the whole job, with scoring, "
          f"probabilities and latency, is {whole:+.1%} against bare fit + both predictions")
    return 0 if core <= 0.03 else 1


if __name__ == "__main__":
    sys.exit(main())
