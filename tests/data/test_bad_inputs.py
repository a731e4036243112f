"""Broken own data (issue 33 C): every bad .npz file or array is one DataError line naming
the file or argument and the fix, never another exception, never numpy's hint to load
pickles (unpickling an untrusted file runs its code)."""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pytest

from benchmarks.data.custom_data import dataset_from_arrays, load_custom_dataset
from benchmarks.data.splits import SplitError
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
    "short member": (short_member, "x_train.npy declares a (100, 4, 4) array of 1,728 bytes"),
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


def png_declaring(width: int, height: int, pixels: bytes | None = None) -> bytes:
    """A grayscale PNG whose header declares ``width`` x ``height``; its data is the deflated
    ``pixels`` (rows of a filter byte then the pixels: a real bomb when all zeros), or a
    token that no reader reaches before refusing the size."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(pixels if pixels is not None else b"\0"))
            + chunk(b"IEND", b""))


def folder_of_pngs(root, per_class: int = 3, size: tuple[int, int] = (6, 5)):
    from PIL import Image

    for name in ("a", "b"):
        (root / name).mkdir(parents=True)
        for index in range(per_class):
            Image.new("L", size, 40 * index).save(root / name / f"{index}.png")
    return root


@pytest.mark.parametrize("side", [7_500, 10_000, 20_000, 100_000])
def test_an_image_declaring_too_many_pixels_is_refused_before_decoding(tmp_path, side):
    """7,500^2: past this harness's 50 MP cap; 10,000^2: Pillow's bomb warning; 20,000^2 and
    up: Pillow's bomb error. Each one line naming the file, and no pixel decoded."""
    root = folder_of_pngs(tmp_path / "folder")
    bomb = root / "a" / "bomb.png"
    bomb.write_bytes(png_declaring(side, side))
    with pytest.raises(DataError) as error:
        load_custom_dataset(root)
    text = one_line(error, str(bomb), "megapixels this harness decodes", "shrink or remove it")
    assert f"{side:,} x {side:,} pixels" in text or f"{side * side:,} pixels" in text, text


def test_a_real_decompression_bomb_is_refused_unread(tmp_path):
    side = 8_000  # 64 MB of zero pixels, deflated to about 64 KB
    root = folder_of_pngs(tmp_path / "folder")
    bomb = root / "b" / "zeros.png"
    bomb.write_bytes(png_declaring(side, side, bytes(side * (side + 1))))
    assert bomb.stat().st_size < 200_000
    with pytest.raises(DataError) as error:
        load_custom_dataset(root)
    one_line(error, str(bomb), "8,000 x 8,000 pixels")


def test_a_folder_whose_converted_images_exceed_the_cap_is_refused_before_reading(
        tmp_path, monkeypatch):
    from benchmarks.data import image_folder

    root = folder_of_pngs(tmp_path / "folder")
    monkeypatch.setattr(image_folder, "MAX_FOLDER_BYTES", 6 * 28 * 28 - 1)
    with pytest.raises(DataError) as error:
        load_custom_dataset(root)
    one_line(error, str(root), "6 images at 28 x 28", "smaller --image-size or fewer images")


GARBAGE_IMAGES = {
    "text": b"not an image",
    "empty": b"",
    "png header only": b"\x89PNG\r\n\x1a\n",
    "png without data": png_declaring(4, 4)[:-12],
}


@pytest.mark.parametrize("case", sorted(GARBAGE_IMAGES))
def test_an_unreadable_image_is_one_line_naming_it(tmp_path, case):
    root = folder_of_pngs(tmp_path / "folder")
    broken = root / "a" / "broken.png"
    broken.write_bytes(GARBAGE_IMAGES[case])
    with pytest.raises(DataError) as error:
        load_custom_dataset(root)
    one_line(error, str(broken), "not a readable image")


def test_a_folder_too_small_for_its_stratified_test_fifth_is_one_line(tmp_path):
    """Three classes of two images: the 20% test part (2 images) cannot hold all three."""
    root = folder_of_pngs(tmp_path / "folder", per_class=2)
    folder_of_pngs(tmp_path / "more", per_class=2)
    (tmp_path / "more" / "a").rename(root / "c")
    with pytest.raises(SplitError) as error:
        load_custom_dataset(root)
    one_line(error, str(root), "3 classes", "give train/ and test/ folders")


def test_a_class_of_one_image_is_one_line(tmp_path):
    root = folder_of_pngs(tmp_path / "folder")
    for extra in ("1.png", "2.png"):
        (root / "b" / extra).unlink()
    with pytest.raises(SplitError) as error:
        load_custom_dataset(root)
    one_line(error, str(root), "class 1 has 1 image", "at least 2 of each")


def gzip_bomb(megabytes: int) -> bytes:
    """A gzip file of ``megabytes`` MiB of zeros: about a thousandth of that on disk."""
    import gzip

    return gzip.compress(bytes(megabytes << 20), compresslevel=9)


def dataset_folder_with(tmp_path, spec, first_file: bytes):
    directory = tmp_path / spec.name
    directory.mkdir()
    for position, remote in enumerate(spec.files[role] for role in
                                      ("train_images", "train_labels", "test_images",
                                       "test_labels")):
        (directory / remote.name).write_bytes(first_file if position == 0 else b"")
    return directory


def test_a_gzip_bomb_stops_inflating_at_the_limit():
    from benchmarks.data.idx import unwrap

    with pytest.raises(DataError) as error:
        unwrap(gzip_bomb(16), source="bomb.gz", limit=1 << 20)
    one_line(error, "bomb.gz: decompresses to more than 1 MiB", "replace it")


def test_a_gzip_bomb_without_an_official_content_md5_is_refused_unopened(tmp_path, monkeypatch):
    """MNIST publishes only the .gz files' MD5: a file that fails it is never decompressed."""
    from benchmarks.data import datasets

    opened = []
    monkeypatch.setattr(datasets, "unwrap", lambda *a, **k: opened.append(a) or b"")
    directory = dataset_folder_with(tmp_path, datasets.MNIST, gzip_bomb(16))
    with pytest.raises(DataError) as error:
        datasets.load_dataset("mnist", tmp_path, download=False)
    one_line(error, str(directory / "train-images-idx3-ubyte.gz"), "is not the official")
    assert opened == []


def test_a_gzip_bomb_checked_by_its_content_md5_inflates_only_to_the_limit(tmp_path,
                                                                          monkeypatch):
    """Fashion-MNIST's content MD5 is known too, so a re-compressed file is decompressed to
    check it: never past the limit (here 1 MiB of the 16 the bomb holds)."""
    import functools

    from benchmarks.data import datasets, idx

    monkeypatch.setattr(datasets, "unwrap", functools.partial(idx.unwrap, limit=1 << 20))
    directory = dataset_folder_with(tmp_path, datasets.FASHION_MNIST, gzip_bomb(16))
    with pytest.raises(DataError) as error:
        datasets.load_dataset("fashion-mnist", tmp_path, download=False)
    one_line(error, str(directory / "train-images-idx3-ubyte.gz"),
             "decompresses to more than 1 MiB", "(file MD5 ")


@pytest.mark.parametrize("shape", [(10**12,), (10**9, 28, 28), (2**62,), (100, 4, 4)])
def test_an_npz_member_declaring_more_than_it_holds_is_refused_before_allocation(tmp_path,
                                                                                 shape):
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "|u1", "fortran_order": False,
                                                  "shape": shape})
    path = tmp_path / "forged.npz"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("x_train.npy", header.getvalue() + bytes(100))
        for key in ("y_train", "x_test", "y_test"):
            archive.writestr(f"{key}.npy", npy_bytes(Y))
    with pytest.raises(DataError) as error:
        load_custom_dataset(path)
    one_line(error, str(path), f"x_train.npy declares a {shape} array", "truncated or forged")


@pytest.mark.parametrize("name", ["train-images-idx3-ubyte.gz", "train-images-idx3-ubyte"])
def test_a_dataset_file_larger_than_any_genuine_one_is_refused_unread(tmp_path, name):
    """A sparse 2 GiB file: refused by its size, not read for its MD5 (which would take
    its whole size in memory)."""
    from benchmarks.data import datasets

    directory = dataset_folder_with(tmp_path, datasets.MNIST, b"")
    (directory / "train-images-idx3-ubyte.gz").unlink()
    with open(directory / name, "wb") as huge:
        huge.truncate(2 << 30)
    with pytest.raises(DataError) as error:
        datasets.load_dataset("mnist", tmp_path, download=False)
    one_line(error, str(directory / name), "2.0 GiB, far larger than any", "official file")
