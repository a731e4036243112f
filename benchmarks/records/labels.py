"""Stored labels: a record's test predictions and true labels as text in its JSON line.

One byte a label, zlib-compressed, in base64 behind a ``z:`` mark; stores written before the
mark hold plain base64, and both are read. Apart from ``record`` so that ``check``, which
validates records for it, can decode them too.
"""

from __future__ import annotations

import base64
import zlib

import numpy as np

LABELS_ENCODING = "uint8-zlib-base64"
COMPRESSED = "z:"  # before zlib-compressed labels; stores written before it hold plain base64


def encode_labels(labels: np.ndarray) -> str:
    """Labels as one byte each, zlib-compressed, in base64: every record keeps its test
    predictions and the true labels, and 10 classes compress to under half (the committed
    stores must travel to a GPU machine with the data, 64 MiB in all)."""
    raw = np.asarray(labels, dtype=np.uint8).tobytes()
    return COMPRESSED + base64.b64encode(zlib.compress(raw, 9)).decode("ascii")


def label_bytes(text: str, limit: int = 1 << 26) -> bytes:
    """The stored labels, one byte each, from either form; ValueError for text that is
    neither, or that would inflate past ``limit`` bytes (a record is untrusted input)."""
    if not text.startswith(COMPRESSED):
        return base64.b64decode(text, validate=True)
    inflater = zlib.decompressobj()
    try:
        raw = inflater.decompress(base64.b64decode(text[len(COMPRESSED):], validate=True),
                                  limit)
    except zlib.error as error:
        raise ValueError(f"not zlib data ({error})") from None
    if inflater.unconsumed_tail or not inflater.eof:
        raise ValueError(f"cut short, or more than {limit} labels")
    return raw


def decode_labels(text: str) -> np.ndarray:
    return np.frombuffer(label_bytes(text), dtype=np.uint8).astype(np.int64)
