"""Stored labels: compressed, the truth as its difference from the predictions, read in
every form, and never inflated without a bound."""

import base64
import zlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from benchmarks.records.labels import (
    decode_labels,
    encode_labels,
    encode_predictions,
    label_bytes,
    stored_labels,
)


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


@settings(deadline=None, max_examples=50)
@given(st.lists(st.tuples(st.integers(0, 255), st.integers(0, 255)), max_size=3000))
def test_true_and_predicted_labels_round_trip(pairs):
    truth, predicted = (np.array([pair[index] for pair in pairs], dtype=np.int64)
                        for index in (0, 1))
    decoded = stored_labels(encode_predictions(predicted, truth))
    assert decoded[0].tolist() == truth.tolist() and decoded[1].tolist() == predicted.tolist()


def test_the_truth_of_an_accurate_record_takes_a_fraction_of_its_own_size():
    rng = np.random.default_rng(0)
    truth = rng.integers(0, 10, 10_000)
    predicted = np.where(rng.random(10_000) < 0.94, truth, rng.integers(0, 10, 10_000))
    stored = encode_predictions(predicted, truth)["test_true"]
    assert len(stored) < 0.3 * len(encode_labels(truth))
    with pytest.raises(ValueError, match="difference"):  # never misread as labels
        label_bytes(stored)


def test_records_written_with_the_truth_itself_still_read():
    truth, predicted = np.array([3, 1, 4, 1, 5]), np.array([3, 1, 4, 0, 5])
    old = {"test": encode_labels(predicted), "test_true": encode_labels(truth)}
    assert [labels.tolist() for labels in stored_labels(old)] == [truth.tolist(),
                                                                    predicted.tolist()]
    assert stored_labels({"test": old["test"]}) is None and stored_labels(None) is None
