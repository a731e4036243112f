"""Shared fixtures: the genuine data (skipped, with the reason, when absent), digits, a registry."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

from benchmarks.data.datasets import DATA_DIR_ENV, load_dataset

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# the models the tests' jobs keep (benchmarks/run/model_cache.py) go to a folder of this test
# session's, not to the user's cache; subprocesses inherit it
os.environ.setdefault("FASHIONBENCH_MODEL_CACHE",
                      tempfile.mkdtemp(prefix="fashionbench-test-models-"))


def genuine_data_dir() -> Path | None:
    value = os.environ.get(DATA_DIR_ENV)
    if not value:
        return None
    path = Path(value)
    if not path.is_absolute():
        path = (PROJECT_ROOT / path).resolve() if not path.exists() else path.resolve()
    return path if (path / "train-labels-idx1-ubyte.gz").exists() else None


requires_genuine_data = pytest.mark.skipif(
    genuine_data_dir() is None,
    reason=f"the genuine Fashion-MNIST files are absent: set {DATA_DIR_ENV} to their folder "
           f"(../shared/data/fashion-mnist)",
)


@pytest.fixture(scope="session")
def fashion():
    directory = genuine_data_dir()
    if directory is None:
        pytest.skip(f"the genuine Fashion-MNIST files are absent: set {DATA_DIR_ENV}")
    return load_dataset("fashion-mnist", directory, download=False)


@pytest.fixture(scope="session")
def digits():
    return load_dataset("digits")


@pytest.fixture
def isolated_registry(monkeypatch):
    """A registry that starts with the built-in pipelines and forgets what a test adds."""
    from pipelines import registry

    registry.discover()
    snapshot = registry._State(entries=dict(registry._STATE.entries),
                               failures=list(registry._STATE.failures), discovered=True)
    monkeypatch.setattr(registry, "_STATE", snapshot)
    return registry


FRAMEWORKS = ("tensorflow", "keras", "torch", "jax")


def frameworks_imported_by(code: str, frameworks: tuple[str, ...] = FRAMEWORKS) -> list[str]:
    """The deep-learning frameworks (or other top-level packages) a fresh interpreter has
    imported after running ``code``."""
    import json
    import subprocess
    import sys

    probe = (f"{code}\nimport json, sys\nprint(json.dumps(sorted(m for m in sys.modules "
             f"if m.split('.')[0] in {tuple(frameworks)!r})))")
    completed = subprocess.run([sys.executable, "-c", probe], cwd=PROJECT_ROOT,
                               capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout.strip().splitlines()[-1])
