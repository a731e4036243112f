"""The checks a stored or merged record passes before any reader sees it.

A store merged from another machine is untrusted input: one line with a list where the seed
belongs, a string accuracy or an undecodable ``predictions`` would otherwise crash every
report of the store (and every run into it) until someone edited the file by hand. So
``check_record`` looks at the type and range of every field the readers use (the reports'
rows, tables, figures and pages, the studies, the MLflow export, the API) and raises
``RecordError`` naming the field and what is wrong with it: the store then skips the line
with a warning, and a merge leaves it out. Fields no reader uses are not constrained.
"""

from __future__ import annotations

import math

from .labels import DIFFERENCE, label_bytes, truth_bytes

STATUSES = ("ok", "failed", "timeout")
FAMILIES = ("classical", "deep")  # pipelines/registry.py's; no other family is ranked
MAX_COUNT = 10**9  # images, classes, epochs, bytes: far above any real run, below overflow
MAX_SEED = 2**32 - 1  # what numpy's generators take
MAX_QUANTITY = 1e12  # seconds, megabytes, ms per 1,000: finite sums and means stay finite
MAX_CLASSES = 1000
METRIC_PARTS = ("validation", "test")
FRACTIONS = ("accuracy", "balanced_accuracy", "macro_f1", "ece", "selective_accuracy_90")
PER_CLASS = ("per_class", "per_class_precision", "per_class_recall", "per_class_f1")
# the fields that become parts of file paths (records/layout.py): pipelines.names checks them
PATH_PARTS = (("name",), ("pipeline",), ("dataset",), ("profile",), ("split", "name"),
              ("split", "fingerprint"))


class RecordError(ValueError):
    """A line of a store that is JSON but not a record."""


def fail(field: str, problem: str):
    raise RecordError(f"its {field} {problem}")


def _kind(value: object) -> str:
    return "null" if value is None else type(value).__name__


def text(value: object, field: str, *, optional: bool = False) -> None:
    if value is None and optional:
        return
    if not isinstance(value, str):
        fail(field, f"is {_kind(value)}, not a string")


def count(value: object, field: str, *, optional: bool = False,
          most: int = MAX_COUNT) -> None:
    """A whole number in [0, most] (a JSON true is not one)."""
    if value is None and optional:
        return
    if isinstance(value, bool) or not isinstance(value, int):
        fail(field, f"is {_kind(value)}, not a whole number")
    if not 0 <= value <= most:
        fail(field, f"is {value}, outside [0, {most}]")


def number(value: object, field: str, *, optional: bool = False, low: float = 0.0,
           high: float = MAX_QUANTITY) -> None:
    """A finite number in [low, high]."""
    if value is None and optional:
        return
    if isinstance(value, bool) or not isinstance(value, int | float):
        fail(field, f"is {_kind(value)}, not a number")
    if not (math.isfinite(value) and low <= value <= high):
        fail(field, f"is {value}, outside [{low:g}, {high:g}]")


def fraction(value: object, field: str, *, optional: bool = False) -> None:
    number(value, field, optional=optional, low=0.0, high=1.0)


def mapping(value: object, field: str, *, optional: bool = False) -> bool:
    """Whether ``value`` is a dict to look into (None where optional); else RecordError."""
    if value is None and optional:
        return False
    if not isinstance(value, dict):
        fail(field, f"is {_kind(value)}, not an object")
    return True


def sequence(value: object, field: str, *, optional: bool = False,
             length: int | None = None) -> bool:
    """Whether ``value`` is a list to look into (None where optional); else RecordError."""
    if value is None and optional:
        return False
    if not isinstance(value, list):
        fail(field, f"is {_kind(value)}, not a list")
    if length is not None and len(value) != length:
        fail(field, f"has {len(value)} entries, not {length} (one per class)")
    return True


def check_record(data: dict) -> None:
    """Raise RecordError naming the first field of ``data`` (a record with every REQUIRED
    key) whose type or range no reader expects (the PATH_PARTS' names aside: record.py)."""
    text(data["run_id"], "run_id")
    if data["family"] not in FAMILIES:
        fail("family", f"is {data['family']!r}, not one of {', '.join(FAMILIES)}")
    if data["status"] not in STATUSES:
        fail("status", f"is {data['status']!r}, not one of {', '.join(STATUSES)}")
    count(data["seed"], "seed", most=MAX_SEED)
    _split(data["split"])
    ok = data["status"] == "ok"
    classes = _class_names(data.get("class_names"), required=ok)
    sizes = data.get("sizes")
    if mapping(sizes, "sizes", optional=not ok):
        for role, size in sizes.items():
            count(size, f"sizes.{role}")
        for role in ("train", "validation", "test") if ok else ():
            count(sizes.get(role), f"sizes.{role}")
    if mapping(data.get("metrics"), "metrics", optional=not ok):
        _metrics(data["metrics"], classes, ok)
    if mapping(data.get("timing"), "timing", optional=not ok):
        _timing(data["timing"], ok)
    _predictions(data.get("predictions"), (sizes or {}).get("test"), classes)
    _history(data.get("history"))
    _model(data.get("model"))
    _env(data.get("env"), required=ok)
    _the_rest(data)


def _split(split: dict) -> None:
    text(split.get("name"), "split.name")
    text(split["fingerprint"], "split.fingerprint")
    mapping(split.get("sizes"), "split.sizes")  # the leaderboard's first line states them
    for role, size in split["sizes"].items():
        count(size, f"split.sizes.{role}")
    for role in ("train", "validation", "test"):
        count(split["sizes"].get(role), f"split.sizes.{role}")


def _class_names(names: object, *, required: bool) -> int | None:
    """The number of classes the record names (None where it names none)."""
    if not sequence(names, "class_names", optional=not required):
        return None
    if not 1 <= len(names) <= MAX_CLASSES:
        fail("class_names", f"has {len(names)} entries (1 to {MAX_CLASSES})")
    for index, name in enumerate(names):
        text(name, f"class_names[{index}]")
    return len(names)


def _metrics(metrics: dict, classes: int | None, ok: bool) -> None:
    if ok and not isinstance(metrics.get("test"), dict):
        fail("metrics.test", "is missing from an ok record")
    if ok and "validation" not in metrics:
        fail("metrics.validation", "is missing from an ok record (null when none)")
    for part in METRIC_PARTS:
        if mapping(metrics.get(part), f"metrics.{part}", optional=True):
            _metric_part(metrics[part], f"metrics.{part}", classes)
    if mapping(metrics.get("robustness"), "metrics.robustness", optional=True):
        _robustness(metrics["robustness"])


def _metric_part(scores: dict, field: str, classes: int | None) -> None:
    fraction(scores.get("accuracy"), f"{field}.accuracy")
    fraction(scores.get("macro_f1"), f"{field}.macro_f1")
    for key in FRACTIONS[2:]:
        fraction(scores.get(key), f"{field}.{key}", optional=True)
    number(scores.get("kappa"), f"{field}.kappa", optional=True, low=-1.0, high=1.0)
    number(scores.get("brier"), f"{field}.brier", optional=True, high=2.0)
    number(scores.get("log_loss"), f"{field}.log_loss", optional=True)
    count(scores.get("n"), f"{field}.n", optional=True)
    sequence(scores.get("per_class"), f"{field}.per_class", length=classes)
    for key in PER_CLASS:
        if sequence(scores.get(key), f"{field}.{key}", optional=key != "per_class",
                    length=classes if classes is not None else len(scores["per_class"])):
            for index, value in enumerate(scores[key]):
                fraction(value, f"{field}.{key}[{index}]", optional=True)
    classes = len(scores["per_class"])
    sequence(scores.get("confusion"), f"{field}.confusion", length=classes)
    for index, line in enumerate(scores["confusion"]):
        sequence(line, f"{field}.confusion[{index}]", length=classes)
        for value in line:
            count(value, f"{field}.confusion[{index}][]")
    if mapping(scores.get("reliability"), f"{field}.reliability", optional=True):
        _reliability(scores["reliability"], f"{field}.reliability")


def _reliability(bins: dict, field: str) -> None:
    sequence(bins.get("count"), f"{field}.count")
    for key in ("confidence", "accuracy"):
        sequence(bins.get(key), f"{field}.{key}", length=len(bins["count"]))
        for value in bins[key]:
            fraction(value, f"{field}.{key}[]", optional=True)
    for value in bins["count"]:
        count(value, f"{field}.count[]")


def _robustness(robustness: dict) -> None:
    field = "metrics.robustness"
    if mapping(robustness.get("accuracy"), f"{field}.accuracy", optional=True):
        for corruption, value in robustness["accuracy"].items():
            fraction(value, f"{field}.accuracy.{corruption}", optional=True)
    for key in ("mean_accuracy", "clean_accuracy"):
        fraction(robustness.get(key), f"{field}.{key}", optional=True)
    number(robustness.get("relative"), f"{field}.relative", optional=True, high=MAX_COUNT)
    count(robustness.get("images"), f"{field}.images", optional=True)
    count(robustness.get("version"), f"{field}.version", optional=True)
    text(robustness.get("suite"), f"{field}.suite", optional=True)


def _timing(timing: dict, ok: bool) -> None:
    for key, value in timing.items():
        if key == "shared_features":
            if mapping(value, "timing.shared_features", optional=True):
                for part, seconds in value.items():
                    number(seconds, f"timing.shared_features.{part}")
        elif isinstance(value, str):
            continue  # the memory reading's scope: job or process
        else:
            number(value, f"timing.{key}", optional=True)
    for key in ("fit_seconds", "predict_ms_per_1k") if ok else ():
        number(timing.get(key), f"timing.{key}")


def _predictions(predictions: object, test_size: object, classes: int | None) -> None:
    """Each stored label sequence decodes (records/labels.py: one byte per test image) and
    names a class of the record."""
    if not mapping(predictions, "predictions", optional=True):
        return
    text(predictions.get("encoding"), "predictions.encoding", optional=True)
    limit = test_size + 1 if isinstance(test_size, int) else 1 << 26
    predicted = None
    for key in ("test", "test_true"):
        if key not in predictions:
            continue
        encoded = predictions[key]
        text(encoded, f"predictions.{key}")
        if encoded.startswith(DIFFERENCE) and predicted is None:
            fail(f"predictions.{key}", "is a difference from predictions.test, which is missing")
        try:
            labels = (label_bytes(encoded, limit) if key == "test"
                      else truth_bytes(encoded, predicted or b"", limit))
        except ValueError as error:
            fail(f"predictions.{key}", f"is not encoded labels ({error})")
        if isinstance(test_size, int) and len(labels) != test_size:
            fail(f"predictions.{key}", f"holds {len(labels)} labels, not the {test_size} "
                                       f"test images of sizes.test")
        if classes is not None and labels and max(labels) >= classes:
            fail(f"predictions.{key}", f"holds label {max(labels)}, not one of the "
                                       f"{classes} classes")
        if key == "test":
            predicted = labels


def _history(history: object) -> None:
    """A network's epochs: each an object of numbers (null where not measured)."""
    if not sequence(history, "history", optional=True):
        return
    if len(history) > MAX_COUNT // 1000:
        fail("history", f"has {len(history)} epochs")
    for index, epoch in enumerate(history):
        mapping(epoch, f"history[{index}]")
        for key, value in epoch.items():
            number(value, f"history[{index}].{key}", optional=True, low=-MAX_QUANTITY)


def _model(model: object) -> None:
    if not mapping(model, "model", optional=True):
        return
    for key in ("reducer", "hyperparameter_selection", "notes", "name", "architecture"):
        text(model.get(key), f"model.{key}", optional=True)
    count(model.get("n_parameters"), "model.n_parameters", optional=True)
    if sequence(model.get("input_shape"), "model.input_shape", optional=True):
        for size in model["input_shape"]:
            count(size, "model.input_shape[]", optional=True)
    if mapping(model.get("params"), "model.params", optional=True):
        count(model["params"].get("epochs"), "model.params.epochs", optional=True)
    mapping(model.get("chosen_on_validation"), "model.chosen_on_validation", optional=True)


def _env(env: object, *, required: bool) -> None:
    if not mapping(env, "env", optional=not required):
        return
    for key in ("hardware", "cpu", "gpu", "git_commit", "host", "python", "platform"):
        text(env.get(key), f"env.{key}", optional=True)
    for key in ("threads", "cpus_available", "cpu_count", "gpu_count"):
        count(env.get(key), f"env.{key}", optional=True)


def _the_rest(data: dict) -> None:
    """The fields the pages show or link as they are: strings, lists of them, objects."""
    for key in ("error", "recipe", "started_at", "finished_at", "traceback"):
        text(data.get(key), key, optional=True)
    mapping(data.get("overrides"), "overrides", optional=True)
    mapping(data.get("checkpoint"), "checkpoint", optional=True)
    if sequence(data.get("warnings"), "warnings", optional=True):
        for index, warning in enumerate(data["warnings"]):
            text(warning, f"warnings[{index}]")
    if mapping(data.get("refit"), "refit", optional=True):
        text(data["refit"].get("of_run"), "refit.of_run")
        text(data["refit"].get("trained_on"), "refit.trained_on", optional=True)
    if mapping(data.get("saved_model"), "saved_model", optional=True):
        saved = data["saved_model"]
        text(saved.get("directory"), "saved_model.directory")
        count(saved.get("bytes"), "saved_model.bytes", optional=True, most=2**63 - 1)
        if mapping(saved.get("files"), "saved_model.files"):
            for name, digest in saved["files"].items():
                text(digest, f"saved_model.files.{name}")
    if mapping(data.get("trained_by"), "trained_by", optional=True):
        text(data["trained_by"].get("run_id"), "trained_by.run_id")
        text(data["trained_by"].get("name"), "trained_by.name")
        count(data["trained_by"].get("threads"), "trained_by.threads", optional=True)
    if mapping(data.get("evaluated"), "evaluated", optional=True):
        evaluated = data["evaluated"]
        text(evaluated.get("from_run"), "evaluated.from_run")
        text(evaluated.get("at"), "evaluated.at", optional=True)
        if sequence(evaluated.get("added"), "evaluated.added"):
            for metric in evaluated["added"]:
                text(metric, "evaluated.added[]")
