"""The HTML page's robustness and calibration tables (reports/robustness.py has the
markdown's), sortable like the main table by the page's script: no detail rows."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from .html_page import escape, inline_markdown
from .robustness import (
    CALIBRATION_NOTES,
    ROBUSTNESS_NOTES,
    SHORT,
    calibrated_rows,
    percent_cell,
    robust_rows,
)
from .tables import Column, number

if TYPE_CHECKING:
    from .rows import Row


def sort_key(column: Column, row: Row, rank: int) -> str:
    """A numeric column's exact value for the script (``repr`` of a float round-trips);
    empty where there is none (or it is not finite), which sorts last either way."""
    value = column.key(row, rank)
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return ""
    return repr(value) if isinstance(value, float) else str(value)


def beyond_accuracy_boards(prefix: str, rows: list[Row]) -> list[str]:
    """The robustness and calibration tables (reports/robustness.py), sortable like the main
    one: a column per corruption, then ECE, Brier, log-loss and selective accuracy."""
    parts = []
    shown = robust_rows(rows)
    if shown:
        names = list(shown[0].corrupted_accuracy)
        columns = [
            Column("pipeline", "left", lambda row, rank: row.name),
            Column("family", "left", lambda row, rank: row.family),
            Column("clean", "right", lambda row, rank: percent_cell(row.clean_subset_accuracy),
                   lambda row, rank: row.clean_subset_accuracy),
            Column("mean", "right", lambda row, rank: percent_cell(row.mean_corrupted_accuracy),
                   lambda row, rank: row.mean_corrupted_accuracy),
            Column("relative", "right", lambda row, rank: number(row.relative_robustness, 3),
                   lambda row, rank: row.relative_robustness),
            *(Column(SHORT.get(name, name), "right",
                     lambda row, rank, name=name: percent_cell(row.corrupted_accuracy.get(name)),
                     lambda row, rank, name=name: row.corrupted_accuracy.get(name))
              for name in names)]
        parts += ["<h3>Robustness: test accuracy (%) under corruption</h3>",
                  f'<p class="note">{inline_markdown(ROBUSTNESS_NOTES)}</p>',
                  *plain_board(f"{prefix}-robustness", shown, columns)]
    calibrated = calibrated_rows(rows)
    if calibrated:
        columns = [
            Column("pipeline", "left", lambda row, rank: row.name),
            Column("family", "left", lambda row, rank: row.family),
            Column("ECE", "right", lambda row, rank: number(row.ece, 4),
                   lambda row, rank: row.ece),
            Column("Brier", "right", lambda row, rank: number(row.brier, 4),
                   lambda row, rank: row.brier),
            Column("log-loss", "right", lambda row, rank: number(row.log_loss, 4),
                   lambda row, rank: row.log_loss),
            Column("acc % of most confident 90%", "right",
                   lambda row, rank: percent_cell(row.selective_accuracy),
                   lambda row, rank: row.selective_accuracy)]
        parts += ["<h3>Calibration</h3>",
                  f'<p class="note">{inline_markdown(CALIBRATION_NOTES)}</p>',
                  *plain_board(f"{prefix}-calibration", calibrated, columns)]
    return parts


def plain_board(table_id: str, rows: list[Row], columns: list[Column]) -> list[str]:
    """A sortable table without detail rows."""
    heads = "".join(
        f'<th class="{column.align}" data-type="{"number" if column.key else "text"}">'
        f'<button type="button">{escape(column.header)}</button></th>' for column in columns)
    body = [
        f'<tr class="row" data-rank="{rank}">' + "".join(
            f'<td class="{column.align}"'
            + (f' data-key="{escape(sort_key(column, row, rank))}"' if column.key else "")
            + f">{escape(column.cell(row, rank))}</td>" for column in columns) + "</tr>"
        for rank, row in enumerate(rows, start=1)]
    return [f'<div class="scroll"><table class="board" id="{escape(table_id)}">',
            f"<thead><tr>{heads}</tr></thead><tbody>", *body, "</tbody></table></div>"]
