"""A results directory with one digits run of the raw-* pipelines and its report, made once
for the tests of concurrency and of a full disk (each copies it before changing anything)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.records.processes import RUN, finish, start


@pytest.fixture(scope="session")
def stored(tmp_path_factory) -> Path:
    """A results directory with one digits run of the raw-* pipelines and its report."""
    results = tmp_path_factory.mktemp("stored") / "results"
    code, _, err = finish(start(*RUN, "--results-dir", str(results)))
    assert code == 0, err
    return results
