"""The study reports: STUDY.md and its figures beside each study store, our figures next
to the seed's; for a search study, its best trials laid out as the seed's Figure 9."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from pipelines.profiles import PROFILES

from ..errors import FashionbenchError
from ..records.atomic import write_text
from ..records.hardware import hardware_label
from ..records.layout import ResultsLayout
from ..records.store import ResultsStore, find_study_stores
from ..studies.spec import Study, format_value, load_study
from ..studies.trials import (
    SearchStudy,
    TrialResult,
    best_trial,
    propose_trials,
    trial_results,
)
from . import figures
from .rows import Row, summarise
from .tables import markdown_table, markdown_text, number, percent


def study_markdown(study: Study, store: ResultsStore) -> tuple[str, list[dict]]:
    """The study's table (our figures beside the seed's) and the rows behind its plot: a dict
    per variant (``value``, ``series``, the seed's figure ``seed``, and ``row``, its
    leaderboard ``Row`` or None without a result)."""
    latest = [record for record in store.latest().values() if record.get("status") == "ok"]
    by_label = {row.name: row for row in summarise(latest)}
    single = len(study.series) == 1 and all(v.pipeline == study.series[0]
                                            for v in study.variants)
    rows, plot_rows = [], []
    with_seed = any(value is not None for value in study.seed_values)  # an ablation has none
    for value, seed_value in zip(study.values, study.seed_values, strict=True):
        variants = [v for v in study.variants if v.value == value]
        cells = [format_value(value)]
        for variant in variants:
            row = by_label.get(variant.label)
            plot_rows.append({"value": format_value(value), "series": variant.pipeline,
                              "row": row, "seed": variant.seed_test_accuracy})
            if single or len(variants) == 1:
                epochs = len(row.runs[0].get("history") or []) if row else None
                cells += [percent(row.accuracy) if row else "no result",
                          percent(row.validation_accuracy) if row else "–",
                          str(epochs) if epochs else "–",
                          number(row.fit_seconds) if row else "–"]
            else:
                cells += [percent(row.accuracy) if row else "no result",
                          number(row.fit_seconds) if row else "–"]
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
    hardware = sorted({hardware_label(r["env"], r.get("model")) for r in latest})
    lines = [
        f"# Study `{study.name}`: {study.title}", "",
        f"Generated from [runs.jsonl](runs.jsonl) by `python run_all.py --report-only`; run it "
        f"with `python run_all.py --study {study.name}`.", "",
        f"Profile `{store.location.profile}`, split `{study.split}`"
        + (f" (fingerprint `{first['split']['fingerprint']}`)" if first else "")
        + (f", hardware: {markdown_text('; '.join(hardware))}" if hardware else "") + ".", "",
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
            write_text(report, text)
            written.append(report)
            continue
        text, plot_rows = study_markdown(study, store)
        plot = figures.study_plot(plot_rows, study.variable, study.title,
                                  store.directory / f"{name}.png")
        text += f"\n![{study.title}]({plot.name})\n"
        if study.curves:
            histories = {row["value"] + ("" if len(study.series) == 1 else f" {row['series']}"):
                         row["row"].runs[0].get("history") for row in plot_rows
                         if row["row"] and row["row"].runs[0].get("history")}
            if histories:
                curves = figures.validation_curves(histories, store.directory /
                                                   f"{name}-curves.png", study.title)
                text += f"\n![validation accuracy per epoch]({curves.name})\n"
        report = store.location.study_report
        write_text(report, text)
        written.append(report)
    return written


def _value(value) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 0.01 else f"{value:g}"
    return str(value)


def _before_and_after(study: SearchStudy, rows_by_label: dict[str, Row],
                      best: TrialResult | None) -> str:
    """The search's two final models (its baseline, and its best trial retrained) beside the
    seed's figures: the table under "Before and after tuning"."""
    final_rows = []
    for label, what, seed_figure in (
            (study.baseline_label, "before tuning", study.seed_before_tuning_score),
            (study.tuned_label(best.number) if best else None, "tuned", study.seed_tuned_score)):
        row = rows_by_label.get(label) if label else None
        epochs = len(row.runs[0].get("history") or []) if row else None
        final_rows.append([what, f"`{label}`" if label else "–",
                           percent(row.validation_accuracy) if row else "no result",
                           percent(row.accuracy) if row else "no result",
                           str(epochs) if epochs else "–",
                           f"{row.fit_seconds:,.0f}" if row else "–",
                           "–" if seed_figure is None else f"{seed_figure:.2f}"])
    return markdown_table(final_rows, ["model", "stored as", "val acc %", "test acc %",
                                       "epochs", "fit s", f"seed {study.seed} val acc %"],
                          ["left", "left"] + ["right"] * 5)


def search_markdown(study: SearchStudy, store: ResultsStore) -> tuple[str, dict]:
    """STUDY.md's text and the data of its plot."""
    profile = store.location.profile
    budget = study.budgets.get(profile)
    proposals = propose_trials(study, budget.trials) if budget else []
    stored = store.latest()
    results = trial_results(study, proposals, store, stored)
    ranked = sorted([r for r in results if r.score is not None],
                    key=lambda r: (-r.score, r.number))
    shown = ranked[:5]
    latest = [r for r in stored.values() if r.get("status") == "ok"]
    rows_by_label = {row.name: row for row in summarise(latest)}

    # Figure 9's layout: one row per tuned setting; before tuning, our best trials, the seed's
    headers = ["layer", "hyper-parameter", "searched", "before tuning"] \
        + [f"ours #{rank} (trial {r.number})" for rank, r in enumerate(shown, start=1)] \
        + [f"seed {study.seed} #{n}" for n in range(1, max(
            (len(d.seed_trials) for d in study.space), default=0) + 1)]

    def table_row(first: list[str], ours: list[str], seeds: list[str]) -> list[str]:
        return first + ours + seeds + [""] * (len(headers) - len(first) - len(ours) - len(seeds))

    rows = [table_row([dimension.layer, dimension.label, dimension.describe(),
                       _value(dimension.seed_before_tuning)],
                      [_value(r.params.get(dimension.name)) for r in shown],
                      [_value(v) for v in dimension.seed_trials])
            for dimension in study.space]
    baseline_row = rows_by_label.get(study.baseline_label)
    rows.append(table_row(
        ["", "validation accuracy %", "",
         percent(baseline_row.validation_accuracy) if baseline_row else "–"],
        [f"{100 * r.score:.2f}" for r in shown], [f"{s:.2f}" for s in study.seed_scores]))
    trials_table = markdown_table(rows, headers,
                             ["left", "left", "left"] + ["right"] * (len(headers) - 3))

    final_table = _before_and_after(study, rows_by_label, best_trial(results))
    first = latest[0] if latest else None
    hardware = sorted({hardware_label(r["env"], r.get("model")) for r in latest})
    finished = sum(1 for r in results if r.score is not None)
    budget_text = (f"{budget.trials} trials x {budget.executions} execution(s)"
                   + (f" x {budget.epochs} epochs" if budget.epochs else "")
                   + f", Optuna RandomSampler(seed={study.sampler_seed})"
                   if budget else "no budget for this profile")
    lines = [
        f"# Study `{study.name}`: {study.title}", "",
        f"Generated from [runs.jsonl](runs.jsonl) by `python run_all.py --report-only`; run it "
        f"with `python run_all.py --study {study.name}`.", "",
        f"Profile `{profile}` ({budget_text}; {finished} of {len(results)} trials scored), "
        f"split `{study.split}`"
        + (f" (fingerprint `{first['split']['fingerprint']}`, {first['sizes']['train']:,} "
           f"training images)" if first else "")
        + (f", hardware: {markdown_text('; '.join(hardware))}" if hardware else "") + ".", "",
        "A trial's score is its validation accuracy (best epoch), averaged over its "
        "executions; the test split is used only for the two models below.", "",
    ]
    if study.notes:
        lines += [study.notes, ""]
    lines += ["## The best trials (the seed's Figure 9, 10 and 11 in one table)", "",
              trials_table, "", "## Before and after tuning", "", final_table, ""]
    plot = {"trials": [(r.number, r.score, r.params.get("learning_rate")) for r in results
                       if r.score is not None],
            "seed_scores": [s / 100 for s in study.seed_scores],
            "seed_rates": next((list(d.seed_trials) for d in study.space
                                if d.name == "learning_rate"), [])}
    return "\n".join(lines), plot
