"""Reader for the IDX file format of MNIST and Fashion-MNIST, gzip-compressed or raw.

The format: two zero bytes, a type code, the number of dimensions, then one big-endian
uint32 per dimension, then the payload in C order. Images use magic 2051 (uint8, 3 dims),
labels 2049 (uint8, 1 dim). The reader validates every part of that against the file's
actual length, so a truncated or corrupt download is caught here, with the file's name.
"""

from __future__ import annotations

import zlib
from pathlib import Path

import numpy as np

from ..errors import DataError

GZIP_MAGIC = b"\x1f\x8b"
IDX_TYPES: dict[int, np.dtype] = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
IMAGES_MAGIC = 2051
LABELS_MAGIC = 2049


# far above any IDX file of this shape (Fashion-MNIST's training images: 47 MB), far below
# what a gzip bomb inflates to: past it, decompression stops and the file is refused
MAX_DECOMPRESSED_BYTES = 1 << 30


def unwrap(raw: bytes, *, source: str, limit: int = MAX_DECOMPRESSED_BYTES) -> bytes:
    """Decompress ``raw`` when it is gzip, never past ``limit`` bytes; a broken gzip stream,
    or one that inflates past the limit (a decompression bomb), is a DataError naming
    ``source``."""
    if not raw.startswith(GZIP_MAGIC):
        return raw
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)  # gzip framing
    try:
        content = inflater.decompress(raw, limit + 1)
    except zlib.error as error:
        raise DataError(f"{source}: corrupt or truncated gzip data ({error})") from None
    if len(content) > limit:
        raise DataError(f"{source}: decompresses to more than {limit >> 20} MiB, far more than "
                        f"an image file of this kind; not the file expected, replace it")
    if not inflater.eof:
        raise DataError(f"{source}: corrupt or truncated gzip data (the stream ends early)")
    return content


def read_bytes(path: Path) -> bytes:
    """The file's content, decompressed when it is gzip."""
    return unwrap(Path(path).read_bytes(), source=str(path))


def parse_idx(content: bytes, *, source: str, expect_magic: int | None = None) -> np.ndarray:
    """Parse IDX bytes into an array; ``source`` names the file in error messages."""
    if len(content) < 4:
        raise DataError(f"{source}: too short for an IDX header ({len(content)} bytes)")
    if content[0] != 0 or content[1] != 0 or content[2] not in IDX_TYPES:
        raise DataError(f"{source}: not an IDX file (bad magic {content[:4].hex()})")
    magic = int.from_bytes(content[:4], "big")
    if expect_magic is not None and magic != expect_magic:
        raise DataError(f"{source}: IDX magic {magic}, expected {expect_magic}")
    dtype = IDX_TYPES[content[2]]
    ndim = content[3]
    header_length = 4 + 4 * ndim
    if ndim == 0 or len(content) < header_length:
        raise DataError(f"{source}: truncated IDX header ({ndim} dimensions)")
    shape = tuple(
        int.from_bytes(content[4 + 4 * axis : 8 + 4 * axis], "big") for axis in range(ndim)
    )
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    actual = len(content) - header_length
    if actual != expected:
        state = "truncated" if actual < expected else "longer than its header says"
        raise DataError(
            f"{source}: {state}: header {shape} needs {expected} payload bytes, file has {actual}"
        )
    array = np.frombuffer(content, dtype=dtype, offset=header_length).reshape(shape)
    return array.astype(dtype.newbyteorder("="), copy=False)


def read_idx(path: Path, *, expect_magic: int | None = None) -> np.ndarray:
    """Read an IDX file (``.gz`` or raw) into a native-endian array."""
    return parse_idx(read_bytes(path), source=str(path), expect_magic=expect_magic)


def encode_idx(array: np.ndarray) -> bytes:
    """IDX bytes for an array; used to make test files and synthetic datasets."""
    array = np.asarray(array)
    codes = {np.dtype(dtype).newbyteorder("="): code for code, dtype in IDX_TYPES.items()}
    code = codes.get(array.dtype.newbyteorder("="))
    if code is None:
        raise ValueError(f"IDX has no type code for {array.dtype}")
    big_endian = array.astype(IDX_TYPES[code], copy=False)
    header = bytes([0, 0, code, array.ndim]) + b"".join(
        int(size).to_bytes(4, "big") for size in array.shape
    )
    return header + np.ascontiguousarray(big_endian).tobytes()
