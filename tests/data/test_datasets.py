import numpy as np
import pytest

from benchmarks.data.datasets import FASHION_MNIST, data_root, find_files, load_dataset
from benchmarks.errors import DataError, UnknownNameError


def test_digits_is_uint8_with_a_fixed_test_part(digits):
    assert digits.train_images.dtype == np.uint8 and digits.train_images.shape[1:] == (8, 8)
    assert digits.train_images.max() == 255
    assert len(digits.train_labels) + len(digits.test_labels) == 1797
    assert digits.class_names == tuple("0123456789")
    np.testing.assert_array_equal(load_dataset("digits").test_labels, digits.test_labels)


def test_unknown_dataset_suggests():
    with pytest.raises(UnknownNameError, match="did you mean fashion-mnist"):
        load_dataset("fashion_mnist")


def test_data_root_precedence(monkeypatch, tmp_path):
    monkeypatch.setenv("FASHIONBENCH_DATA_DIR", str(tmp_path / "env"))
    assert data_root(tmp_path / "explicit") == tmp_path / "explicit"
    assert data_root() == tmp_path / "env"
    monkeypatch.delenv("FASHIONBENCH_DATA_DIR")
    assert "fashionbench" in str(data_root())


def test_folder_named_after_dataset_is_used_directly(tmp_path):
    named = tmp_path / "fashion-mnist"
    assert find_files(FASHION_MNIST, named) == named
    assert find_files(FASHION_MNIST, tmp_path / "data") == tmp_path / "data" / "fashion-mnist"
    for remote in FASHION_MNIST.files.values():
        (tmp_path / "flat" / remote.raw_name).parent.mkdir(exist_ok=True)
        (tmp_path / "flat" / remote.raw_name).write_bytes(b"")
    assert find_files(FASHION_MNIST, tmp_path / "flat") == tmp_path / "flat"


def test_missing_files_without_download_name_the_path(tmp_path):
    with pytest.raises(DataError, match=str(tmp_path / "fashion-mnist")):
        load_dataset("fashion-mnist", tmp_path, download=False)
