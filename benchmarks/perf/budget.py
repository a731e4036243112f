"""Benchmark: does a set of pipelines finish within a wall-time budget on this machine?

    python -m benchmarks.perf.budget --only '*' --family classical --profile quick --budget 600

The parallel speed-up is the ratio of two such runs, e.g. ``--executor process --workers 2``
(or ``--executor dask --workers 2``) against the serial one. A parallel run also prints the
sum of its job times over the workers: no schedule can beat that floor, and the serial run's
jobs, which have all the cores to themselves, are shorter than the same jobs on one core.

Runs the jobs through the ordinary runner into a scratch results directory (or the one
given), then prints each job's wall time and the total against the budget. A benchmark, not
a test: the figure depends on the machine, so it is reported, never asserted in the suite.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from tabulate import tabulate

from pipelines.hardware import cpus_available

from ..errors import FashionbenchError
from .arguments import add_selection_arguments, selected_pipelines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.perf.budget", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add_selection_arguments(parser)
    parser.add_argument("--budget", type=float, default=600.0, help="seconds (default 600)")
    parser.add_argument("--executor", default="auto",
                        choices=("auto", "serial", "process", "dask"),
                        help="as run_all.py's (default auto, what `make run` uses)")
    parser.add_argument("--workers", type=int, default=None,
                        help="parallel jobs (default: the number of cores)")
    parser.add_argument("--results-dir", type=Path,
                        help="store the records here too (default: a scratch directory)")
    parser.add_argument("--history", type=Path, default=Path("results"),
                        help="results directory whose earlier job times order the jobs, "
                             "longest first, as run_all.py's own store does (default "
                             "results/, the committed stores)")
    parser.add_argument("--no-shared-features", dest="share_features", action="store_false",
                        help="every job computes its own feature steps (as run_all.py's)")
    args = parser.parse_args(argv)

    from ..run.runner import RunOptions, run

    names = selected_pipelines(args)
    try:
        with tempfile.TemporaryDirectory() as scratch:
            results_dir = args.results_dir or Path(scratch)
            options = RunOptions(pipelines=names, dataset=args.dataset, data_dir=args.data_dir,
                                 profile=args.profile, results_dir=results_dir, force=True,
                                 executor=args.executor, workers=args.workers,
                                 history_dir=args.history,
                                 share_features=args.share_features)
            started = time.perf_counter()
            summary = run(options, report=lambda line: print(line, flush=True))
            total = time.perf_counter() - started
    except FashionbenchError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    rows = [[record["name"], record["status"],
             f"{record['timing']['fit_seconds']:.1f}" if record["timing"] else "–",
             f"{shared_seconds(record, 'fit_seconds'):.1f}" if shared_seconds(record) else "",
             f"{record['timing']['job_seconds']:.1f}" if record["timing"] else "–"]
            for record in summary.ran]
    print(tabulate(rows, headers=["pipeline", "status", "fit s", "of which shared", "job s"],
                   tablefmt="github"))
    families: dict[str, list[float]] = {}
    for record in summary.ran:
        if record["timing"]:
            families.setdefault(record["family"], []).append(record["timing"]["job_seconds"])
    print(tabulate([[family, len(seconds), f"{sum(seconds):.1f}",
                     f"{sum(seconds) / max(summary.job_seconds, 1e-9):.0%}"]
                    for family, seconds in sorted(families.items())],
                   headers=["family", "jobs", "job s", "share"], tablefmt="github"))
    job_seconds = summary.job_seconds
    if summary.workers > 1:
        # the floor no schedule beats: the jobs' own time, spread evenly over the workers
        floor = job_seconds / summary.workers
        print(f"the jobs took {job_seconds:.1f} s in all; on {summary.workers} workers no "
              f"order finishes them before {floor:.1f} s; this run's workers were busy "
              f"{floor / total:.0%} of its wall time")
    else:
        print(f"the jobs took {job_seconds:.1f} s in all, one at a time")
    sharers = [record for record in summary.ran if shared_seconds(record)]
    if sharers:
        saved = sum(shared_seconds(record) for record in summary.ran)
        print(f"{len(sharers)} jobs loaded feature steps another job of the run had computed "
              f"(HOG, PCA, FLD): {saved:.1f} s of computation not repeated, counted in their "
              f"fit and predict times, not in their job times")
    verdict = "within" if total <= args.budget else "OVER"
    print(f"total wall time {total:.1f} s for {len(names)} pipelines ({args.profile} profile, "
          f"{cpus_available()} cores): {verdict} the {args.budget:.0f} s budget")
    return 0 if total <= args.budget else 1


def shared_seconds(record: dict, *parts: str) -> float:
    """The feature computation a job loaded instead of repeating (pipelines/sharing.py): in
    its fit and its predict, or in the ``parts`` named."""
    shared = (record.get("timing") or {}).get("shared_features") or {}
    return sum(shared.get(part, 0.0) for part in parts or ("fit_seconds", "predict_seconds"))


if __name__ == "__main__":
    sys.exit(main())
