"""run_all.py on bad input (issue 33 C), one real process per family of findings: exactly
one line on stderr, ``error: `` and the file or value and the fix, exit status 2, and the
results directory exactly as it was."""

from __future__ import annotations

import gzip
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from benchmarks.data.datasets import MNIST
from tests.data.test_bad_inputs import folder_of_pngs, png_declaring

ROOT = Path(__file__).resolve().parent.parent


def broken_npz(tmp_path: Path) -> tuple[list[str], str]:
    path = tmp_path / "broken.npz"
    np.savez(path, x_train=np.zeros((4, 3, 3), np.uint8), y_train=np.arange(4) % 2,
             x_test=np.zeros((2, 3, 3), np.uint8), y_test=np.arange(2))
    path.write_bytes(path.read_bytes()[:150])
    return ["--dataset", str(path)], f"{path}: not an .npz (zip) archive"


def pickled_npz(tmp_path: Path) -> tuple[list[str], str]:
    path = tmp_path / "pickled.npz"
    np.savez(path, x_train=np.array([{"a": 1}], dtype=object), y_train=[0], x_test=[0],
             y_test=[0])
    return ["--dataset", str(path)], "x_train is an object array"


def too_few_per_class(tmp_path: Path) -> tuple[list[str], str]:
    path = tmp_path / "few.npz"
    np.savez(path, x_train=np.zeros((5, 3, 3), np.uint8), y_train=[0, 0, 0, 0, 1],
             x_test=np.zeros((2, 3, 3), np.uint8), y_test=[0, 1])
    return ["--dataset", str(path)], "class 1 has 1 image; holding out 20% by class"


def bomb_in_folder(tmp_path: Path) -> tuple[list[str], str]:
    root = folder_of_pngs(tmp_path / "pictures")
    (root / "a" / "bomb.png").write_bytes(png_declaring(30_000, 30_000))
    return ["--dataset", str(root)], f"{root / 'a' / 'bomb.png'}: declares 900,000,000 pixels"


def gzip_bomb(tmp_path: Path) -> tuple[list[str], str]:
    folder = tmp_path / "data" / "mnist"
    folder.mkdir(parents=True)
    for role, remote in MNIST.files.items():
        content = gzip.compress(bytes(64 << 20)) if role == "train_images" else b""
        (folder / remote.name).write_bytes(content)
    return (["--dataset", "mnist", "--data-dir", str(tmp_path / "data")],
            "train-images-idx3-ubyte.gz: MD5")


def nan_timeout(tmp_path: Path) -> tuple[list[str], str]:
    return ["--dataset", "digits", "--timeout", "nan"], "--timeout must be a positive number"


def huge_image_size(tmp_path: Path) -> tuple[list[str], str]:
    return ["--dataset", "digits", "--image-size", "100000"], "argument --image-size"


def too_many_workers(tmp_path: Path) -> tuple[list[str], str]:
    return ["--dataset", "digits", "--workers", "100000"], "--workers must be at most 1024"


FAMILIES = {"broken npz": broken_npz, "pickled npz": pickled_npz,
            "too few images per class": too_few_per_class, "bomb in a folder": bomb_in_folder,
            "gzip bomb": gzip_bomb, "NaN timeout": nan_timeout,
            "unbounded image size": huge_image_size, "absurd workers": too_many_workers}


def tree(root: Path) -> dict[str, bytes]:
    return {str(path.relative_to(root)): path.read_bytes()
            for path in sorted(root.rglob("*")) if path.is_file()}


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_bad_input_is_one_error_line_and_leaves_the_results_as_they_were(tmp_path, family):
    argv, message = FAMILIES[family](tmp_path)
    results = tmp_path / "results"
    (results / "digits" / "smoke").mkdir(parents=True)
    (results / "digits" / "smoke" / "runs.jsonl").write_text('{"name": "stored before"}\n')
    before = tree(results)
    completed = subprocess.run(
        [sys.executable, "run_all.py", *argv, "--profile", "smoke", "--only", "raw-knn",
         "--results-dir", str(results), "--quiet"],
        cwd=ROOT, capture_output=True, text=True, timeout=120)
    err = completed.stderr
    assert completed.returncode == 2, err
    assert err.count("\n") == 1 and err.startswith("error: ") and message in err, err
    assert "Traceback" not in err and "allow_pickle" not in err
    assert tree(results) == before
