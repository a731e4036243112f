"""What a run on the lent GPU machine needs from this project: the same Keras as here, and a
working tree small enough to travel there (at most 64 MiB with the wheels and the data)."""

from __future__ import annotations

import re
import subprocess
import tomllib
from pathlib import Path

import pytest

from tests.conftest import requires_genuine_data

ROOT = Path(__file__).resolve().parent.parent
PREPARE_DEVICE = ROOT.parent / "shared" / "tools" / "prepare-device.sh"
TRAVEL_LIMIT_BYTES = 64 * 2**20
# what .device/ adds beside the data files: the wheels of keras, namex, optree, xgboost-cpu,
# optuna, colorlog and platformdirs: 8,693,714 bytes (8.3 MiB) as prepare-device.sh built
# them on 2026-12-07, counted as 9 MiB. The tracked tree was then 23.0 MiB, with the data
# 29.2 MiB: 3.4 MiB to spare. Palette PNGs and true labels stored as differences
# (records/labels.py) took the tree to 17.1 MiB the same day: 9.3 MiB to spare
WHEELS_BYTES = 9 * 2**20


def pinned_keras() -> str:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    [pin] = [dependency for dependency in project["dependencies"]
             if dependency.startswith("keras")]
    assert pin.startswith("keras=="), f"keras must be pinned exactly, not {pin!r}"
    return pin.removeprefix("keras==")


def test_the_gpu_machine_gets_the_keras_this_project_pins():
    import keras

    assert keras.__version__ == pinned_keras()
    if not PREPARE_DEVICE.is_file():
        pytest.skip(f"{PREPARE_DEVICE} is not on this machine")
    wheels = re.findall(r"keras==([\w.]+)", PREPARE_DEVICE.read_text())
    assert wheels == [pinned_keras()]


@requires_genuine_data
def test_the_working_tree_with_the_wheels_and_the_data_fits_what_travels():
    from tests.conftest import genuine_data_dir

    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True,
                             check=True).stdout.split(b"\0")
    tree = sum((ROOT / name.decode()).stat().st_size for name in tracked
               if name and (ROOT / name.decode()).is_file())
    data = sum(path.stat().st_size for path in genuine_data_dir().glob("*.gz"))
    assert tree + data + WHEELS_BYTES < TRAVEL_LIMIT_BYTES, (
        f"the tree ({tree / 2**20:.1f} MiB) with the data ({data / 2**20:.1f} MiB) and the "
        f"wheels would not travel to the GPU machine")
