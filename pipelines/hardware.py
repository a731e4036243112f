"""What this process may use: its cores, the job's thread budget, the GPUs nvidia-smi sees.

The lower layer's view of the machine: pipelines size their thread pools from it, and the
harness (benchmarks/run/environment.py) describes the machine with it. No framework imports.
"""

from __future__ import annotations

import os
import shutil
import subprocess

THREADS_ENV = "FASHIONBENCH_THREADS"
# the arithmetic a deep pipeline's "auto" precision stands for in this job (run_all.py
# --precision): "auto" (bfloat16 on a GPU, float32 on a CPU), "float32" or "bfloat16"
PRECISION_ENV = "FASHIONBENCH_PRECISION"
PRECISIONS = ("auto", "float32", "bfloat16")


def cpus_available() -> int:
    """Cores this process may run on (its affinity mask), which a pinned run sets below all."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def thread_budget() -> int:
    """Cores the current job may use: what the executor granted it, else the affinity mask."""
    granted = os.environ.get(THREADS_ENV, "")
    return max(1, int(granted)) if granted.isdigit() else cpus_available()


def requested_precision() -> str:
    """The precision the executor set for the current job (``PRECISION_ENV``), else "auto"."""
    chosen = os.environ.get(PRECISION_ENV) or "auto"
    if chosen not in PRECISIONS:
        raise ValueError(f"{PRECISION_ENV} must be one of {', '.join(PRECISIONS)}, not "
                         f"{chosen!r}; unset it or pass --precision")
    return chosen


def gpu_names() -> list[str]:
    if shutil.which("nvidia-smi") is None:
        return []
    try:
        output = subprocess.run(
            ["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"],
            capture_output=True, text=True, timeout=10, check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return [line.strip() for line in output.splitlines() if line.strip()]
