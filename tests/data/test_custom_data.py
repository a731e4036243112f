"""Your own data: an .npz file, a folder of class folders and arrays, end to end and checked.

The datasets are generated here: three classes of drawn strokes (a horizontal bar, a vertical
bar, a diagonal) with noise, so that a working pipeline scores well above chance.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from benchmarks.cli import main
from benchmarks.data.custom_data import dataset_from_arrays, load_custom_dataset
from benchmarks.data.splits import make_split
from benchmarks.errors import DataError

CLASSES = ("horizontal", "vertical", "diagonal")


def strokes(count: int, size: tuple[int, int] = (16, 16), *, seed: int = 0,
            rgb: bool = False) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    height, width = size
    images = rng.integers(0, 60, size=(count, height, width)).astype(np.uint8)
    labels = np.arange(count) % 3
    for image, label in zip(images, labels, strict=True):
        at = rng.integers(2, min(height, width) - 2)
        if label == 0:
            image[at - 1:at + 1, :] = 255
        elif label == 1:
            image[:, at - 1:at + 1] = 255
        else:
            for step in range(min(height, width)):
                image[step, step] = 255
    if rgb:
        images = np.stack([images, images // 2, 255 - images], axis=-1)
    return images, labels


def write_npz(path, *, train=90, test=30, **arrays):
    x_train, y_train = strokes(train, seed=1)
    x_test, y_test = strokes(test, seed=2)
    content = {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test,
               "class_names": np.array(CLASSES)}
    content.update(arrays)
    np.savez(path, **{key: value for key, value in content.items() if value is not None})
    return path


def write_folder(root, *, per_class=20, size=(20, 24), suffix=".png"):
    from PIL import Image

    images, labels = strokes(per_class * 3, size, seed=3, rgb=True)
    for index, (image, label) in enumerate(zip(images, labels, strict=True)):
        folder = root / CLASSES[label]
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(image).save(folder / f"{index:03d}{suffix}")
    return root


def stored(results, dataset):
    path = results / dataset / "smoke" / "runs.jsonl"
    return {record["name"]: record for record in map(json.loads, path.read_text().splitlines())}


def test_an_npz_dataset_runs_end_to_end_through_the_cli(tmp_path):
    data = write_npz(tmp_path / "strokes.npz")
    results = tmp_path / "results"
    assert main(["--dataset", str(data), "--profile", "smoke", "--results-dir", str(results),
                 "--only", "raw-knn", "--only", "hog-svm", "--only", "cnn-seed004",
                 "--executor", "serial", "--quiet"]) == 0
    records = stored(results, "strokes")
    assert set(records) == {"raw-knn", "hog-svm", "cnn-seed004"}
    for record in records.values():
        assert record["status"] == "ok", record["error"]
        assert record["class_names"] == list(CLASSES)
        assert record["sizes"]["test"] == 30
        assert record["metrics"]["test"]["accuracy"] > 0.6, record["name"]
    assert "strokes" in (results / "strokes" / "smoke" / "LEADERBOARD.md").read_text()


def test_a_folder_dataset_is_converted_to_the_stated_size_and_colour(tmp_path):
    root = write_folder(tmp_path / "shapes")
    dataset = load_custom_dataset(root, image_size=(16, 12), color="rgb")
    assert dataset.name == "shapes" and dataset.class_names == tuple(sorted(CLASSES))
    assert dataset.train_images.shape[1:] == (16, 12, 3)
    assert len(dataset.train_labels) + len(dataset.test_labels) == 60
    assert np.bincount(dataset.test_labels).tolist() == [4, 4, 4]  # a stratified 20%
    grey = load_custom_dataset(root, image_size=(16, 16), color="gray")
    assert grey.train_images.shape[1:] == (16, 16) and grey.train_images.dtype == np.uint8
    results = tmp_path / "results"
    assert main(["--dataset", str(root), "--image-size", "16", "--color", "rgb", "--profile",
                 "smoke", "--results-dir", str(results), "--only", "raw-knn", "--only",
                 "hog-knn", "--only", "mcnn", "--executor", "serial", "--quiet"]) == 0
    records = stored(results, "shapes")
    assert {name: record["status"] for name, record in records.items()} == \
        {"raw-knn": "ok", "hog-knn": "ok", "mcnn": "ok"}
    assert records["mcnn"]["model"]["input_shape"] == [16, 16, 3]


def test_train_and_test_folders_are_the_parts(tmp_path):
    write_folder(tmp_path / "parts" / "train", per_class=6)
    write_folder(tmp_path / "parts" / "test", per_class=2)
    dataset = load_custom_dataset(tmp_path / "parts")
    assert (len(dataset.train_labels), len(dataset.test_labels)) == (18, 6)


def test_the_content_fingerprint_tells_apart_two_datasets_with_the_same_indices():
    x_train, y_train = strokes(60, seed=1)
    x_test, y_test = strokes(30, seed=2)
    first = dataset_from_arrays(x_train, y_train, x_test, y_test)
    again = dataset_from_arrays(x_train.copy(), y_train, x_test, y_test)
    x_train[0, 0, 0] ^= 1
    changed = dataset_from_arrays(x_train, y_train, x_test, y_test)
    fingerprints = [make_split("standard", dataset).fingerprint
                    for dataset in (first, again, changed)]
    assert fingerprints[0] == fingerprints[1] != fingerprints[2]
    # floats in [0, 1] are pixels too
    floats = dataset_from_arrays(x_train / 255.0, y_train, x_test / 255.0, y_test)
    assert np.array_equal(floats.train_images, x_train)


BAD_NPZ = {
    "missing array": ({"y_test": None}, "missing array(s) y_test"),
    "image shape": ({"x_train": np.zeros((90, 16), np.uint8)}, "x_train has shape (90, 16)"),
    "two image sizes": ({"x_test": np.zeros((30, 8, 8), np.uint8)},
                        "x_train images are 16 x 16 but x_test images are 8 x 8"),
    "pixel range": ({"x_train": np.full((90, 16, 16), 300, np.int32)},
                    "integer pixels from 300 to 300"),
    "dtype": ({"x_train": np.zeros((90, 16, 16), np.complex64)}, "dtype complex64"),
    "float range": ({"x_train": np.full((90, 16, 16), 2.0)}, "float pixels outside [0, 1]"),
    "label range": ({"y_test": np.full(30, 7)}, "label 7 is out of range for 3 class names"),
    "negative label": ({"y_train": np.full(90, -1)}, "negative label (-1)"),
    "one-hot labels": ({"y_train": np.eye(3)[np.arange(90) % 3]}, "not one-hot"),
    "lengths": ({"y_train": np.arange(89) % 3}, "x_train has 90 images but y_train has 89"),
    "empty class": ({"y_train": np.arange(90) % 2}, "class(es) diagonal have no training"),
}


@pytest.mark.parametrize("case", sorted(BAD_NPZ))
def test_bad_npz_data_gets_a_one_line_error_naming_the_file(tmp_path, case, capsys):
    arrays, message = BAD_NPZ[case]
    path = write_npz(tmp_path / "bad.npz", **arrays)
    with pytest.raises(DataError) as error:
        load_custom_dataset(path)
    text = str(error.value)
    assert "\n" not in text and str(path) in text and message in text, text
    results = tmp_path / "results"
    assert main(["--dataset", str(path), "--profile", "smoke", "--results-dir", str(results),
                 "--only", "raw-knn", "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and message in err
    assert not (results / "bad").exists()


def test_bad_folders_get_one_line_errors(tmp_path):
    root = write_folder(tmp_path / "folder", per_class=3)
    (root / "empty").mkdir()
    with pytest.raises(DataError, match=r"empty: no images"):
        load_custom_dataset(root)
    (root / "empty").rmdir()
    (root / "horizontal" / "broken.png").write_bytes(b"not a png")
    with pytest.raises(DataError, match=r"broken.png: not a readable image"):
        load_custom_dataset(root)
    with pytest.raises(DataError, match=r"no such file or folder"):
        load_custom_dataset(tmp_path / "nowhere")
    lonely = tmp_path / "lonely"
    (lonely / "only").mkdir(parents=True)
    with pytest.raises(DataError, match=r"found 1 class folder"):
        load_custom_dataset(lonely)


def test_the_imagenet_networks_take_colour_images_as_they_are():
    from pipelines.deep._architectures import vgg16

    colour = vgg16((16, 12, 3), 3)
    grey = vgg16((28, 28, 1), 3)
    assert colour.output_shape == grey.output_shape == (None, 3)
    assert "grey_to_rgb" not in [layer.name for layer in colour.layers]
    assert "grey_to_rgb" in [layer.name for layer in grey.layers]


def test_an_npz_and_a_folder_run_end_to_end_through_the_api(tmp_path):
    from benchmarks.api import run

    npz = write_npz(tmp_path / "strokes.npz")
    folder = write_folder(tmp_path / "shapes")
    for dataset, name, options in ((npz, "strokes", {}),
                                   (folder, "shapes", {"image_size": (16, 16)})):
        results = run(["raw-knn", "hog-knn"], dataset=dataset, profile="smoke",
                      results_dir=tmp_path / "results", progress=False, **options)
        assert results.store.location.dataset == name
        assert set(results.leaderboard["pipeline"]) == {"raw-knn", "hog-knn"}
        assert (results.leaderboard["test acc %"] > 60).all()
        assert (tmp_path / "results" / name / "smoke" / "LEADERBOARD.html").exists()
