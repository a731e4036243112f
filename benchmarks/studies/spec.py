"""Studies: the seed papers' experiments as declarative files, run and reported like the suite.

A study (``benchmarks/studies/NAME.toml``) names a pipeline (or a ``series`` of them), the
hyper-parameter it varies, the values, and the seed's own figure for each value where the
seed gives one; a search study (``kind = "search"``, run/search.py) names a search
space and a budget instead. ``python run_all.py --study NAME`` runs every variant through
the ordinary runner into ``results/studies/NAME/<dataset>/<profile>/runs.jsonl``; the
report beside it, ``STUDY.md`` with a plot, puts our figures next to the seed's.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path

from pipelines.errors import unsafe_name
from pipelines.names import path_part_problem

from ..errors import FashionbenchError, unknown_name
from ..records.layout import ResultsLayout
from .trials import SearchStudy, parse_search_study

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
    problem = path_part_problem(name)  # its results folder is named after it
    if problem is not None:
        raise unsafe_name("study name", name, problem)
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
    for variant in variants:  # the name its records and figures are stored under
        problem = path_part_problem(variant.label)
        if problem is not None:
            raise FashionbenchError(f"{path}: the variant {variant.label!r} {problem}; "
                                    f"change its value (it names files of the study)")
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
                   for text in (format_value(variant.value), variant.label))

    only, exclude = list(only), list(exclude)
    for pattern in only + exclude:
        if not any(matches(variant, pattern) for variant in study.variants):
            values = ", ".join(repr(format_value(value)) for value in study.values)
            raise FashionbenchError(f"no variant of study {study.name!r} matches {pattern!r}; "
                                    f"its variants: {values}")
    return tuple(v for v in study.variants
                 if (not only or any(matches(v, pattern) for pattern in only))
                 and not any(matches(v, pattern) for pattern in exclude))


def study_results_dir(results_dir: Path, name: str) -> Path:
    """The results root of a study: its stores sit below it as <dataset>/<profile>/."""
    return ResultsLayout(results_dir).study_root(name)


def format_value(value: object) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)
