import gzip

import numpy as np
import pytest

from benchmarks.data.idx import IMAGES_MAGIC, LABELS_MAGIC, encode_idx, parse_idx, read_idx
from benchmarks.errors import DataError
from tests.conftest import requires_genuine_data


def test_header_of_a_hand_written_file():
    # magic 0x00000803 = 2051, three dimensions 2 x 2 x 3, then 12 payload bytes
    content = bytes([0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 3]) + bytes(range(12))
    array = parse_idx(content, source="hand", expect_magic=IMAGES_MAGIC)
    assert array.shape == (2, 2, 3)
    assert array.dtype == np.uint8
    assert array[1, 1, 2] == 11


@pytest.mark.parametrize("compress", [False, True])
def test_round_trip_raw_and_gzip(tmp_path, compress):
    images = np.random.default_rng(0).integers(0, 256, size=(5, 4, 3), dtype=np.uint8)
    data = encode_idx(images)
    path = tmp_path / ("images.gz" if compress else "images")
    path.write_bytes(gzip.compress(data) if compress else data)
    np.testing.assert_array_equal(read_idx(path, expect_magic=IMAGES_MAGIC), images)


def test_wider_types_are_big_endian_on_disk():
    values = np.array([1, -2, 300], dtype=np.int32)
    content = encode_idx(values)
    assert content[2] == 0x0C
    assert content[4:8] == (3).to_bytes(4, "big")
    assert content[8:12] == (1).to_bytes(4, "big")
    np.testing.assert_array_equal(parse_idx(content, source="x"), values)


def test_truncated_file_names_the_file(tmp_path):
    path = tmp_path / "train-images-idx3-ubyte"
    path.write_bytes(encode_idx(np.zeros((10, 28, 28), np.uint8))[:-100])
    with pytest.raises(DataError, match=r"train-images-idx3-ubyte: truncated.*7840.*7740"):
        read_idx(path)


def test_truncated_gzip_names_the_file(tmp_path):
    path = tmp_path / "labels.gz"
    path.write_bytes(gzip.compress(encode_idx(np.arange(1000, dtype=np.uint8) % 10))[:-30])
    with pytest.raises(DataError, match=r"labels\.gz: corrupt or truncated gzip"):
        read_idx(path)


def test_wrong_magic_is_rejected(tmp_path):
    path = tmp_path / "labels"
    path.write_bytes(encode_idx(np.zeros((3, 2), np.uint8)))  # magic 2050
    with pytest.raises(DataError, match=r"labels: IDX magic 2050, expected 2049"):
        read_idx(path, expect_magic=LABELS_MAGIC)


def test_not_an_idx_file(tmp_path):
    path = tmp_path / "page.html"
    path.write_bytes(b"<html>not found</html>")
    with pytest.raises(DataError, match="not an IDX file"):
        read_idx(path)


def test_trailing_bytes_are_rejected():
    content = encode_idx(np.zeros(4, np.uint8)) + b"\x00"
    with pytest.raises(DataError, match="longer than its header says"):
        parse_idx(content, source="extra")


@requires_genuine_data
def test_genuine_files(fashion):
    assert fashion.train_images.shape == (60_000, 28, 28)
    assert fashion.test_images.shape == (10_000, 28, 28)
    assert fashion.train_images.dtype == np.uint8
    assert np.bincount(fashion.train_labels).tolist() == [6000] * 10
    assert np.bincount(fashion.test_labels).tolist() == [1000] * 10
    # the first training image is an ankle boot (label 9), as in the official files
    assert fashion.train_labels[0] == 9
