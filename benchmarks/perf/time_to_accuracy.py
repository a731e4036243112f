"""Benchmark: how long does a deep pipeline train to reach an accuracy, over several seeds?

    python -m benchmarks.perf.time_to_accuracy --pipeline resnet20@modern --profile full \\
        --seeds 0 1 2 3 4 --target 0.934

As MLPerf's training benchmarks do, the pipeline is rerun with each seed and the median is
reported with the spread (the fastest and slowest seed), never the best run alone. Each
seed is an ordinary job of the runner (stored, resumable by epoch; ``--results-dir`` keeps
the records, by default a scratch directory). Per seed: the training seconds until the
validation accuracy first reached the target (from the record's epoch history, without the
validation passes), the whole fit, and the test accuracy of the final model. The recipe's
epoch budget is fixed in advance; the test split never stops or selects anything.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

from tabulate import tabulate

from ..errors import FashionbenchError
from ..records.store import ResultsStore
from ..reports.tables import seconds_to_reach
from .arguments import add_data_arguments


def summarise_seeds(records: list[dict], target: float) -> dict:
    """Median and range of time to target, fit time and final test accuracy over seeds."""
    reached = [seconds_to_reach(record["history"] or [], target) for record in records]
    times = [seconds for seconds in reached if seconds is not None]
    fits = [record["timing"]["fit_seconds"] for record in records]
    tests = [record["metrics"]["test"]["accuracy"] for record in records]
    return {
        "seeds": len(records), "reached": len(times),
        "median_seconds_to_target": statistics.median(times) if times else None,
        "seconds_to_target_range": (min(times), max(times)) if times else None,
        "median_fit_seconds": statistics.median(fits),
        "median_test_accuracy": statistics.median(tests),
        "test_accuracy_range": (min(tests), max(tests)),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.perf.time_to_accuracy",
                                     description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pipeline", required=True, help="a deep pipeline, e.g. mcnn@modern")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--target", type=float, default=0.934,
                        help="validation accuracy to reach, a fraction (default 0.934)")
    add_data_arguments(parser)
    parser.add_argument("--results-dir", type=Path,
                        help="keep the records here (default: a scratch directory)")
    args = parser.parse_args(argv)
    if any(seed < 0 for seed in args.seeds) or not 0 < args.target <= 1:
        print("error: seeds must be >= 0 and --target a fraction in (0, 1]", file=sys.stderr)
        return 2

    from ..api import select_pipelines
    from ..run.runner import RunOptions, run

    try:
        [name] = select_pipelines([args.pipeline], [])
        with tempfile.TemporaryDirectory() as scratch:
            options = RunOptions(pipelines=[name], dataset=args.dataset, data_dir=args.data_dir,
                                 profile=args.profile, seeds=args.seeds,
                                 results_dir=args.results_dir or Path(scratch))
            run(options, report=lambda line: print(line, flush=True))
            store = ResultsStore(options.results_dir, args.dataset, args.profile)
            records = sorted((record for record in store.latest().values()
                              if record["name"] == name and record["seed"] in args.seeds
                              and record["status"] == "ok"), key=lambda record: record["seed"])
    except FashionbenchError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except ValueError:
        print(f"error: {args.pipeline!r} names more than one pipeline", file=sys.stderr)
        return 2
    if not records:
        print("error: no seed finished", file=sys.stderr)
        return 1
    rows = [[record["seed"], _seconds(seconds_to_reach(record["history"] or [], args.target)),
             _seconds(record["timing"]["fit_seconds"]), len(record["history"] or []),
             f"{record['metrics']['test']['accuracy']:.2%}"] for record in records]
    print(tabulate(rows, headers=["seed", f"s to {args.target:.1%} val", "fit s", "epochs",
                                  "final test acc"], tablefmt="github", disable_numparse=True))
    summary = summarise_seeds(records, args.target)
    hardware = records[0]["env"].get("hardware")
    if summary["reached"]:
        low, high = summary["seconds_to_target_range"]
        print(f"{name}, {args.profile} profile, {hardware}: {summary['reached']} of "
              f"{summary['seeds']} seeds reached {args.target:.1%} validation accuracy; median "
              f"{summary['median_seconds_to_target']:.1f} s of training (range {low:.1f}-"
              f"{high:.1f} s)")
    else:
        print(f"{name}, {args.profile} profile: no seed reached {args.target:.1%} validation "
              f"accuracy")
    low, high = summary["test_accuracy_range"]
    print(f"final test accuracy: median {summary['median_test_accuracy']:.2%} (range "
          f"{low:.2%}-{high:.2%}); median fit {summary['median_fit_seconds']:.1f} s")
    return 0


def _seconds(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}"


if __name__ == "__main__":
    sys.exit(main())
