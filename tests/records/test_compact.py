"""Compacting a store (records/compact.py): the true labels of older records become their
difference from the predictions; every record reads the same labels and fields afterwards,
what is not a record is kept byte for byte, and an append that waited meanwhile is kept."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path

from benchmarks.records.compact import compact
from benchmarks.records.labels import DIFFERENCE, encode_labels, stored_labels
from benchmarks.records.record import record_line
from benchmarks.records.store import ResultsStore
from tests.conftest import PROJECT_ROOT

COMMITTED_QUICK = PROJECT_ROOT / "results/fashion-mnist/quick/runs.jsonl"


def older_lines(count: int) -> list[bytes]:
    """Committed records as a store written before the difference form holds them: the
    true labels themselves, compressed (records/labels.py's ``encode_labels``)."""
    lines = []
    for line in COMMITTED_QUICK.read_bytes().splitlines():
        record = json.loads(line)
        labels = stored_labels(record.get("predictions"))
        if labels is not None:
            record["predictions"]["test_true"] = encode_labels(labels[0])
            lines.append(record_line(record).rstrip(b"\n"))
        if len(lines) == count:
            return lines
    raise AssertionError("the committed quick store holds too few records with labels")


def test_compacting_keeps_every_label_and_field_and_what_is_not_a_record(tmp_path):
    store = ResultsStore(tmp_path, "fashion-mnist", "quick")
    store.directory.mkdir(parents=True)
    kept = [b"not a record", b'{"predictions": {"test_true": "z:AAAA"}}']
    lines = older_lines(5)
    store.path.write_bytes(b"\n".join(lines + kept) + b"\n" + b'{"torn')
    before = [json.loads(line) for line in lines]

    [(path, changed, size_before, size_after)] = compact(tmp_path)
    assert (path, changed) == (store.path, 5) and size_after < 0.8 * size_before
    content = store.path.read_bytes()
    assert content.endswith(b"\n".join(kept) + b"\n" + b'{"torn')
    for old, line in zip(before, content.splitlines()[:5], strict=True):
        new = json.loads(line)
        assert new["predictions"]["test_true"].startswith(DIFFERENCE)
        for ours, theirs in zip(stored_labels(old["predictions"]),
                                stored_labels(new["predictions"]), strict=True):
            assert ours.tolist() == theirs.tolist()
        old["predictions"].pop("test_true"), new["predictions"].pop("test_true")
        assert new == old
    assert compact(tmp_path)[0][1] == 0 and store.path.read_bytes() == content  # once only


def test_an_append_waiting_for_the_lock_lands_in_the_compacted_store(tmp_path):
    store = ResultsStore(tmp_path, "fashion-mnist", "quick")
    store.directory.mkdir(parents=True)
    lines = older_lines(2)
    store.path.write_bytes(b"\n".join(lines[:1]) + b"\n")
    started, release = threading.Event(), threading.Event()

    def slow(line: bytes) -> bytes:
        started.set()
        release.wait(10)
        from benchmarks.records.compact import compact_line
        return compact_line(line)

    compacting = threading.Thread(target=store.replace_lines, args=(slow,))
    compacting.start()
    started.wait(10)
    appending = threading.Thread(target=ResultsStore(tmp_path, "fashion-mnist", "quick").append,
                                 args=(json.loads(lines[1]),))
    appending.start()  # opens the file about to be replaced, and waits for its lock
    time.sleep(0.3)
    release.set()
    compacting.join(10), appending.join(10)
    run_ids = [record["run_id"] for record in store.records()]
    assert run_ids == [json.loads(line)["run_id"] for line in lines]


def test_the_command_says_what_it_did_and_refuses_a_missing_folder(tmp_path):
    command = [sys.executable, "-m", "benchmarks.records.compact"]
    missing = subprocess.run([*command, str(tmp_path / "nowhere")], cwd=PROJECT_ROOT,
                             capture_output=True, text=True)
    assert missing.returncode == 2 and "is not a folder" in missing.stderr
    store = ResultsStore(tmp_path, "fashion-mnist", "quick")
    store.directory.mkdir(parents=True)
    store.path.write_bytes(older_lines(1)[0] + b"\n")
    done = subprocess.run([*command, str(tmp_path)], cwd=PROJECT_ROOT, capture_output=True,
                          text=True, check=True)
    assert f"{Path(store.path)}: 1 record(s) rewritten" in done.stdout
