"""Studies: the seed papers' experiments as declarative files, run and reported like the suite.

A study (``benchmarks/studies/NAME.toml``) names a pipeline (or a ``series`` of them), the
hyper-parameter it varies, the values, and the seed's own figure for each value where the
seed gives one; a search study (``kind = "search"``, benchmarks/search.py) names a search
space and a budget instead. ``python run_all.py --study NAME`` runs every variant through
the ordinary runner into ``results/studies/NAME/<dataset>/<profile>/runs.jsonl``; the
report beside it, ``STUDY.md`` with a plot, puts our figures next to the seed's.
"""

from __future__ import annotations

import sys
import tomllib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path

from pipelines.profiles import PROFILES

from ..errors import FashionbenchError, unknown_name
from ..records.layout import ResultsLayout
from ..records.store import ResultsStore, find_study_stores
from ..reports.tables import markdown_table, number, percent, summarise
from ..run.environment import hardware_label
from ..run.search import SearchStudy, parse_search_study, search_markdown

STUDIES_DIR = Path(__file__).resolve().parent  # the TOML files beside this module


@dataclass(frozen=True)
class Variant:
    value: object
    pipeline: str
    parameter: str | None
    seed_test_accuracy: float | None
    # several settings at once, named by ``value`` (an ablation's "no erasing"); an empty
    # table is the pipeline as registered, still stored under the variant's name
    settings: tuple[tuple[str, object], ...] | None = None

    @property
    def label(self) -> str:
        """The name the variant's records are stored under."""
        if self.settings is not None:
            return f"{self.pipeline}[{self.value}]"
        return f"{self.pipeline}[{self.parameter}={self.value}]" if self.parameter \
            else self.pipeline

    @property
    def overrides(self) -> tuple[tuple[str, object], ...]:
        if self.settings is not None:
            return self.settings
        return ((self.parameter, self.value),) if self.parameter else ()


@dataclass(frozen=True)
class Study:
    name: str
    title: str
    seed: str
    variable: str
    profile: str
    split: str
    series: tuple[str, ...]
    values: tuple[object, ...]
    variants: tuple[Variant, ...]
    seed_values: tuple[float | None, ...]
    curves: bool = False
    notes: str = ""
    kind: str = "table"


def list_studies() -> list[str]:
    return sorted(path.stem for path in STUDIES_DIR.glob("*.toml"))


def load_study(name: str) -> Study | SearchStudy:
    """A study by file name: a table of variants, or (``kind = "search"``) a search."""
    path = STUDIES_DIR / f"{name}.toml"
    if not path.is_file():
        raise unknown_name("study", name, list_studies())
    try:
        spec = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise FashionbenchError(f"{path}: not valid TOML ({error})") from None
    if spec.get("kind") == "search":
        return parse_search_study(name, spec, path)
    parameter = spec.get("parameter")
    series = tuple(spec.get("series") or ([spec["pipeline"]] if "pipeline" in spec else []))
    variants, values, seed_values = [], [], []
    for entry in spec.get("variant", []):
        values.append(entry["value"])
        seed_values.append(entry.get("seed_test_accuracy"))
        settings = entry.get("settings")
        if settings is not None:  # TOML arrays are lists; the training settings take tuples
            settings = tuple((key, tuple(value) if isinstance(value, list) else value)
                             for key, value in sorted(settings.items()))
        for pipeline in ([entry["pipeline"]] if "pipeline" in entry else series):
            variants.append(Variant(entry["value"], pipeline, parameter,
                                    entry.get("seed_test_accuracy"), settings))
    if not variants:
        raise FashionbenchError(f"{path}: a study needs [[variant]] entries and a pipeline")
    return Study(
        name=name, title=spec.get("title", name), seed=str(spec.get("seed", "")),
        variable=spec.get("variable", parameter or "variant"),
        profile=spec.get("profile", "quick"), split=spec.get("split", "standard"),
        series=series or tuple(dict.fromkeys(v.pipeline for v in variants)),
        values=tuple(values), variants=tuple(variants), seed_values=tuple(seed_values),
        curves=bool(spec.get("curves", False)), notes=spec.get("notes", ""),
    )


def select_variants(study: Study, only: Iterable[str] = (),
                    exclude: Iterable[str] = ()) -> tuple[Variant, ...]:
    """The variants ``--only``/``--exclude`` leave, in the study's order.

    A shell-style pattern matches a variant's value (``"no dropout"``, ``"0.01"``) or the name
    its records are stored under (``"mcnn@modern[no dropout]"``), so one costly variant of a
    study can run on its own (``--study NAME --profile full --only "no dropout"``).
    """
    def matches(variant: Variant, pattern: str) -> bool:
        return any(fnmatchcase(text, pattern)
                   for text in (_format_value(variant.value), variant.label))

    only, exclude = list(only), list(exclude)
    for pattern in only + exclude:
        if not any(matches(variant, pattern) for variant in study.variants):
            values = ", ".join(repr(_format_value(value)) for value in study.values)
            raise FashionbenchError(f"no variant of study {study.name!r} matches {pattern!r}; "
                                    f"its variants: {values}")
    return tuple(v for v in study.variants
                 if (not only or any(matches(v, pattern) for pattern in only))
                 and not any(matches(v, pattern) for pattern in exclude))


def study_results_dir(results_dir: Path, name: str) -> Path:
    """The results root of a study: its stores sit below it as <dataset>/<profile>/."""
    return ResultsLayout(results_dir).study_root(name)


def _format_value(value: object) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def study_markdown(study: Study, store: ResultsStore) -> tuple[str, list[dict]]:
    """The study's table (our figures beside the seed's) and the rows behind its plot."""
    latest = [record for record in store.latest().values() if record.get("status") == "ok"]
    by_label = {row["pipeline"]: row for row in summarise(latest)}
    single = len(study.series) == 1 and all(v.pipeline == study.series[0]
                                            for v in study.variants)
    rows, plot_rows = [], []
    with_seed = any(value is not None for value in study.seed_values)  # an ablation has none
    for value, seed_value in zip(study.values, study.seed_values, strict=True):
        variants = [v for v in study.variants if v.value == value]
        cells = [_format_value(value)]
        for variant in variants:
            row = by_label.get(variant.label)
            plot_rows.append({"value": _format_value(value), "series": variant.pipeline,
                              "row": row, "seed": variant.seed_test_accuracy})
            if single or len(variants) == 1:
                epochs = len(row["runs"][0].get("history") or []) if row else None
                cells += [percent(row["accuracy"]) if row else "no result",
                          percent(row["validation_accuracy"]) if row else "–",
                          str(epochs) if epochs else "–",
                          number(row["fit_seconds"]) if row else "–"]
            else:
                cells += [percent(row["accuracy"]) if row else "no result",
                          number(row["fit_seconds"]) if row else "–"]
        if with_seed:
            cells.append("–" if seed_value is None else f"{seed_value:.2f}")
        rows.append(cells)
    if single or all(len([v for v in study.variants if v.value == value]) == 1
                     for value in study.values):
        headers = [study.variable, "test acc %", "val acc %", "epochs", "fit s"]
    else:
        headers = [study.variable] + [h for p in study.series
                                      for h in (f"{p} test acc %", f"{p} fit s")]
    if with_seed:
        headers.append(f"seed {study.seed} test acc %")
    table = markdown_table(rows, headers, ["left"] + ["right"] * (len(headers) - 1))
    first = latest[0] if latest else None
    hardware = sorted({hardware_label(r["env"]) for r in latest})
    lines = [
        f"# Study `{study.name}`: {study.title}", "",
        f"Generated from [runs.jsonl](runs.jsonl) by `python run_all.py --report-only`; run it "
        f"with `python run_all.py --study {study.name}`.", "",
        f"Profile `{store.location.profile}`, split `{study.split}`"
        + (f" (fingerprint `{first['split']['fingerprint']}`)" if first else "")
        + (f", hardware: {'; '.join(hardware)}" if hardware else "") + ".", "",
    ]
    ran = PROFILES.get(store.location.profile)
    if ran is not None and store.location.profile != study.profile:
        # the budget this store had, when it is not the one the study is written for; the
        # epochs as the runs' own records hold them (a profile's budget can change later)
        epochs = sorted({((r.get("model") or {}).get("params") or {}).get("epochs")
                         for r in latest} - {None})
        trained = (f"; these runs trained up to {epochs[-1]} epoch{'s' if epochs[-1] != 1 else ''}"
                   if epochs else "")
        lines += [f"The study is written for the `{study.profile}` profile; these runs had "
                  f"the `{ran.name}` budget ({ran.description}{trained}), so they compare "
                  f"with each other, not with the seed's numbers.", ""]
    if study.notes:
        lines += [study.notes, ""]
    lines += [table, ""]
    return "\n".join(lines), plot_rows


def write_study_reports(results_dir: Path,
                        only: Callable[[Path], bool] | None = None) -> list[Path]:
    """STUDY.md and its figures for every study store under ``results_dir``/studies (those
    whose ``runs.jsonl`` path ``only`` accepts, when given)."""
    from ..reports import figures

    written = []
    for store in find_study_stores(results_dir):
        if only is not None and not only(store.path):
            continue
        name = ResultsLayout(results_dir).locate(store.path).study
        try:
            study = load_study(name)
        except FashionbenchError:
            continue  # a study whose file was removed: its records stay, unreported
        if isinstance(study, SearchStudy):
            try:
                text, plot = search_markdown(study, store)
            except FashionbenchError as error:  # e.g. its search space changed since
                print(f"warning: {name} not reported: {error}", file=sys.stderr)
                continue
            figure = figures.search_plot(plot, study.title, store.directory / f"{name}.png")
            text += f"\n![{study.title}]({figure.name})\n"
            report = store.location.study_report
            report.write_text(text, encoding="utf-8")
            written.append(report)
            continue
        text, plot_rows = study_markdown(study, store)
        plot = figures.study_plot(plot_rows, study.variable, study.title,
                                  store.directory / f"{name}.png")
        text += f"\n![{study.title}]({plot.name})\n"
        if study.curves:
            histories = {row["value"] + ("" if len(study.series) == 1 else f" {row['series']}"):
                         row["row"]["runs"][0].get("history") for row in plot_rows
                         if row["row"] and row["row"]["runs"][0].get("history")}
            if histories:
                curves = figures.validation_curves(histories, store.directory /
                                                   f"{name}-curves.png", study.title)
                text += f"\n![validation accuracy per epoch]({curves.name})\n"
        report = store.location.study_report
        report.write_text(text, encoding="utf-8")
        written.append(report)
    return written
