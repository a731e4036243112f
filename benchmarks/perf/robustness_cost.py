"""Benchmark: what the robustness suite adds to each job, against the issue's bound.

    python -m benchmarks.perf.robustness_cost --profile full --only 'raw-*,pca-*,fld-*,hog-*'

Read from the store, not timed here: every record times its own robustness pass
(``timing.robustness_seconds``: corrupting nothing, the suite is made once per worker, and one
predict call over the 14 corrupted copies of 2,000 test images and the clean 2,000) and its
clean predict of the whole test set (``timing.predict_seconds``). The bound is a quarter of
that clean predict time per corruption: ``robustness_seconds <= 0.25 * 14 * predict_seconds``.
Printed per latest ok record: both times, their ratio to the bound's base, and the total; the
records name the CPU and the threads they ran with.
"""

from __future__ import annotations

import argparse
import fnmatch
import sys
from pathlib import Path

from tabulate import tabulate

from ..data.corruptions import CORRUPTIONS
from ..records.layout import PROJECT_ROOT
from ..records.store import ResultsStore
from .arguments import add_data_arguments

BOUND = 0.25  # the issue's: at most a quarter of a clean predict per corruption


def cost_rows(records: list[dict]) -> list[list]:
    """[name, robustness s, 14 x clean predict s, ratio, CPU] of each scored record."""
    rows = []
    for record in records:
        timing = record.get("timing") or {}
        spent, clean = timing.get("robustness_seconds"), timing.get("predict_seconds")
        if spent is None or not clean:
            continue
        base = clean * len(CORRUPTIONS)
        rows.append([record["name"], spent, base, spent / base,
                     (record.get("env") or {}).get("cpu", "")])
    return sorted(rows, key=lambda row: -row[3])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.perf.robustness_cost",
                                     description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add_data_arguments(parser)
    parser.add_argument("--results-dir", type=Path, default=PROJECT_ROOT / "results")
    parser.add_argument("--only", default="*", help="comma-joined name patterns")
    args = parser.parse_args(argv)
    patterns = args.only.split(",")
    store = ResultsStore(args.results_dir, args.dataset, args.profile)
    records = [record for record in store.latest().values() if record["status"] == "ok"
               and any(fnmatch.fnmatchcase(record["name"], pattern) for pattern in patterns)]
    rows = cost_rows(records)
    if not rows:
        print(f"no record in {store.path} times a robustness pass", file=sys.stderr)
        return 1
    print(tabulate([[name, f"{spent:.1f}", f"{base:.1f}", f"{ratio:.3f}", cpu]
                    for name, spent, base, ratio, cpu in rows],
                   headers=["pipeline", "robustness s", f"{len(CORRUPTIONS)} x predict s",
                            "ratio", "CPU"], tablefmt="github"))
    spent, base = sum(row[1] for row in rows), sum(row[2] for row in rows)
    over = [row[0] for row in rows if row[3] > BOUND]
    print(f"\n{len(rows)} rows: {spent:.1f} s of robustness for {base:.1f} s of "
          f"{len(CORRUPTIONS)} clean predicts, ratio {spent / base:.3f} (bound {BOUND}); "
          f"{len(rows) - len(over)} within it" + (f", over: {', '.join(over)}" if over else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
