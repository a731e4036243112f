"""Stored labels: a record's test predictions and true labels as text in its JSON line.

One byte a label, zlib-compressed, in base64 behind a ``z:`` mark; stores written before the
mark hold plain base64. The true labels are stored as their difference from the predictions
(modulo 256), behind a ``d:`` mark: a right prediction is a zero, so a 94%-accurate record's
truth takes a sixth of the bytes, and each record still holds everything its figures and
significance tests need. Stores written before that mark hold the true labels themselves;
every form is read. Apart from ``record`` so that ``check``, which validates records for
it, can decode them too.
"""

from __future__ import annotations

import base64
import zlib

import numpy as np

# what a record's "encoding" says of its labels (informational: the marks decide how to read)
LABELS_ENCODING = "uint8-zlib-base64; test_true minus test, modulo 256"
COMPRESSED = "z:"  # before zlib-compressed labels; stores written before it hold plain base64
DIFFERENCE = "d:"  # before true labels stored as their difference from the predictions


def encode_labels(labels: np.ndarray) -> str:
    """Labels as one byte each, zlib-compressed, in base64: every record keeps its test
    predictions and the true labels, and 10 classes compress to under half (the committed
    stores must travel to a GPU machine with the data, 64 MiB in all)."""
    return COMPRESSED + _packed(np.asarray(labels, dtype=np.uint8).tobytes())


def _packed(raw: bytes) -> str:
    return base64.b64encode(zlib.compress(raw, 9)).decode("ascii")


def encode_predictions(predicted: np.ndarray, truth: np.ndarray) -> dict[str, str]:
    """A record's ``predictions``: the predicted test labels, and the true ones as their
    difference from them (a right prediction is a zero byte)."""
    predicted = np.asarray(predicted, dtype=np.uint8)
    difference = np.asarray(truth, dtype=np.uint8) - predicted  # uint8: wraps modulo 256
    return {"encoding": LABELS_ENCODING, "test": encode_labels(predicted),
            "test_true": DIFFERENCE + _packed(difference.tobytes())}


def label_bytes(text: str, limit: int = 1 << 26) -> bytes:
    """The stored labels, one byte each, from either form; ValueError for text that is
    neither (or a difference), or that would inflate past ``limit`` bytes (a record is
    untrusted input)."""
    if text.startswith(DIFFERENCE):
        raise ValueError("true labels stored as their difference from the predictions "
                         "(read them with truth_bytes)")
    if not text.startswith(COMPRESSED):
        return base64.b64decode(text, validate=True)
    return _unpacked(text[len(COMPRESSED):], limit)


def _unpacked(text: str, limit: int) -> bytes:
    inflater = zlib.decompressobj()
    try:
        raw = inflater.decompress(base64.b64decode(text, validate=True), limit)
    except zlib.error as error:
        raise ValueError(f"not zlib data ({error})") from None
    if inflater.unconsumed_tail or not inflater.eof:
        raise ValueError(f"cut short, or more than {limit} labels")
    return raw


def truth_bytes(text: str, predicted: bytes, limit: int = 1 << 26) -> bytes:
    """The stored true labels, one byte each, from any form: ``predicted`` (the record's
    predictions, as ``label_bytes`` gives them) is what a difference is added to."""
    if not text.startswith(DIFFERENCE):
        return label_bytes(text, limit)
    difference = np.frombuffer(_unpacked(text[len(DIFFERENCE):], limit), dtype=np.uint8)
    if len(difference) != len(predicted):
        raise ValueError(f"{len(difference)} differences for {len(predicted)} predictions")
    return (np.frombuffer(predicted, dtype=np.uint8) + difference).tobytes()


def decode_labels(text: str) -> np.ndarray:
    return np.frombuffer(label_bytes(text), dtype=np.uint8).astype(np.int64)


def stored_labels(predictions: dict | None) -> tuple[np.ndarray, np.ndarray] | None:
    """A record's test labels as (true, predicted), or None where it keeps no predictions
    or not their true labels."""
    predictions = predictions or {}
    if "test" not in predictions or "test_true" not in predictions:
        return None
    predicted = label_bytes(predictions["test"])
    truth = truth_bytes(predictions["test_true"], predicted)
    return (np.frombuffer(truth, dtype=np.uint8).astype(np.int64),
            np.frombuffer(predicted, dtype=np.uint8).astype(np.int64))
