"""The stored records exported to MLflow, one MLflow run per record (``fashionbench[mlflow]``).

``export_to_mlflow`` walks every store under a results directory (the main stores and the
studies' stores, as ``ResultsLayout`` finds them) and logs each record through MLflow's own
client. MLflow is an optional extra: this module imports it only when called, and without it
the call fails with one line naming the fix.

What a run holds, every key the record's own field path (dotted) so it reads back to it:

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
  ``peak_rss_mb``, ...); and a deep record's history, each number of an epoch (``loss``,
  ``accuracy``, ``val_loss``, ``val_accuracy``, ``learning_rate``, ...) stepped by epoch.
- tags: ``fashionbench.run_id`` (the record's run_id: what makes the export idempotent),
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

Failed and timed-out records are exported too, as FAILED runs: their params, tags (the
status and the error) and record.json, and no metrics. The run's start and end times are the
record's.

Exporting again logs only the records not yet in the experiment: a record whose run_id an
active run of the experiment already carries is skipped. A run an interrupted export left
unfinished (still RUNNING) is deleted and logged again; a run deleted by hand is logged
again too. Two exports into one experiment at the same time may both log a record.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import math
import os
import re
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from ..errors import FashionbenchError
from ..records.layout import ResultsLayout, StoreLocation, figure_prefix, run_figure
from ..records.record import Record, finite
from ..records.store import ResultsStore

INSTALL_HINT = "pip install 'fashionbench[mlflow]'"
RUN_ID_TAG = "fashionbench.run_id"
TAG_PREFIX = "fashionbench."
RECORD_ARTIFACT = "record.json"
FIGURES_ARTIFACT_DIR = "figures"
EVALUATION_PARTS = ("validation", "test")
EVALUATION_METRICS = ("accuracy", "macro_f1", "balanced_accuracy", "kappa", "log_loss")
MODEL_FIELDS = ("reducer", "estimator", "architecture", "n_parameters")
# the figures publish.draw_leaderboard_figures draws of one pipeline's run (named by
# layout.run_figure); the misclassified grid says its run itself
RECORD_FIGURE_KINDS = ("confusion", "curves")
MISCLASSIFIED_KIND = "misclassified"
# MLflow's batch limits (mlflow.utils.validation): 100 params, 1000 metrics a call
PARAMS_PER_BATCH = 100
METRICS_PER_BATCH = 1000
FALLBACK_PARAM_LENGTH = 500  # MLflow before 1.29; 6000 since
FALLBACK_TAG_LENGTH = 5000
TRUNCATED = "…"


@dataclass(frozen=True)
class ExportSummary:
    """What one export did."""

    tracking_uri: str
    experiment: str
    experiment_id: str
    stores: int  # stores read (main and studies')
    logged: int  # records logged as new runs (redone ones included)
    skipped: int  # records the experiment already had
    redone: int  # runs an interrupted export had left RUNNING: deleted, their records logged
    failed: int  # of the logged records, those not ok (logged without metrics)

    def describe(self) -> str:
        """One line for the command line."""
        extra = [f"{self.skipped} already there, skipped"]
        if self.failed:
            extra.append(f"{self.failed} of them failed or timed out, logged without metrics")
        if self.redone:
            extra.append(f"{self.redone} left unfinished by an interrupted export, logged "
                         f"again")
        return (f"exported {self.logged} records from {self.stores} stores to MLflow "
                f"experiment {self.experiment!r} at {self.tracking_uri} "
                f"({'; '.join(extra)})")


def export_to_mlflow(results_dir: Path | str, tracking_uri: str, *,
                     experiment: str = "fashionbench", artifact_location: str | None = None,
                     say: Callable[[str], None] | None = None) -> ExportSummary:
    """Log every record under ``results_dir`` as a run of MLflow experiment ``experiment`` at
    ``tracking_uri`` (``sqlite:///path/mlflow.db``, ``http://host:5000``, or a ``file:``
    URI / folder for MLflow's file store), skipping the records already there.

    ``artifact_location`` is where a new experiment keeps its artifacts (MLflow's default,
    ``./mlruns`` under the working directory for a database URI, when None); an existing
    experiment keeps its own. ``say`` is given one line per store. Raises FashionbenchError
    (one line) when MLflow is not installed or the tracking server refuses the export.
    """
    mlflow = _import_mlflow()
    layout = ResultsLayout(results_dir)
    locations = layout.stores() + layout.study_stores()
    with _file_store_allowed(tracking_uri):
        try:
            client = mlflow.MlflowClient(tracking_uri=tracking_uri)
            experiment_id = _experiment_id(client, experiment, artifact_location, tracking_uri)
            exported, unfinished = _exported_runs(client, experiment_id)
            for run_id in unfinished:
                client.delete_run(run_id)
            redone = len({record_id for record_id in unfinished.values()
                          if record_id not in exported})
            limits = _limits()
            logged = skipped = failed = 0
            for location in locations:
                store = ResultsStore.of(location)
                records = store.records()
                figures = _record_figures(store)
                before = logged
                for record in records:
                    if record["run_id"] in exported:
                        skipped += 1
                        continue
                    exported[record["run_id"]] = _log_record(
                        client, experiment_id, record, layout, location,
                        figures.get(record["run_id"], []), limits)
                    logged += 1
                    failed += record.get("status") != "ok"
                if say is not None:
                    say(f"{layout.relative(location.runs)}: {logged - before} of "
                        f"{len(records)} records logged")
        except mlflow.exceptions.MlflowException as error:
            raise FashionbenchError(
                f"cannot export to MLflow at {tracking_uri}: {_first_line(error.message)}"
            ) from None
        except ImportError as error:  # a database URI without SQLAlchemy, say
            raise FashionbenchError(
                f"cannot export to MLflow at {tracking_uri}: {error} ({INSTALL_HINT})"
            ) from None
        except OSError as error:
            raise FashionbenchError(
                f"cannot export to MLflow at {tracking_uri}: {error}") from None
    return ExportSummary(tracking_uri, experiment, experiment_id, len(locations), logged,
                         skipped, redone, failed)


def _import_mlflow():
    try:
        import mlflow
        import mlflow.exceptions
    except ImportError as error:
        raise FashionbenchError(
            f"exporting to MLflow needs MLflow, which does not import here ({error}): "
            f"{INSTALL_HINT}") from None
    return mlflow


@contextlib.contextmanager
def _file_store_allowed(tracking_uri: str) -> Iterator[None]:
    """MLflow 3 refuses its file store (a folder or ``file:`` URI) unless
    MLFLOW_ALLOW_FILE_STORE is set: asked for one, the export sets it while it runs."""
    variable = "MLFLOW_ALLOW_FILE_STORE"
    if urlparse(tracking_uri).scheme not in ("", "file") or variable in os.environ:
        yield
        return
    os.environ[variable] = "true"
    try:
        yield
    finally:
        os.environ.pop(variable, None)


@dataclass(frozen=True)
class _Limits:
    param_length: int
    tag_length: int


def _limits() -> _Limits:
    """The installed MLflow's limits on a param's and a tag's value."""
    try:
        from mlflow.utils import validation
    except ImportError:  # moved in some version: the older, smaller limits are safe
        return _Limits(FALLBACK_PARAM_LENGTH, FALLBACK_TAG_LENGTH)
    return _Limits(getattr(validation, "MAX_PARAM_VAL_LENGTH", FALLBACK_PARAM_LENGTH),
                   getattr(validation, "MAX_TAG_VAL_LENGTH", FALLBACK_TAG_LENGTH))


def _first_line(text: object) -> str:
    lines = str(text).strip().splitlines()
    return lines[0] if lines else type(text).__name__


def _experiment_id(client, name: str, artifact_location: str | None, uri: str) -> str:
    found = client.get_experiment_by_name(name)
    if found is None:
        return client.create_experiment(name, artifact_location=artifact_location)
    if found.lifecycle_stage != "active":
        raise FashionbenchError(
            f"MLflow experiment {name!r} at {uri} is deleted: restore it (mlflow experiments "
            f"restore --experiment-id {found.experiment_id}) or export to another experiment")
    return found.experiment_id


def _exported_runs(client, experiment_id: str) -> tuple[dict[str, str], dict[str, str]]:
    """The active runs of the experiment by the record they hold: (finished ones, ones still
    RUNNING, which only an export that was interrupted leaves): {record's run_id: MLflow
    run's id} and {MLflow run's id: record's run_id}."""
    finished: dict[str, str] = {}
    running: dict[str, str] = {}
    token = None
    while True:
        page = client.search_runs([experiment_id], max_results=1000, page_token=token)
        for run in page:
            record_id = run.data.tags.get(RUN_ID_TAG)
            if record_id is None:
                continue
            if run.info.status == "RUNNING":
                running[run.info.run_id] = record_id
            else:
                finished[record_id] = run.info.run_id
        token = page.token
        if not token:
            break
    return finished, running


def _log_record(client, experiment_id: str, record: Record, layout: ResultsLayout,
                location: StoreLocation, figures: list[Path], limits: _Limits) -> str:
    from mlflow.entities import Metric, Param

    started = _milliseconds(record.get("started_at"))
    run = client.create_run(experiment_id, start_time=started, tags=record_tags(
        record, layout.relative(location.runs), location.study, limits.tag_length),
        run_name=f"{record['name']} (seed {record['seed']})")
    run_id = run.info.run_id
    params = [Param(key, value) for key, value in record_params(record,
                                                                limits.param_length).items()]
    for start in range(0, len(params), PARAMS_PER_BATCH):
        client.log_batch(run_id, params=params[start:start + PARAMS_PER_BATCH])
    ended = _milliseconds(record.get("finished_at")) or started
    ended = ended or round(dt.datetime.now(dt.UTC).timestamp() * 1000)
    metrics = [Metric(key, value, ended if timestamp is None else timestamp, step)
               for key, value, step, timestamp in record_metrics(record, started)]
    for start in range(0, len(metrics), METRICS_PER_BATCH):
        client.log_batch(run_id, metrics=metrics[start:start + METRICS_PER_BATCH])
    client.log_text(run_id, record_json(record), RECORD_ARTIFACT)
    for path in figures:
        client.log_artifact(run_id, str(path), artifact_path=FIGURES_ARTIFACT_DIR)
    client.set_terminated(run_id, "FINISHED" if record.get("status") == "ok" else "FAILED",
                          end_time=ended)
    return run_id


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
                metrics.append((param_key(name), float(value), step, timestamp))
    return metrics


def _record_figures(store: ResultsStore) -> dict[str, list[Path]]:
    """The figures of the store's leaderboard that show one record, by its run_id."""
    figures_dir = store.location.figures
    if not figures_dir.is_dir():
        return {}
    with warnings.catch_warnings():  # records() has already reported unreadable lines
        warnings.simplefilter("ignore")
        latest = [record for record in store.latest().values() if record["status"] == "ok"]
    drawn_from: dict[tuple[str, str], Record] = {}  # a name's row shows its lowest seed
    for record in latest:
        key = (record["split"]["fingerprint"], record["name"])
        if key not in drawn_from or record["seed"] < drawn_from[key]["seed"]:
            drawn_from[key] = record
    found: dict[str, list[Path]] = {}
    for (fingerprint, name), record in drawn_from.items():
        prefix = figure_prefix(record["split"]["name"], fingerprint)
        for kind in RECORD_FIGURE_KINDS:
            path = run_figure(figures_dir, prefix, kind, name)
            if path.is_file():
                found.setdefault(record["run_id"], []).append(path)
    from . import figures

    for path in sorted(figures_dir.glob(f"*-{MISCLASSIFIED_KIND}-*.png")):
        source = figures.drawn_from(path)
        if source is not None:
            found.setdefault(source, []).append(path)
    return found


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


def _milliseconds(stamp: str | None) -> int | None:
    try:
        moment = dt.datetime.fromisoformat(stamp)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return round(moment.timestamp() * 1000)
