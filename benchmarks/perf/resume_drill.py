"""Benchmark (a drill): kill runs at random moments, resume, and check the store survived.

    python -m benchmarks.perf.resume_drill --kills 20

Each round starts ``run_all.py`` on the offline digits set (smoke profile, a few pipelines,
several seeds) and kills it with SIGKILL after a random delay; a final run resumes to the end.
Then the store is audited: every line must parse (a torn tail is set aside, never merged into
the next record), no job may be stored as ok twice, and every planned job must be ok.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from ..records.layout import ResultsLayout
from ..records.record import RecordError, load_record

PIPELINES = ["raw-knn", "pca-knn", "fld-bayes2", "raw-tree", "pca-svm"]
SEEDS = [str(seed) for seed in range(16)]  # 80 jobs: most kills land mid-run


def command(results_dir: Path) -> list[str]:
    return [sys.executable, "run_all.py", "--dataset", "digits", "--profile", "smoke",
            "--results-dir", str(results_dir), "--seeds", *SEEDS, "--quiet",
            *[argument for name in PIPELINES for argument in ("--only", name)]]


def audit(store: Path) -> dict:
    lines = store.read_bytes().split(b"\n")
    corrupt, keys = 0, Counter()
    for line in lines:
        if not line.strip():
            continue
        try:
            record = load_record(json.loads(line))
        except (json.JSONDecodeError, RecordError):
            corrupt += 1
            continue
        if record["status"] == "ok":
            keys[(record["name"], record["seed"])] += 1
    planned = {(name, int(seed)) for name in PIPELINES for seed in SEEDS}
    return {"corrupt_lines": corrupt,
            "duplicated_ok_jobs": sum(1 for count in keys.values() if count > 1),
            "missing_jobs": len(planned - set(keys)),
            "torn_tails_set_aside": (store.with_name(store.name + ".torn").read_bytes().count(b"\n")
                                     if store.with_name(store.name + ".torn").exists() else 0)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.perf.resume_drill")
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--max-delay", type=float, default=8.0,
                        help="longest wait before a kill, in seconds")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    root = Path(__file__).resolve().parent.parent
    with tempfile.TemporaryDirectory() as scratch:
        results = Path(scratch) / "results"
        store = ResultsLayout(results).store("digits", "smoke").runs
        killed_mid_run = 0
        for round_number in range(1, args.kills + 1):
            process = subprocess.Popen(command(results), cwd=root, stdout=subprocess.DEVNULL,
                                       stderr=subprocess.DEVNULL, start_new_session=True)
            delay = rng.uniform(0.5, args.max_delay)
            time.sleep(delay)
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                killed_mid_run += 1
            process.wait()
            state = audit(store) if store.exists() else {}
            print(f"round {round_number:2d}: killed after {delay:4.1f} s, store {state}")
        final = subprocess.run(command(results), cwd=root, capture_output=True, text=True)
        result = audit(store)
        print(f"{args.kills} kills ({killed_mid_run} mid-run), final resume exit code "
              f"{final.returncode}: {result}")
        ok = final.returncode == 0 and result["corrupt_lines"] == 0 \
            and result["duplicated_ok_jobs"] == 0 and result["missing_jobs"] == 0
        print("drill passed" if ok else "drill FAILED")
        return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
