"""What one stored record becomes in MLflow: its run's params, metrics and tags, and the
record.json artifact, each key the record's own field path (dotted) so it reads back to it.

Apart from ``reports.mlflow`` (the export: the client's calls) because this part is a pure
function of one record, needs no MLflow installed and is what a reader of an exported run
asks about; the figures that go with a record are chosen by the export, from the files.

What a run holds:

- params: ``name`` (what the record is ranked under), ``pipeline`` (the registered one),
  ``family``, ``dataset``, ``profile``, ``seed``, ``recipe`` (deep jobs), ``split.name``,
  ``split.sizes.<part>``, ``sizes.<part>`` (the images the job used), ``overrides.<key>``
  (a study's settings), ``model.reducer`` / ``model.estimator`` / ``model.architecture`` /
  ``model.n_parameters``, and the model's hyper-parameters flattened as
  ``model.params.<key>[.<nested key>]``. Strings are logged as they are, everything else as
  JSON (``true``, ``null``, ``[28, 28, 1]``); a value longer than MLflow's limit (6000
  characters in MLflow 3) is cut there and ends with "…".
- metrics, for ``ok`` records only: ``validation.<m>`` and ``test.<m>`` for accuracy,
  macro_f1, balanced_accuracy, kappa and log_loss (when not null); every number in
  ``timing`` under its own name (``fit_seconds``, ``predict_ms_per_1k``, ``latency_ms``,
  ``peak_rss_mb``, ...); and a deep record's history, each number of an epoch stepped by
  epoch, the training set's as ``train.loss`` and ``train.accuracy`` (``val_loss``,
  ``val_accuracy``, ``learning_rate``, ... under their own names).
- tags: ``fashionbench.run_id`` (the record's run_id: what makes the export idempotent),
  ``fashionbench.current`` (``true`` for a record a leaderboard uses, ``false`` once a newer
  record of its job superseded it),
  ``fashionbench.dataset``, ``.profile``, ``.split``, ``.split_fingerprint``,
  ``.hardware``, ``.status``, ``.git_commit`` (the record's ``env.git_commit``, also as
  ``mlflow.source.git.commit``), ``.store`` (its runs.jsonl, relative to the results
  directory), ``.study`` (a study's record) and ``.error`` (a record that is not ok).
- artifacts: ``record.json``, the record as stored; and under ``figures/`` the leaderboard
  figures that show this record alone, as the last ``--report-only`` drew them: the
  confusion matrix and the training curves of the record each name's row was drawn from
  (its lowest seed among the records the leaderboard stands on), and the misclassified grid
  of the run the grid says it was drawn from. The figures of a whole split (accuracy against
  fit time, per-class bars) and a study's plots show many records and go with none.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re

from ..records.record import Record, finite

RUN_ID_TAG = "fashionbench.run_id"
CURRENT_TAG = "fashionbench.current"  # true: a leaderboard uses it; false: superseded
TAG_PREFIX = "fashionbench."
EVALUATION_PARTS = ("validation", "test")
EVALUATION_METRICS = ("accuracy", "macro_f1", "balanced_accuracy", "kappa", "log_loss")
MODEL_FIELDS = ("reducer", "estimator", "architecture", "n_parameters")
FALLBACK_PARAM_LENGTH = 500  # MLflow before 1.29; 6000 since
FALLBACK_TAG_LENGTH = 5000
TRUNCATED = "…"


# a network's epoch log names its training-set numbers "loss" and "accuracy": in MLflow they
# are train.*, never to be read beside test.accuracy as if they were held-out scores
TRAINING_SET_METRICS = ("loss", "accuracy")


def epoch_metric(name: str) -> str:
    """An epoch-history key's MLflow name: ``accuracy`` -> ``train.accuracy``."""
    return f"train.{name}" if name in TRAINING_SET_METRICS else param_key(name)


def record_json(record: Record) -> str:
    """The record as the record.json artifact: the stored JSON object, indented."""
    return json.dumps(finite(record), ensure_ascii=False, allow_nan=False, indent=1) + "\n"


def record_tags(record: Record, store: str, study: str | None,
                tag_length: int = FALLBACK_TAG_LENGTH) -> dict[str, str]:
    """The run's tags (see the module's docstring): ``store`` is its runs.jsonl relative to
    the results directory, ``study`` its study or None."""
    env = record.get("env") or {}
    split = record["split"]
    tags = {
        RUN_ID_TAG: record["run_id"],
        f"{TAG_PREFIX}dataset": record["dataset"],
        f"{TAG_PREFIX}profile": record["profile"],
        f"{TAG_PREFIX}split": split.get("name"),
        f"{TAG_PREFIX}split_fingerprint": split["fingerprint"],
        f"{TAG_PREFIX}hardware": env.get("hardware"),
        f"{TAG_PREFIX}status": record["status"],
        f"{TAG_PREFIX}git_commit": env.get("git_commit"),
        f"{TAG_PREFIX}store": store,
        f"{TAG_PREFIX}study": study,
        "mlflow.source.git.commit": env.get("git_commit"),
    }
    if record["status"] != "ok":
        tags[f"{TAG_PREFIX}error"] = record.get("error") or record["status"]
    return {key: _cut(str(value), tag_length) for key, value in tags.items()
            if value is not None}


def record_params(record: Record, param_length: int = FALLBACK_PARAM_LENGTH) -> dict[str, str]:
    """The record's params, keyed by their dotted path in the record (see the module's
    docstring), each value a string of at most ``param_length`` characters."""
    split = record["split"]
    model = record.get("model") or {}
    optional: list[tuple[str, object]] = [  # left out when the record has no value
        *((key, record.get(key)) for key in
          ("name", "pipeline", "family", "dataset", "profile", "seed", "recipe")),
        ("split.name", split.get("name")),
        *((f"model.{key}", model.get(key)) for key in MODEL_FIELDS)]
    fields = [(key, value) for key, value in optional if value is not None]
    for prefix, value in (("split.sizes", split.get("sizes")), ("sizes", record.get("sizes")),
                          ("overrides", record.get("overrides")),
                          ("model.params", model.get("params"))):
        if isinstance(value, dict):
            fields += [pair for key, item in value.items()
                       for pair in _flatten(f"{prefix}.{key}", item)]
    params: dict[str, str] = {}
    for key, value in fields:
        params.setdefault(param_key(key), _cut(param_value(value), param_length))
    return params


def record_metrics(record: Record, started: int | None
                   ) -> list[tuple[str, float, int, int | None]]:
    """(key, value, step, timestamp in ms or None for the record's end) of an ok record's
    metrics; none for a record that is not ok."""
    if record.get("status") != "ok":
        return []
    metrics = []
    evaluation = record.get("metrics") or {}
    for part in EVALUATION_PARTS:
        for name in EVALUATION_METRICS:
            value = (evaluation.get(part) or {}).get(name)
            if _number(value):
                metrics.append((f"{part}.{name}", float(value), 0, None))
    for name, value in (record.get("timing") or {}).items():
        if _number(value):
            metrics.append((param_key(name), float(value), 0, None))
    elapsed = 0.0
    for index, epoch in enumerate(record.get("history") or [], start=1):
        step = epoch.get("epoch", index)
        step = step if isinstance(step, int) and not isinstance(step, bool) else index
        if _number(epoch.get("seconds")):
            elapsed += epoch["seconds"]
        timestamp = None if started is None else started + round(elapsed * 1000)
        for name, value in epoch.items():
            if name != "epoch" and _number(value):
                metrics.append((epoch_metric(name), float(value), step, timestamp))
    return metrics




def _flatten(prefix: str, value: object) -> list[tuple[str, object]]:
    """A nested dict as (dotted key, value) pairs; an empty dict and lists stay whole."""
    if isinstance(value, dict) and value:
        return [pair for key, item in value.items()
                for pair in _flatten(f"{prefix}.{key}", item)]
    return [(prefix, value)]


_BAD_KEY_CHARACTERS = re.compile(r"[^\w.\- /]")
MAX_KEY_LENGTH = 250  # mlflow.utils.validation.MAX_ENTITY_KEY_LENGTH


def param_key(key: str) -> str:
    """A key MLflow accepts: letters, digits, _ - . space and /, not a path that resolves
    elsewhere, at most 250 characters; any other character becomes _."""
    key = _BAD_KEY_CHARACTERS.sub("_", key)
    key = "/".join(part if part not in ("", ".", "..") else "_" for part in key.split("/"))
    return key[:MAX_KEY_LENGTH]


def param_value(value: object) -> str:
    """A string as it is, anything else as JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(finite(value), ensure_ascii=False, sort_keys=True, default=str)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - len(TRUNCATED)] + TRUNCATED


def _number(value: object) -> bool:
    return (isinstance(value, int | float) and not isinstance(value, bool)
            and math.isfinite(value))


def milliseconds(stamp: str | None) -> int | None:
    try:
        moment = dt.datetime.fromisoformat(stamp)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return round(moment.timestamp() * 1000)
