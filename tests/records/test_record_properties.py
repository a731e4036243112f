"""Properties of reading untrusted records: a committed record with one field replaced by
any JSON value (of any type, or a name that is a path) is either a record every reader can
use or a RecordError, never another exception; the store and ``publish`` (the
``--report-only`` path) and ``merge`` never raise on it, write nothing outside the results
directory, and keep every byte already stored."""

from __future__ import annotations

import contextlib
import copy
import json
import tempfile
import warnings
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from benchmarks.merge import merge
from benchmarks.records.record import RecordError, load_record
from benchmarks.reports.publish import publish
from tests.records.test_record_check import committed_record

BASES = (committed_record(with_history=True), committed_record(with_history=False))
PROFILE = settings(deadline=None, derandomize=True, database=None,
                   suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def field_paths(value, prefix=(), depth=0) -> list[tuple]:
    """Every key path of a record down to three levels (lists by their first item)."""
    paths = []
    items = (value.items() if isinstance(value, dict)
             else [(0, value[0])] if isinstance(value, list) and value else [])
    for key, item in items:
        paths.append(prefix + (key,))
        if depth < 2 and key not in ("predictions",):
            paths += field_paths(item, prefix + (key,), depth + 1)
    return paths


PATHS = sorted({path for base in BASES for path in field_paths(base)}, key=str)
NAMES = st.sampled_from(["../escape", "/tmp/escape", "..", "a\0b", "a|b\nc", "x" * 300,
                         "<img src=x onerror=alert(1)>", "C:\\x", "", "NaN", "Infinity", "$^{$"])
SCALARS = (st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats()
           | st.floats(0, 1) | st.integers(0, 12) | st.text(max_size=12) | NAMES)
JSON = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4)
                    | st.dictionaries(st.text(max_size=8) | NAMES, inner, max_size=4),
                    max_leaves=8)


@st.composite
def mutated(draw) -> dict:
    """A committed record with one field (at any depth) replaced by a JSON value, or gone."""
    record = copy.deepcopy(draw(st.sampled_from(BASES)))
    *parents, last = draw(st.sampled_from(PATHS))
    target = record
    for key in parents:
        if not isinstance(target, dict | list) or (isinstance(target, list) and not target) \
                or (isinstance(target, dict) and key not in target):
            return record
        target = target[key]
    if isinstance(target, dict) and draw(st.booleans()) and draw(st.booleans()):
        target.pop(last, None)
    elif isinstance(target, dict | list) and (isinstance(target, dict) or target):
        target[last] = draw(JSON)
    return record


@PROFILE
@given(mutated())
def test_load_record_gives_a_record_or_a_record_error(record):
    with contextlib.suppress(RecordError):  # anything else fails the test
        load_record(json.loads(json.dumps(record)))


def files_under(folder: Path) -> set[Path]:
    return {path for path in folder.rglob("*")} if folder.exists() else set()


@settings(PROFILE, max_examples=8)
@given(mutated())
def test_the_store_publish_and_merge_survive_any_one_field(record):
    with tempfile.TemporaryDirectory() as temporary, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sandbox = Path(temporary)
        results, source, cwd = sandbox / "results", sandbox / "source", sandbox / "cwd"
        cwd.mkdir()
        store = results / "fashion-mnist" / "quick" / "runs.jsonl"
        store.parent.mkdir(parents=True)
        before = (json.dumps(BASES[0]) + "\n").encode()
        store.write_bytes(before)
        line = json.dumps(record, allow_nan=True) + "\n"
        (source / "fashion-mnist" / "quick").mkdir(parents=True)
        (source / "fashion-mnist" / "quick" / "runs.jsonl").write_text(line)
        with contextlib.chdir(cwd):  # a relative path made of a record lands here
            merge(source, results)  # never raises: a bad line is left out
            # a line the merge left out reaches the store by hand: the report still works
            with store.open("ab") as handle:
                handle.write(line.encode())
            publish(results, say=lambda _: None)
        assert store.read_bytes().startswith(before)
        assert store.read_bytes().endswith(line.encode())
        assert files_under(cwd) == set()
        assert {path.name for path in sandbox.iterdir()} == {"results", "source", "cwd"}
        outside = {path for path in files_under(results)
                   if not path.resolve().is_relative_to(results.resolve())}
        assert outside == set()
