"""Benchmark: the parallel executors' speed-up over the serial one, measured in rounds.

    python -m benchmarks.perf.speedup --family classical --profile quick --rounds 2 --workers 2

Each round runs the same pipelines serially, then with ``--executor process`` and
``--executor dask`` on ``--workers`` workers, one after another, all into one scratch store
(the serial run's job times let the parallel runs start with the longest jobs, as they would
in a store that has seen them). A shared machine's speed drifts over minutes, so each parallel
wall time is divided by the serial one of its own round, and the median over rounds is the
figure. Also printed per run: the sum of its job times, and the floor no schedule can beat on
that many workers (the sum over the workers). A benchmark, never a test.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from tabulate import tabulate

from ..errors import FashionbenchError
from .arguments import add_selection_arguments, selected_pipelines

PARALLEL = ("process", "dask")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.perf.speedup", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add_selection_arguments(parser, family="classical")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--executors", nargs="+", choices=PARALLEL, default=list(PARALLEL))
    parser.add_argument("--target", type=float, default=0.6,
                        help="parallel wall time over serial wall time to reach (default 0.6)")
    args = parser.parse_args(argv)

    from ..run.runner import RunOptions, run

    names = selected_pipelines(args)
    rows, ratios = [], {executor: [] for executor in args.executors}
    try:
        with tempfile.TemporaryDirectory() as scratch:
            for round_number in range(1, args.rounds + 1):
                serial_wall = None
                for executor in ("serial", *args.executors):
                    workers = 1 if executor == "serial" else args.workers
                    options = RunOptions(pipelines=names, dataset=args.dataset,
                                         data_dir=args.data_dir, profile=args.profile,
                                         results_dir=Path(scratch), force=True,
                                         executor=executor, workers=workers)
                    started = time.perf_counter()
                    summary = run(options, report=lambda line: None)
                    wall = time.perf_counter() - started
                    jobs = summary.job_seconds
                    failed = len(summary.failed)
                    if executor == "serial":
                        serial_wall, ratio = wall, None
                    else:
                        ratio = wall / serial_wall
                        ratios[executor].append(ratio)
                    rows.append([round_number, executor, workers, f"{wall:.1f}", f"{jobs:.1f}",
                                 f"{jobs / workers:.1f}", "" if ratio is None else f"{ratio:.3f}",
                                 failed, time.strftime("%H:%M:%S")])
                    print(tabulate(rows[-1:], tablefmt="plain"), flush=True)
    except FashionbenchError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(tabulate(rows, headers=["round", "executor", "workers", "wall s", "sum of job s",
                                  "floor s", "÷ serial", "failed", "finished"],
                   tablefmt="github"))
    met = True
    for executor, values in ratios.items():
        median = statistics.median(values)
        met &= median <= args.target
        print(f"{executor}: median {median:.3f}x the serial wall time over {len(values)} "
              f"round(s) ({', '.join(f'{value:.3f}' for value in values)}); target "
              f"{args.target}x: {'met' if median <= args.target else 'not met'}")
    print(f"{len(names)} pipelines, {args.profile} profile, {args.workers} workers")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
