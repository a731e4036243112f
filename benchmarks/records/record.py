"""The result record: one job's outcome, as the store keeps it (one JSON object per line).

``Record`` names every field and its type; ``load_record`` is the one way a stored or merged
record is read (it checks the fields every reader relies on and upgrades older stores), and
``record_line`` the one way one is written. Two names, never confused:

- ``name``: what the record is stored and ranked under — the registered name, or a study's
  label such as ``mcnn[batch_size=32]`` or ``pca-knn[trial=03]``;
- ``pipeline``: the registered pipeline that was built (``mcnn``, ``pca-knn``).

Stores written before the two were separated kept the label in ``pipeline`` and the
registered name in ``base_pipeline``; ``load_record`` reads them as the new fields. Stores
written before an asked arithmetic marked the name (``vgg16[bfloat16]``, keys.precision_mark)
get the mark where the record shows it was asked: a network in bfloat16 on a CPU, whose
"auto" arithmetic is float32.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from typing import Any, NotRequired, TypedDict

from pipelines.names import path_part_problem

from .check import PATH_PARTS, RecordError, check_record
from .keys import REFIT_MARK, job_name, key_of, precision_mark  # noqa: F401 (re-exported)
from .labels import (  # noqa: F401 (re-exported)
    decode_labels,
    encode_labels,
    encode_predictions,
    stored_labels,
)


class SplitInfo(TypedDict):
    name: str  # standard, ...
    fingerprint: str  # a digest of the split's indices: records compare only within one
    sizes: dict[str, int]  # the split's train / validation / test sizes


class Record(TypedDict):
    run_id: str
    name: str
    pipeline: str
    family: str  # classical or deep
    dataset: str
    split: SplitInfo
    profile: str
    seed: int
    class_names: list[str]
    status: str  # ok, failed or timeout
    error: str | None
    sizes: dict[str, int]  # the images this job used of each part (a profile subsamples)
    metrics: dict[str, dict] | None  # validation / test: accuracy, F1, confusion, ...
    timing: dict[str, Any] | None  # fit, predict, latency, memory
    model: dict[str, Any] | None  # the pipeline's own describe()
    history: list[dict] | None  # a deep job's per-epoch history
    predictions: dict[str, str] | None  # test labels predicted and true (records/labels.py)
    checkpoint: dict[str, Any] | None  # a resumable job's checkpoint directory and resume
    env: dict[str, Any]  # versions, machine, host, the job's threads, backend, hardware
    recipe: str | None  # a deep job's training recipe (pipelines/recipes.py)
    overrides: dict[str, Any]  # settings given on top of the registered ones (studies)
    started_at: str
    finished_at: str | None
    warnings: NotRequired[list[str]]
    # the fitted model kept for --evaluate: its folder in the model cache, each file's
    # SHA-256, its bytes (run/model_cache.py)
    saved_model: NotRequired[dict[str, Any]]
    # a record made by --evaluate from another: that record's run_id, the metrics added, when
    evaluated: NotRequired[dict[str, Any]]
    traceback: NotRequired[str]


# what every reader relies on: a line without them is not a record
REQUIRED = ("run_id", "name", "pipeline", "family", "dataset", "split", "profile", "seed",
            "status")


def load_record(data: object) -> Record:
    """A stored record (a parsed JSON line) as a ``Record``: older stores' fields upgraded,
    every field a reader relies on checked for its type and range (records/check.py): a
    store merged from elsewhere is untrusted. Raises RecordError naming the field."""
    if not isinstance(data, dict):
        raise RecordError("not a JSON object")
    if "name" not in data and "pipeline" in data:  # written before name/pipeline were split
        data = dict(data)
        data["name"] = data["pipeline"]
        data["pipeline"] = data.pop("base_pipeline", None) or data["name"]
    missing = [key for key in REQUIRED if key not in data]
    if missing:
        raise RecordError(f"missing {', '.join(missing)}")
    if not isinstance(data["split"], dict) or "fingerprint" not in data["split"]:
        raise RecordError("its split has no fingerprint")
    check_record(data)
    data = _with_precision_mark(data)
    for path in PATH_PARTS:
        value = data
        for key in path:
            value = value[key]
        problem = path_part_problem(value)
        if problem is not None:
            raise RecordError(f"its {'.'.join(path)} {problem}: it becomes part of a file's "
                              f"path, which would then lie outside the results directory")
    return data  # type: ignore[return-value]


def _with_precision_mark(data: dict) -> dict:
    """``data`` with its name marked ``[bfloat16]`` where an older run asked for it without
    marking the name (``--precision bfloat16`` on a CPU): its pipeline's own setting "auto",
    a CPU, yet mixed_bfloat16. Such a record would otherwise stand for the float32 job."""
    model = data.get("model") if isinstance(data.get("model"), dict) else {}
    params = model.get("params") if isinstance(model.get("params"), dict) else {}
    asked = (model.get("device") == "cpu" and model.get("dtype_policy") == "mixed_bfloat16"
             and params.get("mixed_precision") == "auto")
    if not asked or precision_mark("bfloat16") in data["name"]:
        return data
    refit = data["name"].endswith(REFIT_MARK)
    return {**data, "name": job_name(data["name"].removesuffix(REFIT_MARK), "bfloat16", refit)}


def record_line(record: Record | dict) -> bytes:
    """One record as one line of the store: NaN and infinities as null (JSON has neither)."""
    return (json.dumps(finite(record), ensure_ascii=False, allow_nan=False) + "\n").encode()


def job_key(record: Record) -> tuple:
    """The key of a stored record's job."""
    return key_of(record["name"], record["dataset"], record["split"]["fingerprint"],
                  record["profile"], record["seed"])


def finished_at(record: Record) -> dt.datetime:
    """When a record's job finished, comparable across time zones; a record without the time
    (never written by the runner) counts as the oldest."""
    stamp = record.get("finished_at")
    try:
        moment = dt.datetime.fromisoformat(stamp)
    except (TypeError, ValueError):
        return dt.datetime.min.replace(tzinfo=dt.UTC)
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def finite(value):
    """``value`` with NaN and infinities as None: JSON has no NaN, and a record must not be lost."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [finite(item) for item in value]
    return value
