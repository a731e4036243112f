"""Has the code changed a stored run's settings? The check behind two of the runner's rules.

A record holds its model's settings as the pipeline's ``describe()`` gave them
(``model.params``). Building the same job's pipeline today and comparing the two says whether
the stored result still stands for what the code registers:

- a job stored as ok is skipped on a rerun only while it does; a job stored with other
  settings is run again (the old record stays in the store), and the run says which changed;
- a refit must train the configuration its validation run chose, not one edited since.
"""

from __future__ import annotations

import json
import math

from ..records.record import Record
from .context import Job

# settings of how a model is computed, not of what it is: the thread count an executor grants
HOW_NOT_WHAT = {"n_jobs", "nthread"}


def setting_changes(job: Job, stored: Record, profile, *,
                    ignored: set[str] = frozenset()) -> dict[str, tuple[object, object]]:
    """The settings of ``job``'s pipeline as the code builds it today that differ from those
    ``stored`` (a record of it) holds: name -> (stored value, today's value).

    Only settings both hold are compared. A setting added to a pipeline since the record was
    made takes, by this project's convention, the old behaviour as its default (the ``seed``
    recipe, no ``learning_rates`` replay): counting it as a change would rerun every stored
    network for a setting that changes nothing. A record without settings (a plugin whose
    ``describe()`` gives none) has nothing to compare. Names in ``ignored`` are compared by
    their last ``__`` part (``svm__C`` is ``C``)."""
    from pipelines.registry import create_pipeline

    recorded = (stored.get("model") or {}).get("params")
    if not recorded:
        return {}
    pipeline = create_pipeline(job.pipeline, profile, seed=job.seed, **dict(job.overrides))
    # a network's describe() builds its model to count the parameters (seconds for ResNet50,
    # before a run starts); its settings, the same dict, cost nothing
    now = (pipeline.hyperparameters() if hasattr(pipeline, "hyperparameters")
           else pipeline.describe().get("params")) or {}
    skip = set(ignored) | HOW_NOT_WHAT
    return {key: (recorded[key], now[key]) for key in sorted(set(recorded) & set(now))
            if key.rsplit("__", 1)[-1] not in skip
            and as_json(recorded[key]) != as_json(now[key])}


def size_changes(job: Job, stored: Record, profile) -> dict[str, tuple[int, int]]:
    """The image counts ``job`` would train and be scored on today that differ from those
    ``stored`` (a record of it) used: ``{"validation images": (12000, 2000)}`` when a
    pipeline's caps (``register_pipeline(train_sizes=..., validation_sizes=...)``) changed.
    A refit's training images include the validation ones; its own rule settles it."""
    from pipelines.registry import get_entry

    if stored.get("refit") or "sizes" not in stored:
        return {}
    entry = get_entry(job.pipeline)
    split_sizes = (stored.get("split") or {}).get("sizes") or {}
    changes = {}
    for role, cap in (("train", entry.train_size(profile)),
                      ("validation", entry.validation_size(profile))):
        used, available = stored["sizes"].get(role), split_sizes.get(role)
        if used is None or available is None:
            continue
        today = available if cap is None else min(cap, available)
        if today != used:
            changes[f"{role} images"] = (used, today)
    return changes


def describe_changes(changes: dict[str, tuple[object, object]], *, shown: int = 4) -> str:
    """``epochs 5 -> 2, callbacks``: short values in full first, long ones by name."""
    short = {key: f"{key} {as_json(before)} -> {as_json(after)}"
             for key, (before, after) in changes.items()
             if len(as_json(before)) + len(as_json(after)) <= 30}
    parts = list(short.values()) + [key for key in changes if key not in short]
    if len(parts) > shown:
        parts = parts[:shown] + [f"{len(parts) - shown} more"]
    return ", ".join(parts)


def as_json(value) -> str:
    """A setting as its record stores it: a tuple is a list, NaN is null."""
    if isinstance(value, float) and math.isnan(value):
        value = None
    return json.dumps(value, sort_keys=True, default=str)
