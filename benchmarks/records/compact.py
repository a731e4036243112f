"""``python -m benchmarks.records.compact [RESULTS_DIR]``: store older records' true labels as
their difference from the predictions (records/labels.py), in every store under the folder.

A store written before that form keeps its true labels whole: about 6.7 KB a record that a
difference cuts to about 2.5, and the committed stores must travel to the GPU machine with
the data (64 MiB in all). Only the ``test_true`` text of a line changes, and only where the
labels it decodes to are the same afterwards; every other byte of the store is kept.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from .labels import DIFFERENCE, encode_predictions, stored_labels
from .layout import ResultsLayout
from .store import ResultsStore


def compact_line(line: bytes) -> bytes:
    """``line`` with its true labels stored as a difference, or ``line`` itself where they
    are already, where it holds none, or where it is not a record this could rewrite."""
    try:
        predictions = json.loads(line).get("predictions")
        truth = predictions["test_true"]
        labels = stored_labels(predictions)
    except (ValueError, AttributeError, KeyError, TypeError):  # not for this to judge
        return line
    if truth.startswith(DIFFERENCE) or labels is None:
        return line
    old = b'"test_true": ' + json.dumps(truth).encode()  # as record_line writes it
    if line.count(old) != 1:
        return line
    difference = encode_predictions(labels[1], labels[0])["test_true"]
    rewritten = line.replace(old, b'"test_true": ' + json.dumps(difference).encode())
    again = stored_labels(json.loads(rewritten)["predictions"])
    if any((before != after).any() for before, after in zip(labels, again, strict=True)):
        raise AssertionError("a rewritten record would read other labels")  # never stored
    return rewritten


def compact(results_dir: Path | str) -> list[tuple[Path, int, int, int]]:
    """Every store under ``results_dir`` compacted: (path, lines changed, bytes before,
    bytes after) for each."""
    layout = ResultsLayout(Path(results_dir))
    done = []
    for location in layout.stores() + layout.study_stores():
        store = ResultsStore.of(location)
        before = store.path.stat().st_size
        changed = store.replace_lines(compact_line)
        done.append((store.path, changed, before, store.path.stat().st_size))
    return done


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results_dir", nargs="?", type=Path, default=Path("results"))
    args = parser.parse_args(argv)
    if not args.results_dir.is_dir():
        parser.exit(2, f"error: {args.results_dir} is not a folder: name a results folder\n")
    for path, changed, before, after in compact(args.results_dir):
        print(f"{path}: {changed} record(s) rewritten, {before:,} -> {after:,} bytes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
