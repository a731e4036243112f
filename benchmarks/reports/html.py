"""The HTML leaderboard: ``LEADERBOARD.html`` beside each ``LEADERBOARD.md``, from the same store.

One self-contained file a reader opens from disk (``file://``) with no network: the CSS and a
small vanilla script are inline, the figures are the PNGs ``reports.publish`` already drew,
embedded as base64 data URIs, and a Content-Security-Policy forbids loading anything else. It
adds what markdown cannot: columns sorted by a click, a filter by family and by reducer, and
a detail view per pipeline (its settings, per-class accuracy, confusion matrix and training
curves), opened by clicking its row.

Like the markdown, it is a pure function of the stored records (and of the figure files, which
are themselves byte-stable): no clock, no random ids, every ordering fixed, so
``--report-only`` rewrites it byte for byte. The table's columns and cells are the markdown
main table's own (``tables.main_columns``) and its figures the rows' (``rows.summarise``):
the metrics are never recomputed here. The fixed frame every page shares (head, CSS, script)
is ``reports.html_page``'s.
"""

from __future__ import annotations

import base64
import json
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from pipelines.profiles import PROFILES

from ..records.layout import LEADERBOARD_NAME, STORE_NAME
from ..records.record import Record
from ..records.scores import PER_CLASS_SCORES, with_per_class_scores
from ..records.store import ResultsStore
from .html_page import escape, inline_markdown, page
from .leaderboard import (
    images_and_hardware,
    precision_rows,
    refit_rows,
    shared_features_rows,
    shows_hardware,
    smaller_budgets,
    split_sizes_line,
    splits_in_order,
    twin_rows,
)
from .offered import offered
from .references import SOURCES as REFERENCE_SOURCES
from .references import Reference, references_for
from .robustness_html import beyond_accuracy_boards, sort_key
from .rows import FAMILY_ORDER, Row, summarise
from .significance import BOOTSTRAP_RESAMPLES
from .tables import TABLE_NOTES, Column, main_columns, number, percent


@dataclass(frozen=True)
class SplitFigures:
    """The figures publish drew for one split: those the figures section shows, in the
    markdown's order, and each deep pipeline's training curves (shown in its detail view)."""

    shown: list[tuple[str, Path]] = field(default_factory=list)  # (caption, PNG)
    curves: dict[str, Path] = field(default_factory=dict)  # pipeline -> PNG


def png_data_uri(data: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(data).decode("ascii")


def leaderboard_html(store: ResultsStore,
                     figures: Mapping[str, SplitFigures] | None = None) -> str:
    """The HTML leaderboard of one store. ``figures`` (by split fingerprint) are the files
    publish drew; without them the figures section is left out and a deep pipeline's
    training curves are drawn here, in memory."""
    latest = offered(list(store.latest().values()), store.location.profile)
    dataset, profile_name = store.location.dataset, store.location.profile
    profile = PROFILES.get(profile_name)
    title = f"Leaderboard: {dataset}, profile {profile_name}"
    body = [
        f"<h1>Leaderboard: {escape(dataset)}, profile <code>{escape(profile_name)}</code></h1>",
        f'<p class="note">Generated from the records in <a href="{STORE_NAME}">{STORE_NAME}</a> '
        f"by <code>python run_all.py --report-only</code>; do not edit by hand. "
        f'<a href="{LEADERBOARD_NAME}">{LEADERBOARD_NAME}</a> has the same ranking and the '
        f"tables this page leaves out (recipe gain, time to accuracy, the reducer matrix, how "
        f"settings were chosen, pipelines without a result). Click a column's header to sort, "
        f"a row to see the pipeline's details.</p>",
    ]
    if profile is not None:
        body.append(f"<p>Profile <code>{escape(profile.name)}</code>: "
                    f"{escape(profile.description)}.</p>")
    for index, (fingerprint, records) in enumerate(splits_in_order(latest)):  # the markdown's
        body += split_section(f"s{index}", fingerprint, records, profile,
                              None if figures is None else figures.get(fingerprint))
    if not latest:
        body.append("<p>No records in this store yet.</p>")
    return page(title, "\n".join(body))


def split_section(prefix: str, fingerprint: str, records: list[Record], profile,
                  figures: SplitFigures | None) -> list[str]:
    split = records[0]["split"]
    parts = [
        "<section>",
        f"<h2>Split <code>{escape(split['name'])}</code> "
        f"(fingerprint <code>{escape(fingerprint)}</code>)</h2>",
        f"<p>{escape(split_sizes_line(split))}</p>",
    ]
    rows = summarise(records)
    if rows:
        class_names = next(
            (record["class_names"] for record in records if record.get("class_names")),
            [str(index) for index in range(len(rows[0].per_class))])
        # the columns the markdown's "Overall" table has, decided the same way
        columns = main_columns(with_family=True, with_hardware=shows_hardware(rows))
        parts += [
            f"<p>{escape(images_and_hardware(rows, records))}</p>",
            # the rows trained on less than the profile gives, as the markdown states them
            *(f"<p>{inline_markdown(line)}</p>"
              for line in smaller_budgets(records, profile) + refit_rows(records)
              + precision_rows(records) + shared_features_rows(rows) + twin_rows(rows)
              if line),
            f'<p class="note">{inline_markdown(TABLE_NOTES.format(resamples=BOOTSTRAP_RESAMPLES))}'
            f"</p>",
            *filters(prefix, rows),
            *board(prefix, rows, columns, class_names, figures,
                   references_for(split_dataset(records))),
            *beyond_accuracy_boards(prefix, rows),
        ]
        if figures is not None and figures.shown:
            parts.append("<h3>Figures</h3>")
            for caption, path in figures.shown:
                parts.append(f'<figure><img src="{png_data_uri(path.read_bytes())}" '
                             f'alt="{escape(caption)}"><figcaption>{escape(caption)}'
                             f"</figcaption></figure>")
    failures = sorted((record for record in records if record["status"] != "ok"),
                      key=lambda record: (record["name"], record["seed"]))
    if failures:
        parts += ["<h3>Failed or timed-out runs</h3>",
                  '<table class="plain"><thead><tr><th>pipeline</th><th>seed</th>'
                  "<th>status</th><th>error</th></tr></thead><tbody>"]
        parts += [f"<tr><td>{escape(record['name'])}</td><td>{record['seed']}</td>"
                  f"<td>{escape(record['status'])}</td>"
                  f'<td class="error">{escape(record.get("error") or "")}</td></tr>'
                  for record in failures]
        parts.append("</tbody></table>")
    parts.append("</section>")
    return parts


def filters(prefix: str, rows: list[Row]) -> list[str]:
    """The family and reducer selects; their options are the values present, in a fixed
    order, and the script reads them from the rows' data attributes."""
    families = [family for family in FAMILY_ORDER if any(row.family == family for row in rows)]
    families += sorted({row.family for row in rows} - set(families))
    reducers = sorted({row.reducer for row in rows})

    def select(name: str, values: list[str]) -> str:
        options = "".join(f'<option value="{escape(value)}">{escape(value)}</option>'
                          for value in values)
        return (f'<label>{name} <select data-filter="{name}">'
                f'<option value="">all</option>{options}</select></label>')

    return [f'<div class="controls" data-board="{escape(prefix)}">{select("family", families)} '
            f"{select('reducer', reducers)} "
            f'<label>search <input type="search" placeholder="name, setting…" '
            f'aria-label="search pipelines by name or setting"></label> '
            f'<button type="button" data-download="csv">CSV</button> '
            f'<button type="button" data-download="json">JSON</button> '
            f'<span class="shown" aria-live="polite">{len(rows)} of {len(rows)} pipelines '
            f"shown</span></div>"]


def search_text(row: Row) -> str:
    """What the search box matches a row on: its name, family, reducer and settings."""
    params = (row.runs[0].get("model") or {}).get("params") or {}
    settings = " ".join(f"{key}={value}" for key, value in
                        [*run_settings(row).items(), *params.items()])
    return " ".join([row.name, row.family, row.reducer, settings])


def split_dataset(records: list[Record]) -> str:
    return str(records[0].get("dataset", ""))


def board(prefix: str, rows: list[Row], columns: list[Column], class_names: list[str],
          figures: SplitFigures | None, references: list[Reference] = ()) -> list[str]:
    """The main table: each pipeline's row, then its (hidden) detail row; the script moves
    the two together when it sorts. The reference rows follow in a body of their own, which
    the script never sorts, filters or downloads."""
    heads = "".join(
        f'<th class="{column.align}" data-type="{"number" if column.key else "text"}">'
        f'<button type="button">{escape(column.header)}</button></th>' for column in columns)
    parts = [f'<div class="scroll"><table class="board" id="{escape(prefix)}">',
             f"<thead><tr>{heads}</tr></thead><tbody>"]
    for rank, row in enumerate(rows, start=1):
        detail_id = escape(f"{prefix}-d{rank}")
        cells = "".join(
            f'<td class="{column.align}"'
            + (f' data-key="{escape(sort_key(column, row, rank))}"' if column.key else "")
            + f">{escape(column.cell(row, rank))}</td>" for column in columns)
        parts += [
            f'<tr class="row" data-rank="{rank}" data-family="{escape(row.family)}" '
            f'data-reducer="{escape(row.reducer)}" data-search="{escape(search_text(row))}" '
            f'tabindex="0" aria-expanded="false" '
            f'aria-controls="{detail_id}">{cells}</tr>',
            f'<tr class="detail" id="{detail_id}" hidden><td colspan="{len(columns)}">'
            f"{detail(row, class_names, figures)}</td></tr>",
        ]
    parts.append("</tbody>")
    parts += reference_body(columns, rows, references)
    parts.append("</table></div>")
    return parts


def reference_body(columns: list[Column], rows: list[Row],
                   references: list[Reference]) -> list[str]:
    """Published figures under the ranked rows, styled apart, unranked: the test accuracy in
    its column, then where it comes from, how it was measured and this board's nearest row."""
    if not references:
        return []
    ours = {row.name: row for row in rows}
    accuracy_at = next(index for index, column in enumerate(columns)
                       if column.header == "test acc %")
    parts = [f'<tbody class="reference"><tr><th colspan="{len(columns)}"><span class="about">'
             f"Published figures, not ranked and in no statistic (other protocols and "
             f"hardware, not run here): "
             f"{escape(REFERENCE_SOURCES)}</span></th></tr>"]
    for reference in references:
        lead = {"rank": "ref", "pipeline": reference.system,
                "family": "seed paper" if reference.source.startswith("seed ") else "published"}
        cells = "".join(f'<td class="{column.align}">{escape(lead.get(column.header, ""))}</td>'
                        for column in columns[:accuracy_at])
        nearest = ours.get(reference.nearest or "") or next(  # else its best recipe's row
            (row for row in rows if row.name.split("@")[0] == reference.nearest), None)
        here = (f"here: {nearest.name} {percent(nearest.accuracy)}% · " if nearest is not None
                else "")
        parts.append(f'<tr class="reference">{cells}<td class="right">'
                     f"{reference.accuracy * 100:.1f}</td>"
                     f'<td class="left" colspan="{len(columns) - accuracy_at - 1}">'
                     f'<span class="about">'
                     f"{escape(f'{here}{reference.protocol} · {reference.source}')}</span>"
                     f"</td></tr>")
    parts.append("</tbody>")
    return parts


def detail(row: Row, class_names: list[str], figures: SplitFigures | None) -> str:
    """One pipeline's detail view: its run's settings, its model as the record describes it,
    per-class accuracy, the confusion matrix and, for a deep pipeline, its training curves."""
    first, newest = row.runs[0], row.runs[-1]  # lowest seed (as the figures), newest
    panels = [
        panel("Run", key_values(run_settings(row))),
        panel("Model (its own description)",
              f'<div class="model">{key_values(model_settings(newest))}</div>', kind="grow"),
        panel("Per-class test accuracy" + (f" (mean of {row.seeds} seeds)"
                                           if row.seeds > 1 else ""),
              per_class(row, class_names)),
        panel(f"Per-class precision, recall and F1 (seed {first['seed']}, test set)",
              per_class_scores(first, class_names)),
    ]
    matrix = first["metrics"]["test"].get("confusion")  # a very old record may lack it
    if matrix:
        panels.append(panel(f"Confusion matrix (seed {first['seed']}, test set)",
                            confusion(matrix, class_names), kind="wide"))
    curves = training_curves_png(row, figures)
    if curves is not None:
        caption = f"Training curves of {row.name} (seed {first['seed']})"
        panels.append(panel("Training curves", f'<img src="{png_data_uri(curves)}" '
                                               f'alt="{escape(caption)}">', kind="wide"))
    return f'<div class="panels">{"".join(panels)}</div>'


def panel(title: str, content: str, kind: str = "") -> str:
    return (f'<div class="{f"panel {kind}" if kind else "panel"}"><h4>{escape(title)}</h4>'
            f"{content}</div>")


def run_settings(row: Row) -> dict:
    first = row.runs[0]
    sizes = first["sizes"]
    settings = {
        "registered pipeline": first["pipeline"],
        "family": row.family,
        "reducer": row.reducer,
        "profile": first["profile"],
        "seeds": ", ".join(str(run["seed"]) for run in row.runs),
        "images used": f"{sizes['train']:,} train / {sizes['validation']:,} validation / "
                       f"{sizes['test']:,} test",
        "hardware": row.hardware,
    }
    figure = row.seed_figure
    if figure is not None:
        settings["seed reported"] = (f"{figure.accuracy * 100:.2f}% {figure.measured_on} "
                                     f"accuracy ({figure.source}; {figure.protocol})")
    if first.get("recipe"):
        settings["recipe"] = first["recipe"]
    if first.get("overrides"):
        settings["overrides"] = first["overrides"]
    settings["run ids"] = ", ".join(run["run_id"] for run in row.runs)
    return settings


def model_settings(run: Record) -> dict:
    """The model's describe(), less its epoch history (drawn as the training curves)."""
    return {key: value for key, value in (run.get("model") or {}).items() if key != "history"}


def key_values(mapping: dict, depth: int = 0) -> str:
    """A mapping as a two-column table; nested mappings (a model's params) nest once, deeper
    values are shown as compact JSON."""
    if not mapping:
        return '<p class="muted">none recorded</p>'
    # a break allowed after each underscore: long keys (batch_norm_layers_recalibrated)
    # would otherwise set the column's width and push the values out of the panel
    lines = [f'<tr><th>{escape(key).replace("_", "_<wbr>")}</th>'
             f"<td>{value_html(value, depth)}</td></tr>" for key, value in mapping.items()]
    return f'<table class="kv">{"".join(lines)}</table>'


def value_html(value: object, depth: int) -> str:
    if isinstance(value, dict) and value and depth < 2:
        return key_values(value, depth + 1)
    if isinstance(value, list) and all(isinstance(item, str | int | float) for item in value) \
            and value:
        return escape(", ".join(str(item) for item in value))
    if isinstance(value, str):
        return escape(value)
    return escape(json.dumps(value, ensure_ascii=False))


def per_class(row: Row, class_names: list[str]) -> str:
    lines = []
    for name, value in zip(class_names, row.per_class, strict=False):
        width = "0" if value is None else f"{value * 100:.1f}"
        lines.append(f"<tr><th>{escape(name)}</th>"
                     f'<td class="right">{number(None if value is None else value * 100, 1)}</td>'
                     f'<td class="barcell"><span class="bar" style="width:{width}%"></span>'
                     f"</td></tr>")
    return f'<table class="kv perclass">{"".join(lines)}</table>'


def per_class_scores(run: Record, class_names: list[str]) -> str:
    """One run's precision, recall and F1 per class, in percent."""
    scores = with_per_class_scores(run["metrics"]["test"]) or {}
    if PER_CLASS_SCORES[0] not in scores:
        return '<p class="muted">none recorded</p>'
    heads = "".join(f'<th class="right">{label}</th>' for label in ("precision", "recall", "F1"))
    lines = [f"<tr><th></th>{heads}</tr>"]
    for index, name in enumerate(class_names):
        cells = "".join(f'<td class="right">{number(scores[key][index] * 100, 1)}</td>'
                        for key in PER_CLASS_SCORES)
        lines.append(f"<tr><th>{escape(name)}</th>{cells}</tr>")
    return f'<table class="kv perclass">{"".join(lines)}</table>'


def confusion(matrix: list[list[int]], class_names: list[str]) -> str:
    """The confusion matrix as a table, each cell shaded by its share of the true class:
    blue on the diagonal (right), red off it (wrong; three times as strong, so the few
    percent a confusion takes still show)."""
    heads = "".join(f'<th class="predicted" title="predicted {escape(name)}">{escape(name)}</th>'
                    for name in class_names)
    lines = [f'<table class="confusion"><thead><tr><th class="corner">true ↓ / predicted →'
             f"</th>{heads}</tr></thead><tbody>"]
    for true, (name, counts) in enumerate(zip(class_names, matrix, strict=False)):
        total = sum(counts) or 1
        cells = []
        for predicted, value in enumerate(counts):
            share = value / total
            strength = min(1.0, share if predicted == true else 3 * share)
            colour = "31,119,180" if predicted == true else "214,39,40"
            ink = " color:#fff;" if strength > 0.55 else ""
            cells.append(f'<td style="background:rgba({colour},{strength:.2f});{ink}" '
                         f'title="true {escape(name)}, predicted '
                         f'{escape(class_names[predicted])}: {value} ({share:.1%})">{value}</td>')
        lines.append(f'<tr><th>{escape(name)}</th>{"".join(cells)}</tr>')
    lines.append("</tbody></table>")
    return "".join(lines)


def training_curves_png(row: Row, figures: SplitFigures | None) -> bytes | None:
    """The curves publish drew for the pipeline; without them, the same figure drawn here
    from the epoch history (in a scratch folder: ``figures`` saves to files, byte-stable)."""
    path = None if figures is None else figures.curves.get(row.name)
    if path is not None and path.exists():
        return path.read_bytes()
    run = row.runs[0]
    history = run.get("history")
    if row.family != "deep" or not history:
        return None
    from . import figures as drawing

    with tempfile.TemporaryDirectory() as scratch:
        drawn = drawing.training_curves(history, Path(scratch) / "curves.png",
                                        f"{row.name} (seed {run['seed']})",
                                        held_out=not run.get("refit"))
        return drawn.read_bytes()
