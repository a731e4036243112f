"""What a result was measured on: host, Python, packages, CPU, GPU, Keras backend, commit,
and the threads the job was granted.

Nothing here imports a deep-learning framework: the GPU is found with nvidia-smi and the
Keras backend from KERAS_BACKEND, so the classical runs start fast.
"""

from __future__ import annotations

import functools
import importlib.metadata
import os
import platform
import subprocess
from pathlib import Path

from pipelines.hardware import cpus_available, gpu_names, thread_budget

from ..records.hardware import cpu_description
from ..records.layout import PROJECT_ROOT

PACKAGES = ("numpy", "scipy", "scikit-learn", "pandas", "xgboost", "keras", "tensorflow",
            "jax", "torch")
CODE_PATHS = ("benchmarks", "pipelines", "run_all.py", "pyproject.toml")


def package_versions() -> dict[str, str]:
    versions = {}
    for package in PACKAGES:
        try:
            versions[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            continue
    return versions


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def git_commit() -> str | None:
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=PROJECT_ROOT,
                                capture_output=True, text=True, timeout=10, check=True)
        # "dirty" means the code differs from the commit; results and docs a run rewrites don't
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--",
                                *CODE_PATHS], cwd=PROJECT_ROOT, capture_output=True, text=True,
                               timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return commit.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")


@functools.cache
def machine() -> dict:
    """What stays the same for the life of a process: read once (git and nvidia-smi are slow)."""
    gpus = gpu_names()
    cpu = cpu_model()
    cores = cpus_available()
    return {
        "host": platform.node(),  # which machine ran the job (a Dask cluster has several)
        "python": platform.python_version(),
        "platform": platform.platform(),
        "packages": package_versions(),
        "cpu": cpu,
        "cpu_count": os.cpu_count(),
        "cpus_available": cores,
        "gpu": gpus[0] if gpus else None,
        "gpu_count": len(gpus),
        "keras_backend": os.environ.get("KERAS_BACKEND", "tensorflow"),
        "hardware": gpus[0] if gpus else cpu_description(cpu, cores),
        "git_commit": git_commit(),
    }


def environment() -> dict:
    """A record's ``env``: the machine, and the threads the current job may use.

    The thread count is read at every call, never cached: the executor grants it per job
    (``--threads``, or the cores shared among the workers), and a job's numbers depend on it
    (BLAS sums in another order with another thread count), so records are comparable when
    their ``threads`` are equal.
    """
    return {**machine(), "threads": thread_budget()}
