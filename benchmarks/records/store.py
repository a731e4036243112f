"""The results store: one JSON record per job, appended to results/<dataset>/<profile>/runs.jsonl.

Append-only and crash-safe: each record is written as one line in a single write under an
exclusive file lock and fsynced. An append the disk refuses part-way (full, a file size
limit) is cut back at once to the records before it, so this writer never leaves a torn line;
a torn last line left by a killed writer is moved to ``runs.jsonl.torn`` with a warning
before the next append, never silently dropped.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from ..errors import StoreWriteError, write_error
from .atomic import replacing
from .layout import ResultsLayout, StoreLocation
from .record import Record, RecordError, finished_at, job_key, load_record, record_line


class ResultsStore:
    def __init__(self, results_dir: Path | str, dataset: str, profile: str) -> None:
        self.location = ResultsLayout(results_dir).store(dataset, profile)

    @classmethod
    def of(cls, location: StoreLocation) -> ResultsStore:
        store = cls.__new__(cls)
        store.location = location
        return store

    @property
    def directory(self) -> Path:
        return self.location.directory

    @property
    def path(self) -> Path:
        return self.location.runs

    def ensure_writable(self) -> None:
        """Fail early, naming the path, when records could not be written."""
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            with open(self.path, "ab"):
                pass
        except OSError as error:
            raise write_error(f"results to {self.path}", error, kind=StoreWriteError) from None

    @contextmanager
    def _locked(self) -> Iterator[int]:
        held = getattr(self, "_held", None)
        if held is not None:  # inside holding(): this process has the lock already
            yield held
            return
        descriptor = self._open_locked()
        try:
            yield descriptor
        finally:
            os.close(descriptor)  # closing releases the lock

    def _open_locked(self) -> int:
        """The store's file, open and locked. Opened again when the file was replaced while
        this waited for the lock (``replace_lines``), so that an append never lands in the
        file set aside."""
        while True:
            descriptor = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o644)
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX)
                if os.fstat(descriptor).st_ino == os.stat(self.path).st_ino:
                    return descriptor
            except FileNotFoundError:
                pass  # removed meanwhile: open (create) it again
            except BaseException:
                os.close(descriptor)
                raise
            os.close(descriptor)

    def replace_lines(self, convert: Callable[[bytes], bytes]) -> int:
        """Every whole line of the store through ``convert`` (bytes to bytes, no newline),
        the file replaced whole or not at all, under the store's lock; a torn tail is kept as
        it is. Returns how many lines changed."""
        with self.holding():
            content = self.path.read_bytes()  # holding() has opened (created) it
            whole = content.rfind(b"\n") + 1
            lines = content[:whole].split(b"\n")[:-1]
            converted = [convert(line) for line in lines]
            changed = sum(new != old for new, old in zip(converted, lines, strict=True))
            if changed:
                with replacing(self.path) as temporary:
                    temporary.write_bytes(b"".join(line + b"\n" for line in converted)
                                          + content[whole:])
        return changed

    @contextmanager
    def holding(self) -> Iterator[None]:
        """The store's lock held across the block: no other process appends meanwhile, so
        what the block reads (the run_ids a merge skips) stays true while it appends."""
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            with self._locked() as descriptor:
                self._held = descriptor
                try:
                    yield
                finally:
                    self._held = None
        except OSError as error:
            raise write_error(self.path, error, "the records already there are intact",
                              kind=StoreWriteError) from None

    def _set_aside_torn_tail(self, descriptor: int) -> None:
        size = os.fstat(descriptor).st_size
        if size == 0 or os.pread(descriptor, 1, size - 1) == b"\n":
            return
        content = os.pread(descriptor, size, 0)
        keep = content.rfind(b"\n") + 1
        torn = content[keep:]
        quarantine = self.path.with_name(self.path.name + ".torn")
        with open(quarantine, "ab") as sink:
            sink.write(torn + b"\n")
            sink.flush()
            os.fsync(sink.fileno())
        os.ftruncate(descriptor, keep)
        warnings.warn(
            f"{self.path}: its last line was torn (an interrupted write); the {len(torn)} "
            f"bytes were moved to {quarantine}",
            stacklevel=3,
        )

    def append(self, record: Record) -> None:
        line = record_line(record)
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            with self._locked() as descriptor:
                self._set_aside_torn_tail(descriptor)
                self._write_whole(descriptor, line)
        except OSError as error:
            raise write_error(self.path, error, "the records already there are intact",
                              kind=StoreWriteError) from None

    @staticmethod
    def _write_whole(descriptor: int, line: bytes) -> None:
        """Append ``line`` whole, or cut the file back to where it was: a short write or an
        error (ENOSPC, EFBIG) must not leave part of a record as the store's last line."""
        before = os.fstat(descriptor).st_size
        left = memoryview(line)
        try:
            while left:  # after a short write, the next write says why (ENOSPC, EFBIG)
                written = os.write(descriptor, left)
                if written == 0:
                    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
                left = left[written:]
            os.fsync(descriptor)
        except OSError:
            os.ftruncate(descriptor, before)  # shrinking a file needs no space
            raise

    def records(self) -> list[Record]:
        """Every readable record, oldest first; unreadable lines are reported, not dropped."""
        if not self.path.exists():
            return []
        return self._parse(self.path.read_bytes())

    def end_of_records(self) -> int:
        """Where the next record will start: the size up to the last whole line (a torn tail
        after it is cut away before the next append)."""
        try:
            content = self.path.read_bytes()
        except FileNotFoundError:
            return 0
        return content.rfind(b"\n") + 1

    def records_from(self, offset: int) -> list[Record]:
        """The records appended at ``offset`` (an ``end_of_records()``) or after it: what other
        processes stored since then, without parsing the whole store again. Read under the
        lock: a record being appended right now is read whole or not at all."""
        if not self.path.exists():
            return []
        try:
            with self._locked() as descriptor:
                size = os.fstat(descriptor).st_size
                return self._parse(os.pread(descriptor, max(size - offset, 0), offset))
        except OSError as error:
            raise write_error(self.path, error, kind=StoreWriteError) from None

    def _parse(self, content: bytes) -> list[Record]:
        records = []
        classes: dict[tuple, list[str]] = {}  # each split's class names, as its first record has
        lines = content.split(b"\n")
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                record = load_record(json.loads(line))
                # one split (dataset and fingerprint) is one set of images: a record naming
                # other classes (merged from elsewhere) cannot stand beside its rows
                named = record.get("class_names")
                split = (record["dataset"], record["split"]["fingerprint"])
                if named is not None and classes.setdefault(split, named) != named:
                    raise RecordError(f"its class_names differ from those of the earlier "
                                      f"records of its split {split[1]}")
                records.append(record)
            except (json.JSONDecodeError, UnicodeDecodeError):
                where = "last line (torn write)" if number == len(lines) else f"line {number}"
                warnings.warn(f"{self.path}: {where} is not a JSON record; left in place, "
                              f"skipped", stacklevel=2)
            except RecordError as error:
                warnings.warn(f"{self.path}: line {number} is not a record ({error}); left "
                              f"in place, skipped", stacklevel=2)
        return records

    def latest(self) -> dict[tuple, Record]:
        """The record that stands for each job: its newest ok one, else its newest.

        Newest by ``finished_at``, not by line: ``benchmarks.merge`` appends records run
        elsewhere at the end, and an older run merged today must not replace a newer local
        one. Records finished in the same second keep the store's order (the later line)."""
        latest: dict[tuple, Record] = {}
        ordered = sorted(enumerate(self.records()),
                         key=lambda item: (finished_at(item[1]), item[0]))
        for _, record in ordered:
            key = job_key(record)
            if record.get("status") == "ok" or latest.get(key, {}).get("status") != "ok":
                latest[key] = record
        return latest

    def completed_keys(self, latest: dict[tuple, Record] | None = None) -> set[tuple]:
        """Jobs stored as ok at least once: a rerun skips them unless forced (``latest``: this
        store's ``latest()`` when the caller has read it already)."""
        latest = self.latest() if latest is None else latest
        return {key for key, record in latest.items() if record.get("status") == "ok"}


def find_stores(results_dir: Path | str) -> list[ResultsStore]:
    """Every store under ``results_dir`` (results/<dataset>/<profile>/runs.jsonl), sorted."""
    return [ResultsStore.of(location) for location in ResultsLayout(results_dir).stores()]


def find_study_stores(results_dir: Path | str) -> list[ResultsStore]:
    """Every study's store (results/studies/<study>/<dataset>/<profile>/runs.jsonl), sorted."""
    return [ResultsStore.of(location) for location in ResultsLayout(results_dir).study_stores()]
