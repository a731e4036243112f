"""Broken own data (issue 33 C): every bad .npz file or array is one DataError line naming
the file or argument and the fix, never another exception, never numpy's hint to load
pickles (unpickling an untrusted file runs its code)."""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pytest

from benchmarks.data.custom_data import dataset_from_arrays, load_custom_dataset
from benchmarks.errors import DataError

X = np.zeros((6, 4, 4), np.uint8)
Y = np.arange(6) % 2


def good_npz(path):
    np.savez(path, x_train=X, y_train=Y, x_test=X, y_test=Y)
    return path


def npy_bytes(array) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def one_line(error: pytest.ExceptionInfo, *names: str) -> str:
    text = str(error.value)
    assert "\n" not in text and "pickle=" not in text and "allow_pickle" not in text, text
    for name in names:
        assert name in text, text
    return text


def truncated(path):
    raw = good_npz(path).read_bytes()
    path.write_bytes(raw[:len(raw) // 2])


def bad_crc(path):
    raw = bytearray(good_npz(path).read_bytes())
    raw[raw.find(b"\x93NUMPY") + 130] ^= 0xFF  # a payload byte: the member's CRC-32 fails
    path.write_bytes(bytes(raw))


def bad_deflate(path):
    rng = np.random.default_rng(0)
    np.savez_compressed(path, x_train=rng.integers(0, 255, (50, 8, 8), dtype=np.uint8),
                        y_train=np.arange(50) % 2, x_test=X, y_test=Y)
    raw = bytearray(path.read_bytes())
    raw[100:140] = bytes(40)
    path.write_bytes(bytes(raw))


def short_member(path):
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("x_train.npy", npy_bytes(np.zeros((100, 4, 4), np.uint8))[:-50])
        for key in ("y_train", "x_test", "y_test"):
            archive.writestr(f"{key}.npy", npy_bytes(Y))


def object_array(path):
    np.savez(path, x_train=np.array([1, "a"], dtype=object), y_train=Y, x_test=X, y_test=Y)


BROKEN_NPZ = {
    "empty file": (lambda path: path.write_bytes(b""), "not an .npz (zip) archive"),
    "not a zip": (lambda path: path.write_bytes(b"hello, not a zip"), "not an .npz (zip)"),
    "pickle magic": (lambda path: path.write_bytes(b"\x80\x04K\x01."), "not an .npz (zip)"),
    "truncated": (truncated, "not an .npz (zip) archive"),
    "bad crc": (bad_crc, "corrupt or truncated .npz"),
    "bad deflate": (bad_deflate, "corrupt or truncated .npz"),
    "short member": (short_member, "corrupt or truncated .npz"),
    "object array": (object_array, "x_train is an object array"),
}


@pytest.mark.parametrize("case", sorted(BROKEN_NPZ))
def test_a_broken_npz_is_one_line_naming_the_file(tmp_path, case):
    make, message = BROKEN_NPZ[case]
    path = tmp_path / "broken.npz"
    make(path)
    with pytest.raises(DataError) as error:
        load_custom_dataset(path)
    one_line(error, str(path), message, "numpy.savez" if "object" not in case else "save")


def test_an_npz_declaring_more_than_the_cap_is_refused_unread(tmp_path, monkeypatch):
    from benchmarks.data import custom_data

    monkeypatch.setattr(custom_data, "MAX_NPZ_BYTES", 64)
    path = good_npz(tmp_path / "large.npz")
    with pytest.raises(DataError) as error:
        load_custom_dataset(path)
    one_line(error, str(path), "uncompressed, more than")


BAD_ARRAYS = {
    "ragged images": (dict(x_train=[[[1, 2], [3]]]), "x_train is not one rectangular array"),
    "ragged list": (dict(x_train=[np.zeros((2, 2)), np.zeros((3, 3))]),
                    "x_train is not one rectangular array"),
    "ragged labels": (dict(y_train=[[0], [1, 2]]), "y_train is not one rectangular array"),
    "zero-width images": (dict(x_train=np.zeros((6, 0, 4))), "x_train images are 0 x 4"),
    "mixed labels": (dict(y_train=np.array([1, "a", 2, "b", 1, "a"], dtype=object)),
                     "y_train mixes strings"),
    "absurd label": (dict(y_train=np.array([0, 1, 0, 1, 0, 10**12])),
                     "label 1000000000000 but only 6 training images"),
    "class names a number": (dict(class_names=5), "class_names is int"),
    "class names a string": (dict(class_names="ab"), "class_names is str"),
    "repeated class names": (dict(class_names=["a", "a"]), "class_names repeats 'a'"),
    "NaN pixels": (dict(x_train=np.full((6, 4, 4), np.nan)), "(or NaN)"),
    "label out of range": (dict(y_test=np.full(6, 2), class_names=["a", "b"]),
                           "label 2 is out of range"),
    "lengths": (dict(y_train=Y[:3]), "x_train has 6 images but y_train has 3"),
}


@pytest.mark.parametrize("case", sorted(BAD_ARRAYS))
def test_bad_arrays_are_one_line_naming_the_argument(case):
    changes, message = BAD_ARRAYS[case]
    arrays = dict(x_train=X, y_train=Y, x_test=X, y_test=Y) | changes
    with pytest.raises(DataError) as error:
        dataset_from_arrays(**arrays, source="arrays 'mine'")
    one_line(error, "arrays 'mine'", message)
