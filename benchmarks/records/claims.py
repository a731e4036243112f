"""One writer per job: a claim on a job's key, held while the job runs and until its record
is stored, by the process that writes the store.

A claim is an ``fcntl.flock`` on ``<store>/.claims/<digest of the key>.lock``: two runs on
the same results directory (two terminals, or a run beside ``api.run``) never run one job
twice, and a job's epoch checkpoint is only resumed by the run that holds its claim. The
kernel drops the lock when its holder dies, even by SIGKILL, so a claim never outlives its
run. The file says who holds it (pid, host, since), for the line of the run that is refused.
The files stay (deleting one while another process waits on it would let two hold "it").
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import socket
import time
from pathlib import Path

from ..errors import write_error

CLAIMS_NAME = ".claims"


class Claims:
    """The claims this process holds on the jobs of one store (``store_directory``)."""

    def __init__(self, store_directory: Path | str) -> None:
        self.directory = Path(store_directory) / CLAIMS_NAME
        self._held: dict[tuple, int] = {}  # key -> the open, locked descriptor

    def path_of(self, key: tuple) -> Path:
        digest = hashlib.sha256(json.dumps(list(key), default=str).encode()).hexdigest()
        return self.directory / f"{digest[:24]}.lock"

    def take(self, key: tuple, job: str) -> str | None:
        """Claim ``key`` (``job`` names it in the file); None when taken, else who holds it
        now, in words (another process: the caller skips the job)."""
        if key in self._held:
            return None
        path = self.path_of(key)
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as error:
            raise write_error(path, error, "no job was started") from None
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder(descriptor)
            os.close(descriptor)
            return holder
        holder = {"pid": os.getpid(), "host": socket.gethostname(), "job": job,
                  "since": time.strftime("%Y-%m-%d %H:%M:%S")}
        os.ftruncate(descriptor, 0)
        os.pwrite(descriptor, json.dumps(holder).encode(), 0)
        self._held[key] = descriptor
        return None

    def release(self, key: tuple) -> None:
        descriptor = self._held.pop(key, None)
        if descriptor is not None:
            with contextlib.suppress(OSError):  # nobody holds it: no stale holder to report
                os.ftruncate(descriptor, 0)
            os.close(descriptor)  # closing releases the lock

    def release_all(self) -> None:
        for key in list(self._held):
            self.release(key)

    def held(self) -> set[tuple]:
        return set(self._held)


def _holder(descriptor: int) -> str:
    """Who holds a claim, from its file (written just after the lock was taken: a holder
    that has not written yet is 'another process')."""
    try:
        holder = json.loads(os.pread(descriptor, 4096, 0) or b"{}")
        return f"process {holder['pid']} on {holder['host']}, since {holder['since']}"
    except (ValueError, KeyError, TypeError, OSError):
        return "another process"
