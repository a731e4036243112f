"""Reading a folder of class folders of images into arrays, within bounds.

Every image is opened with Pillow and its declared size checked before its pixels are decoded,
so a decompression bomb (a small file that declares a vast image) is refused, not inflated;
the whole folder's converted size is checked before any image is read. Any file Pillow cannot
read is one DataError naming it.
"""

from __future__ import annotations

import re
import struct
import warnings
from pathlib import Path

import numpy as np

from ..errors import DataError

IMAGE_SUFFIXES = (".bmp", ".gif", ".jpeg", ".jpg", ".png")  # image_dataset_from_directory's
COLOR_MODES = {"gray": "L", "rgb": "RGB"}
# a 50-megapixel photograph still loads; Pillow's own bomb threshold (89 megapixels, an
# error past twice that) is higher, and would let a few such files exhaust memory first
MAX_IMAGE_PIXELS = 50_000_000
# what the converted images of one folder may take in memory (Fashion-MNIST's: 55 MB)
MAX_FOLDER_BYTES = 4 << 30


def class_folders(root: Path) -> list[str]:
    classes = sorted(entry.name for entry in root.iterdir()
                     if entry.is_dir() and not entry.name.startswith("."))
    if len(classes) < 2:
        raise DataError(f"{root}: found {len(classes)} class folder(s); a folder dataset needs "
                        f"one sub-folder of images per class, at least 2")
    return classes


def image_files(root: Path, classes: list[str], present: list[str] | None = None
                ) -> list[tuple[int, Path]]:
    """(label, file) of every image under ``root``'s class folders (those ``present``)."""
    found = []
    for label, name in enumerate(classes):
        if present is not None and name not in present:
            continue
        files = sorted(path for path in (root / name).iterdir()
                       if path.suffix.lower() in IMAGE_SUFFIXES and not path.name.startswith("."))
        if not files:
            raise DataError(f"{root / name}: no images ({', '.join(IMAGE_SUFFIXES)}) in this "
                            f"class folder; add some or remove the folder")
        found += [(label, file) for file in files]
    return found


def check_folder_size(root: Path, count: int, size: tuple[int, int], color: str) -> None:
    """Refuse, before reading any, images whose converted arrays would not fit the cap."""
    channels = 3 if color == "rgb" else 1
    total = count * size[0] * size[1] * channels
    if total > MAX_FOLDER_BYTES:
        raise DataError(f"{root}: {count:,} images at {size[0]} x {size[1]} ({color}) take "
                        f"{total / 2**30:,.1f} GiB, more than the {MAX_FOLDER_BYTES >> 30} GiB "
                        f"this harness loads; give a smaller --image-size or fewer images")


def read_images(root: Path, classes: list[str], size: tuple[int, int], color: str,
                present: list[str] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The images of ``root``'s class folders, converted to ``size`` (height, width) and
    ``color``, with their labels (the class's position in ``classes``)."""
    files = image_files(root, classes, present)
    check_folder_size(root, len(files), size, color)
    images = np.empty((len(files), *size) + ((3,) if color == "rgb" else ()), np.uint8)
    for position, (_, file) in enumerate(files):
        images[position] = read_image(file, size, color)
    return images, np.asarray([label for label, _ in files], dtype=np.int64)


def read_image(file: Path, size: tuple[int, int], color: str) -> np.ndarray:
    """One image, converted; its declared size is checked before its pixels are decoded."""
    from PIL import Image

    height, width = size
    try:
        with warnings.catch_warnings():
            # Pillow warns of a likely bomb, then decodes it anyway: here it is refused
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(file) as image:
                columns, rows = image.size
                if columns * rows > MAX_IMAGE_PIXELS:
                    raise _too_large(file, f"{columns:,} x {rows:,} pixels")
                converted = image.convert(COLOR_MODES[color]).resize(
                    (width, height), Image.Resampling.BILINEAR)
                return np.asarray(converted, dtype=np.uint8)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        # Pillow refused it at open, before its size could be read here: its message has it
        count = re.search(r"(\d+) pixels", str(error))
        raise _too_large(file, f"{int(count[1]):,} pixels" if count else "an image") from None
    except (OSError, SyntaxError, ValueError, EOFError, struct.error, MemoryError) as error:
        # Pillow's decoders raise any of these on a broken file (UnidentifiedImageError is
        # an OSError)
        cause = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise DataError(f"{file}: not a readable image ({cause}); remove or replace it") \
            from None


def _too_large(file: Path, declared: str) -> DataError:
    return DataError(f"{file}: declares {declared}, more than the "
                     f"{MAX_IMAGE_PIXELS // 1_000_000} megapixels this harness decodes (a "
                     f"decompression bomb, or a photo far larger than needed); shrink or "
                     f"remove it")
