"""A disk that refuses a write (full, a file-size limit, read-only): one line naming the file
and the cause, exit status 1, and nothing already written lost (issue 33): no torn line in
the store, the previous leaderboard byte for byte, no 0-byte figure."""

from __future__ import annotations

import builtins
import errno
import io
import os
import resource
import shutil
import signal
from pathlib import Path

import pytest

from benchmarks.cli import main as cli_main
from benchmarks.errors import StoreError
from benchmarks.merge import main as merge_main
from benchmarks.records.store import ResultsStore
from tests.records.processes import RUN, finish, start


def limited_to(size: int):
    """A preexec_fn: files this process writes cannot grow beyond ``size`` bytes, and a
    write past it fails with EFBIG (SIGXFSZ ignored) — a full disk, for this process only."""
    def limit() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))
    return limit


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(path.relative_to(folder)): path.read_bytes()
            for path in sorted(folder.rglob("*")) if path.is_file()
            and not path.name.startswith(".")}


def one_line_error(err: str, *fragments: str) -> None:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: cannot write "), err
    assert "Traceback" not in err and all(fragment in lines[0] for fragment in fragments), err


def test_a_report_on_a_full_disk_keeps_the_previous_pages_and_figures(stored, tmp_path):
    results = tmp_path / "results"
    shutil.copytree(stored, results)
    before = snapshot(results)
    store = results / "digits" / "smoke"
    assert (store / "LEADERBOARD.html").stat().st_size > 20_000  # the limit cuts it short
    code, _, err = finish(start(*RUN, "--results-dir", str(results), "--report-only",
                                preexec_fn=limited_to(20_000)))
    assert code == 1
    one_line_error(err, "File too large", "free space or choose another --results-dir")
    after = snapshot(results)
    assert after == before  # the leaderboard byte-identical, the figures, the store
    assert all(path.stat().st_size > 0 for path in store.rglob("*.png"))
    assert not [path for path in store.rglob(".*partial")]  # no half-written file left


def test_a_run_on_a_full_disk_leaves_no_torn_line_and_loses_no_record(stored, tmp_path):
    results = tmp_path / "results"
    shutil.copytree(stored, results)
    runs = results / "digits" / "smoke" / "runs.jsonl"
    before = runs.read_bytes()
    code, _, err = finish(start(*RUN, "--results-dir", str(results), "--force",
                                "--only", "raw-knn", preexec_fn=limited_to(len(before) + 200)))
    assert code == 1
    one_line_error(err, str(runs), "File too large", "the records already there are intact")
    assert runs.read_bytes() == before  # the part of a record written was cut back at once


def test_a_short_append_is_cut_back_at_once(tmp_path, monkeypatch):
    store = ResultsStore(tmp_path, "digits", "smoke")
    store.append({"run_id": "first", "status": "ok"})
    before = store.path.read_bytes()
    real_write = os.write

    def full_after_seven_bytes(descriptor, data):
        if os.fstat(descriptor).st_size >= len(before) + 7:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_write(descriptor, bytes(data)[:7])

    monkeypatch.setattr(os, "write", full_after_seven_bytes)
    with pytest.raises(StoreError, match="No space left on device; the records already there "
                                         "are intact"):
        store.append({"run_id": "second", "status": "ok"})
    monkeypatch.undo()
    assert store.path.read_bytes() == before
    assert not store.path.with_name("runs.jsonl.torn").exists()


def read_only(monkeypatch, folder: Path) -> None:
    """Every write under ``folder`` refused with EROFS (tests run as root, whom chmod does
    not stop): at os.open, open() and os.replace."""
    folder = str(folder.resolve())

    def under(path) -> bool:
        return isinstance(path, (str, os.PathLike)) and \
            os.path.abspath(os.fspath(path)).startswith(folder)

    def refuse(path):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), os.fspath(path))

    real_os_open, real_open, real_replace = os.open, builtins.open, os.replace
    writing = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND

    def os_open(path, flags, *rest, **options):
        if flags & writing and under(path):
            refuse(path)
        return real_os_open(path, flags, *rest, **options)

    def open_(path, mode="r", *rest, **options):
        if set(mode) & set("wax+") and under(path):
            refuse(path)
        return real_open(path, mode, *rest, **options)

    def replace(source, target, *rest, **options):
        if under(target):
            refuse(target)
        return real_replace(source, target, *rest, **options)

    monkeypatch.setattr(os, "open", os_open)
    monkeypatch.setattr(builtins, "open", open_)
    monkeypatch.setattr(io, "open", open_)
    monkeypatch.setattr(os, "replace", replace)


def test_report_only_on_a_read_only_results_dir_is_one_line(stored, tmp_path, monkeypatch,
                                                            capsys):
    results = tmp_path / "results"
    shutil.copytree(stored, results)
    before = snapshot(results)
    read_only(monkeypatch, results)
    code = cli_main(["--report-only", "--results-dir", str(results)])
    monkeypatch.undo()
    assert code == 1
    one_line_error(capsys.readouterr().err, "Read-only file system",
                   "make it writable or choose another --results-dir")
    assert snapshot(results) == before


def test_a_merge_into_a_read_only_results_dir_is_one_line(stored, tmp_path, monkeypatch,
                                                          capsys):
    results = tmp_path / "results"
    shutil.copytree(stored, results)
    (results / "digits" / "smoke" / "runs.jsonl").write_text("")
    before = snapshot(results)
    read_only(monkeypatch, results)
    code = merge_main([str(stored), "--results-dir", str(results), "--report"])
    monkeypatch.undo()
    assert code == 1
    one_line_error(capsys.readouterr().err, "runs.jsonl: Read-only file system")
    assert snapshot(results) == before


def test_the_command_line_names_an_unexpected_oserror_in_one_line(tmp_path, capsys,
                                                                 monkeypatch):
    import benchmarks.cli as cli

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(tmp_path / "x.png"))

    monkeypatch.setattr(cli, "publish", full)
    (tmp_path / "results").mkdir()
    assert cli_main(["--report-only", "--results-dir", str(tmp_path / "results")]) == 1
    one_line_error(capsys.readouterr().err, f"{tmp_path / 'x.png'}: No space left on device")

