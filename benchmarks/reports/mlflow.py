"""The stored records exported to MLflow, one MLflow run per record (``fashionbench[mlflow]``).

``export_to_mlflow`` walks every store under a results directory (the main stores and the
studies' stores, as ``ResultsLayout`` finds them) and logs each record through MLflow's own
client. MLflow is an optional extra: this module imports it only when called, and without it
the call fails with one line naming the fix.

A run's params, metrics, tags and artifacts are the record's own fields, under their
dotted paths: ``mlflow_mapping`` says which (this module holds the client's calls: the
experiment, what is there already, the batches and the artifacts).

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
import os
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from ..errors import FashionbenchError
from ..records.layout import ResultsLayout, StoreLocation, figure_prefix, run_figure
from ..records.record import Record
from ..records.store import ResultsStore
from .mlflow_mapping import (
    CURRENT_TAG,
    FALLBACK_PARAM_LENGTH,
    FALLBACK_TAG_LENGTH,
    RUN_ID_TAG,
    milliseconds,
    record_json,
    record_metrics,
    record_params,
    record_tags,
)

INSTALL_HINT = "pip install 'fashionbench[mlflow]'"
RECORD_ARTIFACT = "record.json"
FIGURES_ARTIFACT_DIR = "figures"
# the figures publish.draw_leaderboard_figures draws of one pipeline's run (named by
# layout.run_figure); the misclassified grid says its run itself
RECORD_FIGURE_KINDS = ("confusion", "curves")
MISCLASSIFIED_KIND = "misclassified"
# MLflow's batch limits (mlflow.utils.validation): 100 params, 1000 metrics a call
PARAMS_PER_BATCH = 100
METRICS_PER_BATCH = 1000


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
                     all_records: bool = False,
                     say: Callable[[str], None] | None = None) -> ExportSummary:
    """Log the records the leaderboards stand on (each store's newest per job) as runs of
    MLflow experiment ``experiment`` at ``tracking_uri`` (``sqlite:///path/mlflow.db``,
    ``http://host:5000``, or a ``file:`` URI / folder for MLflow's file store), skipping the
    records already there; ``all_records``: every stored record, the history too. Every run
    is tagged ``fashionbench.current``: ``true`` for a record a leaderboard uses, ``false``
    for one a newer record of its job superseded (an earlier export's runs are re-tagged).

    ``artifact_location`` is where a new experiment keeps its artifacts; None: beside a
    ``sqlite:`` database (``<its folder>/mlflow-artifacts``), else MLflow's default. An
    existing experiment keeps its own. ``say`` is given one line per store. Raises FashionbenchError
    (one line) when MLflow is not installed or the tracking server refuses the export.
    """
    mlflow = _import_mlflow()
    layout = ResultsLayout(results_dir)
    locations = layout.stores() + layout.study_stores()
    with _file_store_allowed(tracking_uri):
        try:
            client = mlflow.MlflowClient(tracking_uri=tracking_uri)
            experiment_id = _experiment_id(
                client, experiment, artifact_location or artifacts_beside(tracking_uri),
                tracking_uri)
            exported, unfinished = _exported_runs(client, experiment_id)
            for run_id in unfinished:
                client.delete_run(run_id)
            redone = len({record_id for record_id in unfinished.values()
                          if record_id not in exported})
            limits = _limits()
            logged = skipped = failed = 0
            for location in locations:
                store = ResultsStore.of(location)
                current = {record["run_id"] for record in store.latest().values()}
                records = [record for record in store.records()
                           if all_records or record["run_id"] in current]
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
                _tag_current(client, exported, store, current)
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


def artifacts_beside(tracking_uri: str) -> str | None:
    """For a ``sqlite:`` database, a folder beside it for the artifacts (as a file URI), so
    that an export never scatters ``./mlruns`` into whatever folder it ran from."""
    if not tracking_uri.startswith("sqlite:///"):
        return None
    database = Path(tracking_uri.removeprefix("sqlite:///")).expanduser().resolve()
    return (database.parent / "mlflow-artifacts").as_uri()


def _tag_current(client, exported: dict[str, str], store: ResultsStore,
                 current: set[str]) -> None:
    """``fashionbench.current`` on every exported run of ``store``'s records: true for the
    records its leaderboard uses, false for those superseded since."""
    for record in store.records():
        run_id = exported.get(record["run_id"])
        if run_id is not None:
            client.set_tag(run_id, CURRENT_TAG, str(record["run_id"] in current).lower())


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

    started = milliseconds(record.get("started_at"))
    run = client.create_run(experiment_id, start_time=started, tags=record_tags(
        record, layout.relative(location.runs), location.study, limits.tag_length),
        run_name=f"{record['name']} (seed {record['seed']})")
    run_id = run.info.run_id
    params = [Param(key, value) for key, value in record_params(record,
                                                                limits.param_length).items()]
    for start in range(0, len(params), PARAMS_PER_BATCH):
        client.log_batch(run_id, params=params[start:start + PARAMS_PER_BATCH])
    ended = milliseconds(record.get("finished_at")) or started
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
