"""Running the command line in a subprocess, for the tests of two processes at once."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import PROJECT_ROOT

BASE = [sys.executable, "run_all.py", "--dataset", "digits", "--profile", "smoke",
        "--executor", "serial", "--no-shared-features"]
RUN = [*BASE, "--only", "raw-*", "--quiet"]


def start(*argv, **options) -> subprocess.Popen:
    return subprocess.Popen([*argv], cwd=PROJECT_ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, **options)


def finish(process: subprocess.Popen, timeout: float = 120) -> tuple[int, str, str]:
    out, err = process.communicate(timeout=timeout)
    return process.returncode, out, err
