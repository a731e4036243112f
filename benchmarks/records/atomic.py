"""Files replaced whole or not at all, and a lock per folder.

A report is written to a temporary file beside its target and moved over it with
``os.replace`` (atomic on one filesystem): a full disk or a killed process leaves the previous
good page or figure in place, never a truncated one or a 0-byte PNG. Every OSError becomes
one ``WriteError`` line naming the file.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from pipelines.errors import write_error  # not ..errors: the reports' import chain stays short

TEMPORARY_SUFFIX = ".partial"  # a file being written; one a killed writer left is stale
KEPT = "the previous file is intact"


def _permissions() -> int:
    """What a plain ``open(path, "w")`` would give (mkstemp makes 0600 files)."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


@contextlib.contextmanager
def replacing(path: Path | str) -> Iterator[Path]:
    """A temporary path beside ``path`` to write to; once the block ends, it replaces
    ``path``. On any error the temporary file is removed and ``path`` left as it was."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=TEMPORARY_SUFFIX,
                                            dir=path.parent)
        os.close(descriptor)
    except OSError as error:
        raise write_error(path, error, KEPT) from None
    temporary = Path(name)
    try:
        yield temporary
        with open(temporary, "rb+") as written:
            os.fsync(written.fileno())  # the bytes are on disk before the name points at them
        os.chmod(temporary, _permissions())
        os.replace(temporary, path)
    except OSError as error:
        raise write_error(path, error, KEPT) from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()


def write_text(path: Path | str, text: str) -> Path:
    """``path.write_text(text)``, replaced whole or not at all."""
    return write_bytes(path, text.encode("utf-8"))


@contextlib.contextmanager
def folder_lock(directory: Path | str, name: str) -> Iterator[None]:
    """An exclusive lock on ``directory/name`` held for the block (blocking), so that two
    processes (two reports, two merges) take turns. fcntl.flock: the kernel releases it when
    the holder dies, even by SIGKILL."""
    path = Path(directory) / name
    try:
        Path(directory).mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as error:
        raise write_error(path, error, "nothing was changed") from None
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)  # closing releases the lock


def write_bytes(path: Path | str, data: bytes) -> Path:
    """``path.write_bytes(data)``, replaced whole or not at all: a failed save leaves the
    previous figure, never a 0-byte or half-written one."""
    with replacing(path) as temporary:
        temporary.write_bytes(data)
    return Path(path)
