"""Properties of own data (issue 33 C): whatever bytes an .npz or image folder holds, and
whatever arrays are passed, loading either gives a Dataset (that a standard split then cuts
or refuses) or raises the project's one-line error: never another exception, never a line
that tells the user to allow pickles."""

from __future__ import annotations

import io
import tempfile
import zipfile
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from benchmarks.data.custom_data import NPZ_KEYS, dataset_from_arrays, load_custom_dataset
from benchmarks.data.splits import make_split
from benchmarks.errors import FashionbenchError

PROPERTIES = settings(deadline=None, max_examples=40, derandomize=True,
                      suppress_health_check=[HealthCheck.too_slow,
                                             HealthCheck.data_too_large])


def loads_or_says_one_line(load) -> None:
    """The invariant: ``load()`` returns a dataset that a split cuts, or a one-line
    FashionbenchError; anything else (a traceback) fails the property."""
    try:
        dataset = load()
        make_split("standard", dataset)
    except FashionbenchError as error:
        text = str(error)
        assert text and "\n" not in text, text
        assert "allow_pickle" not in text and "pickle=" not in text, text


def npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=array.dtype.kind == "O")
    return buffer.getvalue()


DTYPES = st.sampled_from(["uint8", "int8", "int64", "uint64", "float32", "float64", "bool",
                          "complex64", "<U2", "object"])


@st.composite
def arrays(draw, max_dims: int = 4) -> np.ndarray:
    dtype = np.dtype(draw(DTYPES))
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=max_dims, min_side=0, max_side=5))
    if dtype.kind == "O":
        return np.array(draw(st.lists(st.one_of(st.integers(), st.text(max_size=2)),
                                      max_size=4)), dtype=object)
    return draw(hnp.arrays(dtype, shape))


MEMBER = st.one_of(arrays().map(npy), st.binary(max_size=64),
                   arrays().map(npy).flatmap(lambda raw: st.integers(0, len(raw)).map(
                       lambda cut: raw[:cut])))


@PROPERTIES
@given(content=st.binary(max_size=256))
def test_any_bytes_named_npz_load_or_give_one_line(content):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "data.npz"
        path.write_bytes(content)
        loads_or_says_one_line(lambda: load_custom_dataset(path))


@PROPERTIES
@given(members=st.dictionaries(st.sampled_from([*NPZ_KEYS, "class_names", "other"]), MEMBER,
                               max_size=6),
       compressed=st.booleans(), cut=st.one_of(st.none(), st.integers(0, 400)))
def test_any_zip_of_members_loads_or_gives_one_line(members, compressed, cut):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "data.npz"
        method = zipfile.ZIP_DEFLATED if compressed else zipfile.ZIP_STORED
        with zipfile.ZipFile(path, "w", method) as archive:
            for key, raw in members.items():
                archive.writestr(f"{key}.npy", raw)
        if cut is not None:
            path.write_bytes(path.read_bytes()[:cut])
        loads_or_says_one_line(lambda: load_custom_dataset(path))


def labels(count: int):
    return st.one_of(hnp.arrays(np.int64, count, elements=st.integers(0, 3)),
                     hnp.arrays(np.int64, count, elements=st.integers(-1, 10**12)),
                     hnp.arrays("<U1", count, elements=st.sampled_from("abc")), arrays(2))


def images(count: int):
    """Pixels of a kind the loader takes, mostly in its range, now and then not (NaN, 300)."""
    pixels = st.sampled_from(["uint8", "int16", "float32"])
    elements = {"uint8": st.integers(0, 255),
                "int16": st.one_of(st.integers(0, 255), st.sampled_from([-2, 300])),
                "float32": st.one_of(st.floats(0, 1, width=32),
                                     st.sampled_from([float("nan"), float("inf"), 1.5]))}
    return pixels.flatmap(lambda kind: hnp.arrays(kind, (count, 3, 3),
                                                  elements=elements[kind]))


@st.composite
def own_arrays(draw) -> dict:
    """Mostly well-formed arrays with one or two things wrong."""
    train, test = draw(st.integers(1, 8)), draw(st.integers(1, 8))
    given = {"x_train": draw(images(train)), "y_train": draw(labels(train)),
             "x_test": draw(images(test)), "y_test": draw(labels(test)),
             "class_names": draw(st.one_of(st.none(), st.lists(st.text(max_size=3),
                                                               max_size=5)))}
    for key in draw(st.lists(st.sampled_from(sorted(given)), max_size=2)):
        given[key] = draw(st.one_of(
            arrays(), st.integers(), st.text(max_size=3),
            st.lists(st.lists(st.integers(0, 9), max_size=3), min_size=2, max_size=3),
            st.lists(st.one_of(st.integers(0, 3), st.text("ab", max_size=1)), min_size=1,
                     max_size=train).map(lambda values: np.array(values, dtype=object))))
    return given


@PROPERTIES
@given(given=own_arrays())
def test_any_arrays_load_or_give_one_line(given):
    loads_or_says_one_line(lambda: dataset_from_arrays(**given))


IMAGE_MODES = st.sampled_from(["L", "RGB", "RGBA", "P", "1", "I", "F", "LA", "CMYK"])


@st.composite
def image_files(draw) -> bytes:
    """A tiny image of a random size, mode and format, or garbage, or a cut image."""
    from PIL import Image

    kind = draw(st.sampled_from(["image", "image", "garbage", "cut"]))
    if kind == "garbage":
        return draw(st.binary(max_size=40))
    mode = draw(IMAGE_MODES)
    size = (draw(st.integers(1, 6)), draw(st.integers(1, 6)))
    image = Image.new(mode, size)
    image.putdata([draw(st.integers(0, 255))] * (size[0] * size[1]))
    buffer = io.BytesIO()
    fmt = draw(st.sampled_from(["PNG", "BMP", "GIF", "JPEG"]))
    try:
        image.save(buffer, fmt)
    except (OSError, ValueError, KeyError):  # a mode the format cannot store
        image.convert("RGB").save(buffer, "PNG")
    raw = buffer.getvalue()
    return raw[: draw(st.integers(0, len(raw)))] if kind == "cut" else raw


@PROPERTIES
@given(classes=st.lists(st.lists(image_files(), max_size=4), min_size=0, max_size=3),
       size=st.tuples(st.integers(1, 8), st.integers(1, 8)), color=st.sampled_from(["gray",
                                                                                   "rgb"]))
def test_any_folder_of_images_loads_or_gives_one_line(classes, size, color):
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder) / "images"
        root.mkdir()
        for number, files in enumerate(classes):
            (root / f"class{number}").mkdir()
            for index, raw in enumerate(files):
                (root / f"class{number}" / f"{index}.png").write_bytes(raw)
        loads_or_says_one_line(lambda: load_custom_dataset(root, image_size=size, color=color))
