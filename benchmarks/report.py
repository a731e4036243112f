"""Markdown leaderboards from the results stores, with tabulate.

Everything here is a pure function of the stored records, so ``--report-only`` regenerates
the files byte for byte: no clock, no machine facts, only what the records say.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from pathlib import Path

from tabulate import tabulate

from .profiles import PROFILES
from .store import ResultsStore, find_stores

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
    """One row per pipeline: metrics averaged over its ok seeds."""
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
        rows.append({
            "pipeline": pipeline,
            "family": runs[0]["family"],
            "reducer": model.get("reducer") or "–",
            "seeds": len(runs),
            "accuracy": [run["metrics"]["test"]["accuracy"] for run in runs],
            "macro_f1": [run["metrics"]["test"]["macro_f1"] for run in runs],
            "validation_accuracy": [run["metrics"]["validation"]["accuracy"] for run in runs],
            "fit_seconds": statistics.fmean(run["timing"]["fit_seconds"] for run in runs),
            "predict_ms_per_1k": statistics.fmean(run["timing"]["predict_ms_per_1k"]
                                                  for run in runs),
            "peak_rss_mb": max(run["timing"]["peak_rss_mb"] for run in runs),
            "n_parameters": model.get("n_parameters"),
            "train_size": runs[0]["sizes"]["train"],
            "hardware": runs[0]["env"].get("hardware", "–"),
            "per_class": per_class,
        })
    rows.sort(key=lambda row: (-statistics.fmean(row["accuracy"]), row["pipeline"]))
    return rows


def _main_table(rows: list[dict], *, with_family: bool, with_hardware: bool) -> str:
    headers = ["rank", "pipeline"] + (["family"] if with_family else []) + [
        "reducer", "test acc %", "macro-F1 %", "val acc %", "fit s", "predict ms/1k",
        "parameters", "peak MB", "train images", "seeds"] + (["hardware"] if with_hardware else [])
    table = []
    for rank, row in enumerate(rows, start=1):
        table.append(
            [rank, row["pipeline"]] + ([row["family"]] if with_family else []) + [
                row["reducer"], _percent(row["accuracy"]), _percent(row["macro_f1"]),
                _percent(row["validation_accuracy"]), _number(row["fit_seconds"]),
                _number(row["predict_ms_per_1k"]), _count(row["n_parameters"]),
                _number(row["peak_rss_mb"], 0), _count(row["train_size"]), row["seeds"],
            ] + ([row["hardware"]] if with_hardware else [])
        )
    left = {"pipeline", "family", "reducer", "hardware"}
    return _markdown(table, headers, ["left" if h in left else "right" for h in headers])


def _markdown(table: list[list], headers: list[str], align: list[str] | None = None) -> str:
    """A pipe table; cells are pre-formatted strings so numbers print exactly as given."""
    align = align or ["left"] * len(headers)
    return tabulate(table, headers=headers, tablefmt="pipe", colalign=align,
                    disable_numparse=True)


def _per_class_table(rows: list[dict], class_names: list[str]) -> str:
    table = [[row["pipeline"]] + [_number(None if value is None else value * 100, 1)
                                  for value in row["per_class"]] for row in rows]
    headers = ["pipeline", *class_names]
    return _markdown(table, headers, ["left"] + ["right"] * len(class_names))


def _failures_table(records: list[dict]) -> str:
    table = [[record["pipeline"], record["seed"], record["status"],
              (record.get("error") or "").replace("|", "\\|").replace("\n", " ")[:200]]
             for record in sorted(records, key=lambda record: (record["pipeline"], record["seed"]))]
    return _markdown(table, ["pipeline", "seed", "status", "error"])


def leaderboard_markdown(store: ResultsStore) -> str:
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
            used = sorted({(row["train_size"]) for row in rows})
            test_sizes = sorted({record["sizes"]["test"] for record in records
                                 if record["status"] == "ok"})
            hardware = sorted({row["hardware"] for row in rows})
            lines += [
                f"Training images used: {', '.join(f'{size:,}' for size in used)}; "
                f"test images scored: {', '.join(f'{size:,}' for size in test_sizes)}. "
                f"Hardware: {'; '.join(hardware)}.", "",
                "### Overall", "",
                _main_table(rows, with_family=True, with_hardware=len(hardware) > 1), "",
            ]
            for family in FAMILY_ORDER:
                family_rows = [row for row in rows if row["family"] == family]
                if family_rows:
                    lines += [f"### {family.capitalize()} pipelines", "",
                              _main_table(family_rows, with_family=False,
                                          with_hardware=len(hardware) > 1), ""]
            class_names = next(
                (record["class_names"] for record in records if record.get("class_names")),
                [str(index) for index in range(len(rows[0]["per_class"]))])
            lines += ["### Per-class test accuracy (%)", "",
                      _per_class_table(rows, class_names), ""]
        failures = [record for record in records if record["status"] != "ok"]
        if failures:
            lines += ["### Failed or timed-out runs", "", _failures_table(failures), ""]
    return "\n".join(lines).rstrip() + "\n"


def index_markdown(results_dir: Path, stores: list[ResultsStore]) -> str:
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
    return "\n".join([
        "# Results", "",
        "Every table here is generated from the stored records (`runs.jsonl`, one JSON record "
        "per job) by `python run_all.py --report-only`; never edit them by hand.", "",
        body, "",
    ])


def write_reports(results_dir: Path | str) -> list[Path]:
    """Regenerate every leaderboard under ``results_dir`` and its index; the paths written."""
    results_dir = Path(results_dir)
    stores = find_stores(results_dir)
    written = []
    for store in stores:
        path = store.directory / LEADERBOARD_NAME
        path.write_text(leaderboard_markdown(store), encoding="utf-8")
        written.append(path)
    if stores:
        index = results_dir / INDEX_NAME
        index.write_text(index_markdown(results_dir, stores), encoding="utf-8")
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
    table = [[rank, row["pipeline"], row["family"], _percent(row["accuracy"]),
              _number(row["fit_seconds"]), _number(row["predict_ms_per_1k"]),
              _count(row["train_size"])]
             for rank, row in enumerate(rows[:EXCERPT_ROWS], start=1)]
    headers = ["rank", "pipeline", "family", "test acc %", "fit s", "predict ms/1k",
               "train images"]
    link = f"results/fashion-mnist/{profile}/{LEADERBOARD_NAME}"
    return "\n".join([
        f"Fashion-MNIST, `standard` split, profile `{profile}` (top {len(table)} of "
        f"{len(rows)}; all of it in [{link}]({link})):", "",
        _markdown(table, headers, ["right", "left", "left", "right", "right", "right", "right"]),
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
