"""Bring results run elsewhere (the GPU machine, a cluster node, a colleague) into a store.

    python -m benchmarks.merge OTHER_RESULTS_DIR [--results-dir results] [--report]

Every ``runs.jsonl`` under the source (``<dataset>/<profile>/`` and
``studies/<study>/<dataset>/<profile>/``) is appended, record by record, to the store at the
same relative place under ``--results-dir``, through the store's own locked, fsynced append.
A record already there (same ``run_id``) is skipped, so merging twice changes nothing (and two
merges at once take turns per target store, under its lock, so neither appends what the other
just did); a line
that is not a complete record is reported with its file and line number and left out. The
records are not altered: each keeps the environment and hardware it ran on, which the
leaderboard shows. ``--report`` regenerates the leaderboards afterwards.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

from .errors import FashionbenchError, write_error
from .records.layout import STORE_NAME, ResultsLayout
from .records.record import RecordError, load_record
from .records.store import ResultsStore
from .reports.publish import publish


@dataclass
class MergeSummary:
    added: int = 0
    already_there: int = 0
    rejected: list[str] = field(default_factory=list)
    stores: list[Path] = field(default_factory=list)


def source_stores(source: Path) -> list[Path]:
    if source.is_file():
        return [source]
    if not source.is_dir():
        raise FashionbenchError(f"no results to merge at {source}: give a results directory "
                                f"or a {STORE_NAME} file")
    layout = ResultsLayout(source)
    found = [location.runs for location in layout.stores() + layout.study_stores()]
    if not found:
        raise FashionbenchError(f"no {STORE_NAME} under {source} (expected "
                                f"<dataset>/<profile>/{STORE_NAME})")
    return found


def merge(source: Path, results_dir: Path) -> MergeSummary:
    summary = MergeSummary()
    incoming = read_source(Path(source), ResultsLayout(results_dir), summary)
    for target, records in incoming.values():
        # the run_ids read and the appends made under one hold of the store's lock: a
        # second merge (or a run) appends before or after, never in between
        with target.holding():
            known = {stored.get("run_id") for stored in target.records()}
            for raw, run_id in records:
                if run_id in known:
                    summary.already_there += 1
                    continue
                target.append(raw)  # as it was written: merging never alters a record
                known.add(run_id)
                summary.added += 1
                if target.path not in summary.stores:
                    summary.stores.append(target.path)
    return summary


def read_source(source: Path, target_layout: ResultsLayout,
                summary: MergeSummary) -> dict[Path, tuple[ResultsStore, list[tuple]]]:
    """The source's complete records (each as written, with its run_id), by the target
    store each goes to (its path), in the source's order; a line that is not a record goes
    to ``summary.rejected``."""
    incoming: dict[Path, tuple[ResultsStore, list[tuple]]] = {}
    for path in source_stores(source):
        # a study's records go to the same study at the target; a lone runs.jsonl, to the
        # main store of its records' dataset and profile
        study = ResultsLayout(source).locate(path).study if source.is_dir() else None
        lines = path.read_bytes().split(b"\n")
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                raw = json.loads(line)
                record = load_record(raw)
            except (json.JSONDecodeError, UnicodeDecodeError):
                summary.rejected.append(f"{path}:{number}: not JSON (a torn write?)")
                continue
            except RecordError as problem:
                summary.rejected.append(f"{path}:{number}: {problem}")
                continue
            target = ResultsStore.of(target_layout.store(record["dataset"], record["profile"],
                                                         study))
            incoming.setdefault(target.path, (target, []))[1].append((raw, record["run_id"]))
    return incoming


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.merge",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("source", type=Path, help="a results directory or a runs.jsonl")
    parser.add_argument("--results-dir", type=Path, default=Path("results"))
    parser.add_argument("--report", action="store_true",
                        help="regenerate the leaderboards afterwards")
    args = parser.parse_args(argv)
    try:
        summary = merge(args.source, args.results_dir)
        for problem in summary.rejected:
            print(f"warning: left out {problem}", file=sys.stderr)
        print(f"merged {summary.added} records ({summary.already_there} already there, "
              f"{len(summary.rejected)} left out) into "
              + (", ".join(map(str, summary.stores)) or str(args.results_dir)))
        if args.report:
            publish(args.results_dir)
    except (FashionbenchError, OSError) as error:  # an OSError no writer named: its file
        error = write_error(None, error) if isinstance(error, OSError) else error
        print(f"error: {error}", file=sys.stderr)
        return error.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(main())
