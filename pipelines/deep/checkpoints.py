"""Epoch checkpoints of a deep job, written so that a kill at any moment leaves a usable one.

A checkpoint is a directory (the runner names one per job, outside ``results/``) holding:
- ``epoch-NNNN.npz``: arrays (the model's and the optimizer's variables, the best epoch's
  weights), written to a temporary name, fsynced and renamed into place;
- ``state.json``: the epoch count, the callbacks' counters, the history so far and the name
  of its ``.npz``, written the same way *after* the arrays, so it never names a file that is
  not complete. Older ``.npz`` files are removed only after the new state is in place.

A kill before ``state.json`` is replaced leaves the previous epoch's checkpoint intact; a
kill after leaves the new one. No Keras here: only files, so it is testable on its own.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np

STATE_NAME = "state.json"
FORMAT_VERSION = 1


def _fsync_directory(directory: Path) -> None:
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _write_atomically(path: Path, write) -> None:
    """``write(file)`` into a temporary sibling, fsync it, then rename it over ``path``."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(temporary, "wb") as sink:
            write(sink)
            sink.flush()
            os.fsync(sink.fileno())
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    _fsync_directory(path.parent)


class EpochCheckpoint:
    """The checkpoint directory of one job: ``save`` after each epoch, ``load`` on resume."""

    def __init__(self, directory: Path | str) -> None:
        self.directory = Path(directory)

    @property
    def state_path(self) -> Path:
        return self.directory / STATE_NAME

    def save(self, epoch: int, state: dict, arrays: dict[str, np.ndarray]) -> None:
        """Store the state after ``epoch`` finished epochs, with its arrays."""
        self.directory.mkdir(parents=True, exist_ok=True)
        arrays_name = f"epoch-{epoch:04d}.npz"
        _write_atomically(self.directory / arrays_name,
                          lambda sink: np.savez(sink, **arrays))
        document = {"format": FORMAT_VERSION, "epoch": epoch, "arrays": arrays_name, **state}
        _write_atomically(self.state_path,
                          lambda sink: sink.write(json.dumps(document).encode("utf-8")))
        for stale in self.directory.glob("epoch-*.npz"):
            if stale.name != arrays_name:
                stale.unlink(missing_ok=True)

    def load(self) -> tuple[dict, dict[str, np.ndarray]] | None:
        """The newest complete state and its arrays; None when there is none (or it cannot be
        read: a checkpoint is a convenience, and training from the start is always correct)."""
        try:
            state = json.loads(self.state_path.read_text(encoding="utf-8"))
            if state.get("format") != FORMAT_VERSION:
                return None
            with np.load(self.directory / state["arrays"]) as stored:
                arrays = {name: stored[name] for name in stored.files}
        except (OSError, ValueError, KeyError):
            return None
        return state, arrays

    def remove(self) -> None:
        shutil.rmtree(self.directory, ignore_errors=True)
