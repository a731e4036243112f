"""Two processes on one results directory (issue 33): two runs never both run a job, two
merges never both append a record, two reports never remove or half-write what the other
shows; a claim dies with its holder, even by SIGKILL."""

from __future__ import annotations

import collections
import json
import os
import re
import shutil
import signal
import sys
import time
import uuid
from pathlib import Path

from benchmarks.records.atomic import folder_lock
from benchmarks.records.claims import Claims
from benchmarks.records.record import job_key
from benchmarks.records.store import ResultsStore
from benchmarks.reports.publish import REPORT_LOCK_NAME
from tests.records.processes import BASE, RUN, finish, start


def ok_counts(results: Path) -> collections.Counter:
    return collections.Counter(job_key(record) for record
                               in ResultsStore(results, "digits", "smoke").records()
                               if record["status"] == "ok")


def test_two_runs_at_once_run_each_job_once(tmp_path):
    results = tmp_path / "results"
    runs = [start(*RUN, "--results-dir", str(results)) for _ in range(2)]
    outcomes = [finish(run) for run in runs]
    assert [code for code, _, _ in outcomes] == [0, 0], [err for _, _, err in outcomes]
    assert not any("Traceback" in err for _, _, err in outcomes)
    counts = ok_counts(results)
    assert len(counts) == 10 and set(counts.values()) == {1}, counts


def test_a_claimed_job_is_left_to_its_holder_and_freed_when_it_dies(tmp_path):
    key = ("raw-knn", "digits", "abc", "smoke", 0)
    ours, theirs = Claims(tmp_path), Claims(tmp_path)
    assert ours.take(key, "raw-knn seed 0") is None
    assert f"process {os.getpid()} on " in theirs.take(key, "raw-knn seed 0")
    ours.release(key)
    assert theirs.take(key, "raw-knn seed 0") is None
    theirs.release(key)

    holder = start(sys.executable, "-c",
                   "import sys, time\nfrom pathlib import Path\n"
                   "from benchmarks.records.claims import Claims\n"
                   f"assert Claims(Path({str(tmp_path)!r})).take({key!r}, 'x') is None\n"
                   "print('held', flush=True)\ntime.sleep(60)\n")
    assert holder.stdout.readline().strip() == "held"
    assert f"process {holder.pid} " in ours.take(key, "raw-knn seed 0")
    holder.send_signal(signal.SIGKILL)
    holder.wait(timeout=10)
    holder.stdout.close()
    holder.stderr.close()
    assert ours.take(key, "raw-knn seed 0") is None  # the kernel dropped the dead one's lock


def test_a_run_skips_a_job_another_process_holds_and_names_the_holder(stored, tmp_path):
    results = tmp_path / "results"
    store = ResultsStore(results, "digits", "smoke")
    record = ResultsStore(stored, "digits", "smoke").records()[0]
    holder = Claims(store.directory)
    assert holder.take(job_key(record), record["name"]) is None
    try:
        code, out, err = finish(start(*BASE, "--only", record["name"],
                                      "--results-dir", str(results)))
    finally:
        holder.release_all()
    assert code == 0, err
    assert f"{record['name']} seed 0: not started, another run is running it (process " \
           f"{os.getpid()} on" in out
    assert ok_counts(results)[job_key(record)] == 0


def test_two_merges_at_once_add_each_record_once(stored, tmp_path):
    source = tmp_path / "elsewhere"
    records = ResultsStore(stored, "digits", "smoke").records()
    many = ResultsStore(source, "digits", "smoke")
    many.directory.mkdir(parents=True)
    # enough records that the two merges overlap (each append is fsynced)
    many.path.write_text("".join(json.dumps({**records[i % len(records)],
                                             "run_id": uuid.uuid4().hex}) + "\n"
                                 for i in range(300)))
    target = tmp_path / "results"
    merges = [start(sys.executable, "-m", "benchmarks.merge", str(source), "--results-dir",
                    str(target)) for _ in range(2)]
    outcomes = [finish(merge) for merge in merges]
    assert [code for code, _, _ in outcomes] == [0, 0], [err for _, _, err in outcomes]
    added = sorted(int(re.search(r"merged (\d+) records", out).group(1))
                   for _, out, _ in outcomes)
    run_ids = [record["run_id"] for record in ResultsStore(target, "digits", "smoke").records()]
    assert len(run_ids) == len(set(run_ids)) == 300 and sum(added) == 300


def test_a_report_waits_for_the_report_already_writing(stored, tmp_path):
    results = tmp_path / "results"
    shutil.copytree(stored, results)
    with folder_lock(results, REPORT_LOCK_NAME):
        report = start(*RUN, "--results-dir", str(results), "--report-only")
        time.sleep(4)
        assert report.poll() is None  # it waits: it neither removes nor half-reads our files
    code, _, err = finish(report)
    assert code == 0, err


def test_a_report_during_a_run_shows_every_figure_it_links(stored, tmp_path):
    results = tmp_path / "results"
    shutil.copytree(stored, results)
    run = start(*RUN, "--results-dir", str(results), "--force", "--seeds", "1")
    reports = []
    while run.poll() is None or not reports:
        reports.append(finish(start(*RUN, "--results-dir", str(results), "--report-only")))
    reports.append(finish(run))
    assert [code for code, _, _ in reports] == [0] * len(reports), reports
    assert not any("Traceback" in err for _, _, err in reports)
    store = results / "digits" / "smoke"
    linked = re.findall(r"\((figures/[^)]+\.png)\)", (store / "LEADERBOARD.md").read_text())
    assert linked and all((store / name).stat().st_size > 0 for name in linked)
