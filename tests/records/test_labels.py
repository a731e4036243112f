"""Stored labels: compressed, read in both forms, and never inflated without a bound."""

import base64
import zlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from benchmarks.records.labels import decode_labels, encode_labels, label_bytes


@settings(deadline=None, max_examples=50)
@given(st.lists(st.integers(0, 255), max_size=3000))
def test_labels_round_trip(labels):
    assert decode_labels(encode_labels(np.array(labels))).tolist() == labels


def test_stores_written_before_compression_still_read():
    labels = np.arange(10, dtype=np.uint8).repeat(3)
    plain = base64.b64encode(labels.tobytes()).decode()
    assert decode_labels(plain).tolist() == labels.tolist()


def test_ten_classes_keep_about_half_the_plain_size():
    labels = np.random.default_rng(0).integers(0, 10, 10_000)
    assert len(encode_labels(labels)) < 0.55 * len(base64.b64encode(labels.astype(np.uint8)))


@pytest.mark.parametrize("text", ["z:" + base64.b64encode(b"not zlib").decode(),
                                  "z:" + base64.b64encode(zlib.compress(b"\0" * 101)).decode(),
                                  "z:" + base64.b64encode(zlib.compress(b"\0" * 50)[:-3]).decode(),
                                  "not base64!"])
def test_a_bomb_a_cut_or_garbage_is_a_value_error(text):
    with pytest.raises(ValueError):
        label_bytes(text, limit=100)
