"""Markdown leaderboards from the results stores, with tabulate.

Everything here is a pure function of the stored records, so ``--report-only`` regenerates
the files byte for byte: no clock, no machine facts, only what the records say.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import numpy as np
from tabulate import tabulate

from pipelines.profiles import PROFILES

from .statistics import BOOTSTRAP_RESAMPLES, bootstrap_accuracy_ci, mcnemar_exact
from .store import ResultsStore, decode_labels, find_stores, find_study_stores, finished_at

LEADERBOARD_NAME = "LEADERBOARD.md"
INDEX_NAME = "README.md"
FAMILY_ORDER = ("classical", "deep")
HEADER_NOTE = ("Generated from the records in [runs.jsonl](runs.jsonl) by "
               "`python run_all.py --report-only`; do not edit by hand.")


def _mean_std(values: list[float]) -> tuple[float, float | None]:
    mean = statistics.fmean(values)
    return mean, (statistics.stdev(values) if len(values) > 1 else None)


def _percent(values: list[float]) -> str:
    mean, std = _mean_std(values)
    return f"{mean * 100:.2f}" if std is None else f"{mean * 100:.2f} ± {std * 100:.2f}"


def _number(value: float | None, digits: int = 1) -> str:
    if value is None:
        return "–"
    return f"{value:,.{digits}f}"


def _count(value: int | None) -> str:
    return "–" if value is None else f"{value:,}"


def summarise(records: list[dict]) -> list[dict]:
    """One row per pipeline: metrics averaged over its ok seeds, best mean accuracy first."""
    by_pipeline: dict[str, list[dict]] = defaultdict(list)
    for record in records:
        if record.get("status") == "ok":
            by_pipeline[record["pipeline"]].append(record)
    rows = []
    for pipeline, runs in by_pipeline.items():
        runs.sort(key=lambda record: record["seed"])
        model = runs[-1].get("model") or {}
        n_classes = len(runs[0]["metrics"]["test"]["per_class"])
        per_class = []
        for index in range(n_classes):
            values = [run["metrics"]["test"]["per_class"][index] for run in runs]
            values = [value for value in values if value is not None]
            per_class.append(statistics.fmean(values) if values else None)
        accuracy = [run["metrics"]["test"]["accuracy"] for run in runs]
        rows.append({
            "pipeline": pipeline,
            "family": runs[0]["family"],
            "reducer": model.get("reducer") or "–",
            "seeds": len(runs),
            "runs": runs,
            "accuracy": accuracy,
            "mean_accuracy": statistics.fmean(accuracy),
            "macro_f1": [run["metrics"]["test"]["macro_f1"] for run in runs],
            "validation_accuracy": [run["metrics"]["validation"]["accuracy"] for run in runs],
            "fit_seconds": statistics.fmean(run["timing"]["fit_seconds"] for run in runs),
            "predict_ms_per_1k": statistics.fmean(run["timing"]["predict_ms_per_1k"]
                                                  for run in runs),
            "peak_rss_mb": max(run["timing"]["peak_rss_mb"] or 0 for run in runs),
            "n_parameters": model.get("n_parameters"),
            "train_size": runs[0]["sizes"]["train"],
            "hardware": runs[0]["env"].get("hardware", "–"),
            "per_class": per_class,
        })
    rows.sort(key=lambda row: (-row["mean_accuracy"], row["pipeline"]))
    add_statistics(rows)
    return rows


def _correctness(run: dict) -> np.ndarray | None:
    """Per test image, whether the run got it right; None for records without predictions."""
    predictions = run.get("predictions") or {}
    if "test" not in predictions or "test_true" not in predictions:
        return None
    return decode_labels(predictions["test"]) == decode_labels(predictions["test_true"])


def add_statistics(rows: list[dict]) -> None:
    """Bootstrap interval per row, McNemar's test against the leader, Pareto membership.

    The statistics use each pipeline's lowest seed (the seed every pipeline shares when all
    ran the same seeds), on the same test images.
    """
    for row in rows:
        row["pareto"] = not any(
            other is not row and other["fit_seconds"] <= row["fit_seconds"]
            and other["mean_accuracy"] >= row["mean_accuracy"]
            and (other["fit_seconds"] < row["fit_seconds"]
                 or other["mean_accuracy"] > row["mean_accuracy"])
            for other in rows)
        row["ci"] = None
        row["mcnemar"] = None
    if not rows:
        return
    common_seed = min(set.intersection(*({run["seed"] for run in row["runs"]} for row in rows)),
                      default=None)
    correctness = {}
    for row in rows:
        run = next((run for run in row["runs"] if run["seed"] == common_seed), row["runs"][0])
        correct = _correctness(run)
        if correct is not None:
            correctness[row["pipeline"]] = (run["seed"], correct)
            row["ci"] = bootstrap_accuracy_ci(correct)
    leader = rows[0]
    if leader["pipeline"] not in correctness:
        return
    leader_seed, leader_correct = correctness[leader["pipeline"]]
    for row in rows[1:]:
        seed, correct = correctness.get(row["pipeline"], (None, None))
        if correct is not None and seed == leader_seed and len(correct) == len(leader_correct):
            row["mcnemar"] = mcnemar_exact(leader_correct, correct)


def _markdown(table: list[list], headers: list[str], align: list[str] | None = None) -> str:
    """A pipe table; cells are pre-formatted strings so numbers print exactly as given."""
    align = align or ["left"] * len(headers)
    return tabulate(table, headers=headers, tablefmt="pipe", colalign=align,
                    disable_numparse=True)


def _interval(row: dict) -> str:
    return "–" if row["ci"] is None else f"{row['ci'][0] * 100:.2f}–{row['ci'][1] * 100:.2f}"


def _versus_leader(row: dict, rank: int) -> str:
    if rank == 1:
        return "leader"
    test = row["mcnemar"]
    if test is None:
        return "–"
    mark = "" if test.distinguishable else " ≈"
    value = f"{test.p_value:.3g}" if test.p_value >= 1e-300 else "<1e-300"  # below a double
    return f"{value}{mark}"


def _main_table(rows: list[dict], ranks: dict[str, int], *, with_family: bool,
                with_hardware: bool) -> str:
    headers = ["rank", "pipeline"] + (["family"] if with_family else []) + [
        "reducer", "test acc %", "95% CI", "p vs leader", "macro-F1 %", "val acc %", "fit s",
        "predict ms/1k", "parameters", "peak MB", "train images", "seeds", "Pareto",
    ] + (["hardware"] if with_hardware else [])
    table = []
    for row in rows:
        rank = ranks[row["pipeline"]]
        table.append(
            [rank, row["pipeline"]] + ([row["family"]] if with_family else []) + [
                row["reducer"], _percent(row["accuracy"]), _interval(row),
                _versus_leader(row, rank), _percent(row["macro_f1"]),
                _percent(row["validation_accuracy"]), _number(row["fit_seconds"]),
                _number(row["predict_ms_per_1k"]), _count(row["n_parameters"]),
                _number(row["peak_rss_mb"], 0), _count(row["train_size"]), row["seeds"],
                "★" if row["pareto"] else "",
            ] + ([row["hardware"]] if with_hardware else [])
        )
    left = {"pipeline", "family", "reducer", "hardware", "Pareto"}
    return _markdown(table, headers, ["left" if h in left else "right" for h in headers])


def _per_class_table(rows: list[dict], class_names: list[str]) -> str:
    table = [[row["pipeline"]] + [_number(None if value is None else value * 100, 1)
                                  for value in row["per_class"]] for row in rows]
    headers = ["pipeline", *class_names]
    return _markdown(table, headers, ["left"] + ["right"] * len(class_names))


RECIPE_NOTES = (
    "A deep pipeline's bare name is its network trained with the `seed` recipe (seed 000's "
    "protocol); `NAME@RECIPE` is the same network trained with another recipe "
    "(`python run_all.py --list` describes them). *Gain* is the recipe's test accuracy minus "
    "the `seed` recipe's, in points, and *fit ×* its fit time over the `seed` recipe's.")


def recipe_gain_table(rows: list[dict]) -> str | None:
    """Each network that ran under more than the seed recipe: one line per recipe."""
    from pipelines.recipes import DEFAULT_RECIPE, split_name

    by_network: dict[str, dict[str, dict]] = defaultdict(dict)
    for row in rows:
        if row["family"] == "deep":
            network, recipe = split_name(row["pipeline"])
            by_network[network][recipe or DEFAULT_RECIPE] = row
    table = []
    for network, recipes in sorted(by_network.items()):
        if set(recipes) == {DEFAULT_RECIPE}:
            continue
        baseline = recipes.get(DEFAULT_RECIPE)
        for recipe in sorted(recipes, key=lambda name: (name != DEFAULT_RECIPE, name)):
            row = recipes[recipe]
            gain = ratio = "–"
            if baseline is not None and row is not baseline:
                gain = f"{(row['mean_accuracy'] - baseline['mean_accuracy']) * 100:+.2f}"
                ratio = f"{row['fit_seconds'] / baseline['fit_seconds']:.2f}"
            table.append([network, recipe, _percent(row["accuracy"]),
                          _number(row["fit_seconds"]), gain, ratio, row["hardware"]])
    if not table:
        return None
    return _markdown(table, ["network", "recipe", "test acc %", "fit s", "gain (points)",
                             "fit ×", "hardware"],
                     ["left", "left", "right", "right", "right", "right", "left"])


ACCURACY_TARGETS = (0.90, 0.92, 0.934, 0.95)
TIME_TO_ACCURACY_NOTES = (
    "For each deep run, the training seconds (epochs' training steps, without the validation "
    "passes) until its validation accuracy first reached each target, from the epoch history "
    "of its record (– where it never did), and the test accuracy of the model it ended with. "
    "93.4% is seed 000's MCNN.")


def seconds_to_reach(history: list[dict], target: float) -> float | None:
    """Training seconds until the validation accuracy first reached ``target``."""
    elapsed = 0.0
    for epoch in history:
        elapsed += epoch.get("train_seconds") or epoch.get("seconds") or 0.0
        if (epoch.get("val_accuracy") or 0.0) >= target:
            return elapsed
    return None


def time_to_accuracy_table(rows: list[dict]) -> str | None:
    table = []
    for row in rows:
        run = row["runs"][0]
        history = run.get("history")
        if row["family"] != "deep" or not history:
            continue
        table.append([row["pipeline"], run["seed"]]
                     + [_number(seconds_to_reach(history, target))
                        for target in ACCURACY_TARGETS]
                     + [len(history), _percent([run["metrics"]["test"]["accuracy"]]),
                        row["hardware"]])
    if not table:
        return None
    headers = (["pipeline", "seed"] + [f"s to {target:.1%} val" for target in ACCURACY_TARGETS]
               + ["epochs", "final test acc %", "hardware"])
    return _markdown(table, headers, ["left"] + ["right"] * (len(headers) - 2) + ["left"])


REDUCER_ORDER = ("raw", "pca", "fld", "hog")


def reducer_matrix(rows: list[dict]) -> str | None:
    """Test accuracy of each classifier (rows) with each reducer (columns), from pipelines
    named ``<reducer>-<classifier>``; None when fewer than two reducers are present."""
    cells: dict[str, dict[str, str]] = defaultdict(dict)
    for row in rows:
        reducer, _, classifier = row["pipeline"].partition("-")
        if row["family"] == "classical" and reducer == row["reducer"] and classifier:
            cells[classifier][reducer] = _percent(row["accuracy"])
    reducers = [r for r in REDUCER_ORDER if any(r in found for found in cells.values())]
    if len(reducers) < 2:
        return None
    best = {classifier: max(float(cell.split()[0]) for cell in found.values())
            for classifier, found in cells.items()}  # ties are all bold
    table = [[classifier] + [(f"**{found[r]}**" if float(found[r].split()[0])
                              == best[classifier] else found[r])
                             if r in found else "–" for r in reducers]
             for classifier, found in sorted(cells.items())]
    return _markdown(table, ["classifier", *reducers], ["left"] + ["right"] * len(reducers))


def _failures_table(records: list[dict]) -> str:
    table = [[record["pipeline"], record["seed"], record["status"],
              _cell(record.get("error") or "")]
             for record in sorted(records, key=lambda record: (record["pipeline"], record["seed"]))]
    return _markdown(table, ["pipeline", "seed", "status", "error"])


TABLE_NOTES = (
    "Test accuracy is the mean over seeds (± standard deviation when there are several). "
    "The 95% CI is a percentile bootstrap over the test images ({resamples:,} resamples) and "
    "*p vs leader* is McNemar's exact test against the first row on the same test images, both "
    "for the lowest seed every pipeline ran; ≈ marks a pipeline not distinguishable from the "
    "leader at the 5% level. ★ marks the Pareto frontier of accuracy against fit time: no "
    "other pipeline is both faster to fit and more accurate."
)


ImagesLoader = Callable[[dict], "np.ndarray | None"]


def _figures(rows: list[dict], class_names: list[str], figures_dir: Path, prefix: str,
             title: str, test_images: ImagesLoader | None) -> list[tuple[str, Path]]:
    """Draw the split's figures; returns (caption, path) for each file that exists."""
    from . import figures

    drawn = [("Test accuracy against fit time", figures.accuracy_vs_fit_time(
        rows, figures_dir / f"{prefix}-accuracy-vs-fit-time.png", title))]
    leaders = {}
    for family in FAMILY_ORDER:
        members = [row for row in rows if row["family"] == family]
        if members:
            leaders[family] = members[0]
            run = members[0]["runs"][0]
            drawn.append((f"Confusion matrix of the best {family} pipeline, "
                          f"{members[0]['pipeline']}", figures.confusion_heatmap(
                              run["metrics"]["test"]["confusion"], class_names,
                              figures_dir / f"{prefix}-confusion-{members[0]['pipeline']}.png",
                              f"{members[0]['pipeline']} (seed {run['seed']}), test set")))
    compared = [row for family in FAMILY_ORDER
                for row in [r for r in rows if r["family"] == family][:2]]
    drawn.append(("Per-class test accuracy of the leaders of each family",
                  figures.per_class_bars(compared, class_names,
                                         figures_dir / f"{prefix}-per-class.png",
                                         "Per-class test accuracy, family leaders")))
    for row in rows:
        history = row["runs"][0].get("history")
        if row["family"] == "deep" and history:
            drawn.append((f"Training curves of {row['pipeline']}", figures.training_curves(
                history, figures_dir / f"{prefix}-curves-{row['pipeline']}.png",
                f"{row['pipeline']} (seed {row['runs'][0]['seed']})")))
    best_run = rows[0]["runs"][0]
    grid = figures_dir / f"{prefix}-misclassified-{rows[0]['pipeline']}.png"
    images = test_images(best_run) if test_images else None
    predictions = best_run.get("predictions") or {}
    if images is not None and "test_true" in predictions:
        figures.misclassified_grid(images, decode_labels(predictions["test_true"]),
                                   decode_labels(predictions["test"]), class_names, grid,
                                   f"Misclassified test images, {rows[0]['pipeline']} "
                                   f"(true → predicted)", source=best_run["run_id"])
    elif grid.exists() and figures.drawn_from(grid) != best_run["run_id"]:
        # drawn from an earlier run (or by an older version that did not say): without the
        # test images it cannot be redrawn, and a stale grid must not stand for this run
        grid.unlink()
    if grid.exists():
        drawn.append((f"Misclassified test images of the best pipeline, {rows[0]['pipeline']}",
                      grid))
    return drawn


def leaderboard_markdown(store: ResultsStore, *, figures_dir: Path | None = None,
                         test_images: ImagesLoader | None = None) -> str:
    """The leaderboard of one store; with ``figures_dir``, its figures are drawn and linked."""
    latest = list(store.latest().values())
    dataset = store.directory.parent.name
    profile_name = store.directory.name
    profile = PROFILES.get(profile_name)
    lines = [f"# Leaderboard: {dataset}, profile `{profile_name}`", "", HEADER_NOTE, ""]
    if profile is not None:
        lines += [f"Profile `{profile.name}`: {profile.description}.", ""]
    splits: dict[str, list[dict]] = defaultdict(list)
    for record in latest:
        splits[record["split"]["fingerprint"]].append(record)
    ordered = sorted(splits.items(), key=lambda item: (item[1][0]["split"]["name"] != "standard",
                                                       item[1][0]["split"]["name"], item[0]))
    for fingerprint, records in ordered:
        split = records[0]["split"]
        sizes = split["sizes"]
        lines += [
            f"## Split `{split['name']}` (fingerprint `{fingerprint}`)", "",
            f"{sizes['train']:,} train / {sizes['validation']:,} validation / "
            f"{sizes['test']:,} test images in the split; every row below was scored on it.",
            "",
        ]
        rows = summarise(records)
        if rows:
            ranks = {row["pipeline"]: rank for rank, row in enumerate(rows, start=1)}
            used = sorted({row["train_size"] for row in rows})
            test_sizes = sorted({record["sizes"]["test"] for record in records
                                 if record["status"] == "ok"})
            hardware = sorted({row["hardware"] for row in rows})
            several = len(hardware) > 1
            lines += [
                f"Training images used: {', '.join(f'{size:,}' for size in used)}; "
                f"test images scored: {', '.join(f'{size:,}' for size in test_sizes)}. "
                f"Hardware: {'; '.join(hardware)}.", "",
                TABLE_NOTES.format(resamples=BOOTSTRAP_RESAMPLES), "",
                "### Overall", "",
                _main_table(rows, ranks, with_family=True, with_hardware=several), "",
            ]
            for family in FAMILY_ORDER:
                family_rows = [row for row in rows if row["family"] == family]
                if family_rows:
                    lines += [f"### {family.capitalize()} pipelines", "",
                              _main_table(family_rows, ranks, with_family=False,
                                          with_hardware=several), ""]
            class_names = next(
                (record["class_names"] for record in records if record.get("class_names")),
                [str(index) for index in range(len(rows[0]["per_class"]))])
            lines += ["### Per-class test accuracy (%)", "",
                      _per_class_table(rows, class_names), ""]
            recipes = recipe_gain_table(rows)
            if recipes:
                lines += ["### Recipe gain: each network under each training recipe", "",
                          RECIPE_NOTES, "", recipes, ""]
            speed = time_to_accuracy_table(rows)
            if speed:
                lines += ["### Time to accuracy", "", TIME_TO_ACCURACY_NOTES, "", speed, ""]
            matrix = reducer_matrix(rows)
            if matrix:
                lines += ["### Reducer matrix: test accuracy (%) of each classifier on each "
                          "feature step", "", "The best feature step of each classifier is in "
                          "bold.", "", matrix, ""]
            if figures_dir is not None:
                title = f"{dataset}, {profile_name}, split {split['name']}"
                drawn = _figures(rows, class_names, figures_dir,
                                 f"{split['name']}-{fingerprint[:8]}", title, test_images)
                lines += ["### Figures", ""]
                for caption, path in drawn:
                    relative = path.relative_to(store.directory).as_posix()
                    lines += [f"**{caption}**", "", f"![{caption}]({relative})", ""]
            selection = _selection_table(rows)
            if selection:
                lines += ["### How each pipeline's settings were chosen", "",
                          "As its newest record says (`model.hyperparameter_selection`, else "
                          "the model's notes); nothing was chosen on the test split.", "",
                          selection, ""]
        failures = [record for record in records if record["status"] != "ok"]
        if failures:
            lines += ["### Failed or timed-out runs", "", _failures_table(failures), ""]
    missing = _missing_table(latest)
    if missing:
        lines += ["## Registered pipelines without a result in this profile", "",
                  "Every registered pipeline is ranked above once a run of it has succeeded; "
                  "these have not, for the reason given.", "", missing, ""]
    return "\n".join(lines).rstrip() + "\n"


def _missing_table(latest: list[dict]) -> str | None:
    """The registered pipelines with no ok record in any split of this store, each with why:
    its newest failed or timed-out record, else that it has not been run here yet."""
    from pipelines import list_pipelines

    succeeded = {record["pipeline"] for record in latest if record["status"] == "ok"}
    newest_failure: dict[str, dict] = {}
    for record in sorted(latest, key=finished_at):
        if record["status"] != "ok":
            newest_failure[record["pipeline"]] = record
    table = []
    for name in sorted(set(list_pipelines()) - succeeded):
        failure = newest_failure.get(name)
        reason = "not run yet in this profile" if failure is None else (
            f"{'timed out' if failure['status'] == 'timeout' else failure['status']} "
            f"(seed {failure['seed']}, {failure.get('finished_at') or 'time unknown'}): "
            + _cell(failure.get("error") or ""))
        table.append([name, reason])
    return _markdown(table, ["pipeline", "why it is not ranked"]) if table else None


def _cell(text: str, limit: int = 200) -> str:
    """Free text fit for one cell of a pipe table."""
    return text.replace("|", "\\|").replace("\n", " ")[:limit]


def _selection_table(rows: list[dict]) -> str | None:
    table = []
    for row in rows:
        model = row["runs"][-1].get("model") or {}
        how = model.get("hyperparameter_selection") or model.get("notes")
        if how:
            table.append([row["pipeline"], " ".join(str(how).split()).replace("|", "/")])
    return _markdown(table, ["pipeline", "settings and how they were chosen"],
                     ["left", "left"]) if table else None


def index_markdown(results_dir: Path, stores: list[ResultsStore],
                   study_stores: list[ResultsStore] = ()) -> str:
    table = []
    for store in stores:
        rows = summarise([record for record in store.latest().values()
                          if record["split"]["name"] == "standard"] or
                         list(store.latest().values()))
        relative = store.directory.relative_to(results_dir)
        best = rows[0] if rows else None
        table.append([
            store.directory.parent.name, store.directory.name,
            len({record["pipeline"] for record in store.latest().values()}),
            best["pipeline"] if best else "–",
            _percent(best["accuracy"]) if best else "–",
            f"[{relative.as_posix()}/{LEADERBOARD_NAME}]({relative.as_posix()}/{LEADERBOARD_NAME})",
        ])
    headers = ["dataset", "profile", "pipelines", "best pipeline", "best test acc %",
               "leaderboard"]
    body = _markdown(table, headers, ["left", "left", "right", "left", "right", "left"]) \
        if table else "No results yet."
    lines = [
        "# Results", "",
        "Every table here is generated from the stored records (`runs.jsonl`, one JSON record "
        "per job) by `python run_all.py --report-only`; never edit them by hand.", "",
        body, "",
    ]
    studies = []
    for store in study_stores:
        path = store.path
        relative = path.parent.relative_to(results_dir).as_posix()
        runs = [record for record in store.latest().values() if record.get("status") == "ok"]
        studies.append([path.parents[2].name, path.parent.parent.name, path.parent.name,
                        len(runs), f"[{relative}/STUDY.md]({relative}/STUDY.md)"])
    if studies:
        lines += ["## Studies", "",
                  _markdown(studies, ["study", "dataset", "profile", "runs", "report"],
                            ["left", "left", "left", "right", "left"]), ""]
    return "\n".join(lines)


def dataset_test_images(data_dir: Path | None = None) -> ImagesLoader:
    """A loader of the test images a record was scored on, when the dataset is at hand.

    It never downloads; a missing dataset, another split fingerprint or other labels give None.
    """
    from .datasets import load_dataset
    from .errors import FashionbenchError
    from .splits import make_split, subsample

    cache: dict[tuple, tuple | None] = {}

    def load(run: dict) -> np.ndarray | None:
        key = (run["dataset"], run["split"]["name"])
        if key not in cache:
            try:
                dataset = load_dataset(run["dataset"], data_dir, download=False)
                cache[key] = (dataset, make_split(run["split"]["name"], dataset))
            except FashionbenchError:
                cache[key] = None
        if cache[key] is None:
            return None
        dataset, split = cache[key]
        profile = PROFILES.get(run["profile"])
        if split.fingerprint != run["split"]["fingerprint"] or profile is None:
            return None
        indices = subsample(split.test, dataset.labels, profile.test_size, run["seed"])
        stored = (run.get("predictions") or {}).get("test_true")
        if stored is None or not np.array_equal(dataset.labels[indices], decode_labels(stored)):
            return None
        return dataset.images[indices]

    return load


def write_reports(results_dir: Path | str, *, data_dir: Path | None = None) -> list[Path]:
    """Regenerate every leaderboard (with figures) under ``results_dir`` and its index.

    Returns the markdown paths written.
    """
    results_dir = Path(results_dir)
    stores = find_stores(results_dir)
    written = []
    test_images = dataset_test_images(data_dir)
    for store in stores:
        path = store.directory / LEADERBOARD_NAME
        text = leaderboard_markdown(store, figures_dir=store.directory / "figures",
                                    test_images=test_images)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    study_stores = find_study_stores(results_dir)
    if stores or study_stores:
        index = results_dir / INDEX_NAME
        index.write_text(index_markdown(results_dir, stores, study_stores), encoding="utf-8")
        written.append(index)
    return written


EXCERPT_START = "<!-- leaderboard-excerpt:start -->"
EXCERPT_END = "<!-- leaderboard-excerpt:end -->"
EXCERPT_ROWS = 10


def excerpt_markdown(results_dir: Path) -> str:
    """The top of the most complete Fashion-MNIST leaderboard (full, else quick), for README.md."""
    for profile in ("full", "quick"):
        store = ResultsStore(results_dir, "fashion-mnist", profile)
        records = [record for record in store.latest().values()
                   if record["split"]["name"] == "standard"]
        rows = summarise(records)
        if rows:
            break
    else:
        return "No Fashion-MNIST results are stored yet: run `make run`."
    ranked = list(enumerate(rows, start=1))
    shown = ranked[:EXCERPT_ROWS]
    for family in FAMILY_ORDER:  # each family's best, even when it ranks below the top
        leader = next((item for item in ranked if item[1]["family"] == family), None)
        if leader is not None and leader not in shown:
            shown.append(leader)
    several = len({row["hardware"] for _, row in shown}) > 1
    table = [[rank, row["pipeline"], row["family"], _percent(row["accuracy"]),
              _number(row["fit_seconds"]), _number(row["predict_ms_per_1k"]),
              _count(row["train_size"])] + ([row["hardware"]] if several else [])
             for rank, row in shown]
    headers = ["rank", "pipeline", "family", "test acc %", "fit s", "predict ms/1k",
               "train images"] + (["hardware"] if several else [])
    link = f"results/fashion-mnist/{profile}/{LEADERBOARD_NAME}"
    extra = len(shown) - min(EXCERPT_ROWS, len(rows))
    return "\n".join([
        f"Fashion-MNIST, `standard` split, profile `{profile}` (top {min(EXCERPT_ROWS, len(rows))} "
        f"of {len(rows)}" + (", then the best of each family below them" if extra else "")
        + f"; all of it in [{link}]({link})):", "",
        _markdown(table, headers, ["right", "left", "left", "right", "right", "right", "right"]
                  + (["left"] if several else [])),
    ])


def update_readme_excerpt(readme: Path, results_dir: Path) -> bool:
    """Replace the text between the excerpt markers of ``readme``; False when it has none."""
    if not readme.is_file():
        return False
    text = readme.read_text(encoding="utf-8")
    start, end = text.find(EXCERPT_START), text.find(EXCERPT_END)
    if start < 0 or end < start:
        return False
    updated = (text[: start + len(EXCERPT_START)] + "\n" + excerpt_markdown(results_dir) + "\n"
               + text[end:])
    if updated != text:
        readme.write_text(updated, encoding="utf-8")
    return True
