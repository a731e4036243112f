"""The page around an HTML leaderboard's body: the document's head, its
Content-Security-Policy, and the inline stylesheet and script every ``LEADERBOARD.html`` carries.

Apart from ``reports.html`` because it is the same for every store and does not depend on
the records: ``html`` builds what a leaderboard says, this module the fixed frame (the look,
and the sorting, filtering and detail views a reader clicks) that it is shown in. Fixed text,
so the page stays byte for byte what ``--report-only`` wrote before.
"""

from __future__ import annotations

import html
import re


def page(title: str, body: str) -> str:
    """The whole document around ``body`` (already HTML), titled ``title`` (escaped here)."""
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        # nothing but this file: inline style and script, images as data URIs
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "img-src data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'\">\n"
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(str(title), quote=True)}</title>\n<style>{STYLE}</style>\n"
        # without the script the detail rows could never open: show them all instead
        "<noscript><style>tr.detail[hidden] { display: table-row; }</style></noscript>\n"
        f"</head>\n<body>\n{body}\n<script>{SCRIPT}</script>\n</body>\n</html>\n"
    )


STYLE = """
:root { --line: #d0d7de; --muted: #57606a; --head: #f6f8fa; --hover: #eef4fb; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
       margin: 1.5em 2em; color: #1f2328; }
h1 { font-size: 1.6em; margin-bottom: .3em; }
h2 { font-size: 1.3em; margin-top: 1.6em; border-bottom: 1px solid var(--line); }
h3 { font-size: 1.1em; margin-top: 1.6em; }
h4 { margin: 0 0 .5em; font-size: 1em; }
p { max-width: 75em; }
.note, .muted { color: var(--muted); }
code { font: .92em ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
       background: var(--head); padding: 0 .25em; border-radius: 3px; }
.controls { display: flex; gap: 1.5em; align-items: center; margin: 1em 0 .5em; }
.controls select { font: inherit; padding: .1em .3em; }
.shown { color: var(--muted); }
/* the table scrolls inside its box, so its header row stays in view (sticky, below) */
.scroll { overflow: auto; max-height: 85vh; }
table.board > thead > tr > th { position: sticky; top: 0; z-index: 1; }
table.board > thead > tr > :nth-child(2) { z-index: 2; }
.controls input[type=search] { font: inherit; padding: .1em .3em; min-width: 14em; }
.controls button { font: inherit; }
table { border-collapse: collapse; }
table.board { font-variant-numeric: tabular-nums; white-space: nowrap; }
/* child selectors: the tables of a detail view keep their own look */
table.board > * > tr > th, table.board > * > tr > td {
  border-bottom: 1px solid var(--line); padding: .3em .5em; }
table.board > thead > tr > th { background: var(--head); }
/* the pipeline's name stays in view while the wide table scrolls sideways */
table.board > * > tr > :nth-child(2) { position: sticky; left: 0; background: #fff; }
table.board > thead > tr > :nth-child(2) { background: var(--head); }
table.board th button { font: inherit; font-weight: 600; border: 0; background: none;
                        padding: 0; cursor: pointer; color: inherit; white-space: nowrap; }
table.board th[aria-sort="ascending"] button::after { content: " ▲"; }
table.board th[aria-sort="descending"] button::after { content: " ▼"; }
.right { text-align: right; }
.left { text-align: left; }
tr.row { cursor: pointer; }
tr.row:hover, tr.row:focus, tr.row:hover > td, tr.row:focus > td { background: var(--hover);
                                                                   outline: none; }
tr.row[aria-expanded="true"], tr.row[aria-expanded="true"] > td { background: var(--hover);
                                                                 font-weight: 600; }
tr.detail > td { background: #fbfcfd; white-space: normal; padding: .8em 0; }
/* the detail row spans the whole (wide) table: keep its panels within the visible width */
.panels { display: flex; flex-wrap: wrap; gap: 1em; align-items: flex-start;
          position: sticky; left: 0; max-width: calc(100vw - 5em); }
.panel { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: .7em;
         flex: 1 1 22em; min-width: 0; }
.panel.wide { flex-basis: 100%; }
.panel.grow { flex-grow: 2; }
.panel img { max-width: 100%; height: auto; }
.model { max-height: 26em; overflow: auto; }
table.kv th { text-align: left; font-weight: 600; padding: .1em .8em .1em 0;
              vertical-align: top; white-space: nowrap; }
.model table.kv th { white-space: normal; }  /* long keys break after an underscore */
table.kv td { padding: .1em 0; vertical-align: top; overflow-wrap: anywhere; }
table.kv table.kv { font-size: .92em; }
table.perclass td.right { padding: .1em .6em; }
td.barcell { width: 12em; }
.bar { display: block; height: .8em; background: #1f77b4; border-radius: 2px; }
table.confusion { font-size: .9em; font-variant-numeric: tabular-nums; }
table.confusion td { text-align: right; padding: .2em .45em; border: 1px solid #fff;
                     min-width: 2.8em; }
table.confusion th { font-weight: 600; padding: .2em .45em; text-align: left;
                     white-space: nowrap; }
table.confusion th.predicted { text-align: right; }
table.confusion th.corner { color: var(--muted); font-weight: normal; }
table.plain th, table.plain td { border-bottom: 1px solid var(--line); padding: .3em .6em;
                                 text-align: left; vertical-align: top; }
/* published figures: under the ranked rows, greyed and italic, never sorted with them */
tbody.reference th { text-align: left; font-weight: 600; color: var(--muted);
                     background: var(--head); white-space: normal; }
tr.reference > td { color: var(--muted); font-style: italic; background: #fafafa; }
/* their notes wrap within the window's width, not the wide table's */
tbody.reference .about { display: block; white-space: normal; max-width: 48em; }
tbody.reference th .about { position: sticky; left: .5em; max-width: calc(100vw - 6em); }
td.error { white-space: pre-wrap; overflow-wrap: anywhere; max-width: 60em; }
figure { margin: 1.2em 0; }
figure img { max-width: 100%; height: auto; border: 1px solid var(--line); }
figcaption { color: var(--muted); margin-top: .3em; max-width: 60em; }
"""

# Vanilla and small: sort on header click (numbers by their exact data-key, missing last),
# filter by family and reducer, open a row's detail view on click or Enter/Space.
SCRIPT = """
"use strict";
document.querySelectorAll("table.board").forEach(function (table) {
  var body = table.tBodies[0];
  var controls = document.querySelector('.controls[data-board="' + table.id + '"]');
  function pairs() {
    return Array.from(body.querySelectorAll("tr.row")).map(function (row) {
      // a table without detail rows (robustness, calibration) moves its rows alone
      var detail = row.getAttribute("aria-controls");
      return detail ? [row, document.getElementById(detail)] : [row];
    });
  }
  function rank(pair) { return Number(pair[0].dataset.rank); }
  function value(row, column, numeric) {
    var cell = row.cells[column];
    if (numeric) { return cell.dataset.key === "" ? null : Number(cell.dataset.key); }
    var text = cell.textContent.trim();
    return text === "" ? null : text;
  }
  var heads = Array.from(table.tHead.rows[0].cells);
  heads.forEach(function (head, column) {
    head.querySelector("button").addEventListener("click", function () {
      var ascending = head.getAttribute("aria-sort") !== "ascending";
      var numeric = head.dataset.type === "number";
      heads.forEach(function (other) { other.removeAttribute("aria-sort"); });
      head.setAttribute("aria-sort", ascending ? "ascending" : "descending");
      var sorted = pairs().sort(function (a, b) {
        var x = value(a[0], column, numeric), y = value(b[0], column, numeric);
        if (x === null || y === null) {
          return (x === null) - (y === null) || rank(a) - rank(b);
        }
        var order = numeric ? x - y : x.localeCompare(y);
        return (ascending ? order : -order) || rank(a) - rank(b);
      });
      sorted.forEach(function (pair) { body.append.apply(body, pair); });
    });
  });
  function toggle(row, open) {
    var detail = document.getElementById(row.getAttribute("aria-controls"));
    detail.hidden = !open;
    row.setAttribute("aria-expanded", open ? "true" : "false");
  }
  body.addEventListener("click", function (event) {
    var row = event.target.closest("tr.row[aria-controls]");
    if (row) { toggle(row, row.getAttribute("aria-expanded") !== "true"); }
  });
  body.addEventListener("keydown", function (event) {
    var row = event.target.closest("tr.row[aria-controls]");
    if (row && (event.key === "Enter" || event.key === " ")) {
      event.preventDefault();
      toggle(row, row.getAttribute("aria-expanded") !== "true");
    }
  });
  if (!controls) { return; }
  var selects = Array.from(controls.querySelectorAll("select[data-filter]"));
  var search = controls.querySelector("input[type=search]");
  function filter() {
    var shown = 0, all = pairs();
    var words = search ? search.value.toLowerCase().split(/\\s+/).filter(Boolean) : [];
    all.forEach(function (pair) {
      var text = (pair[0].dataset.search || "").toLowerCase();
      var visible = selects.every(function (select) {
        return !select.value || pair[0].dataset[select.dataset.filter] === select.value;
      }) && words.every(function (word) { return text.indexOf(word) >= 0; });
      pair[0].hidden = !visible;
      if (!visible) { toggle(pair[0], false); }
      shown += visible ? 1 : 0;
    });
    controls.querySelector(".shown").textContent =
      shown + " of " + all.length + " pipelines shown";
  }
  // the state in the address's fragment (#s0=family:deep;q:mcnn;sort:4:descending), so a
  // link keeps the sort and the filter
  function save() {
    var parts = selects.filter(function (s) { return s.value; }).map(function (s) {
      return s.dataset.filter + ":" + encodeURIComponent(s.value); });
    if (search && search.value) { parts.push("q:" + encodeURIComponent(search.value)); }
    var sorted = table.tHead.querySelector("th[aria-sort]");
    if (sorted) { parts.push("sort:" + sorted.cellIndex + ":" + sorted.getAttribute("aria-sort")); }
    var others = location.hash.slice(1).split("&").filter(function (item) {
      return item && item.indexOf(table.id + "=") !== 0; });
    if (parts.length) { others.push(table.id + "=" + parts.join(";")); }
    history.replaceState(null, "", others.length ? "#" + others.join("&") : location.pathname);
  }
  function restore() {
    var mine = location.hash.slice(1).split("&").filter(function (item) {
      return item.indexOf(table.id + "=") === 0; })[0];
    if (!mine) { return; }
    mine.slice(table.id.length + 1).split(";").forEach(function (part) {
      var bits = part.split(":"), value = decodeURIComponent(bits.slice(1).join(":"));
      if (bits[0] === "q" && search) { search.value = value; }
      else if (bits[0] === "sort") {
        var head = heads[Number(bits[1])];
        if (head) {
          if (bits[2] === "descending") { head.setAttribute("aria-sort", "ascending"); }
          head.querySelector("button").click();
        }
      } else {
        selects.forEach(function (s) { if (s.dataset.filter === bits[0]) { s.value = value; } });
      }
    });
    filter();
  }
  function download(kind) {
    var columns = heads.map(function (head) { return head.textContent.trim(); });
    var rows = pairs().filter(function (pair) { return !pair[0].hidden; }).map(function (pair) {
      return Array.from(pair[0].cells).map(function (cell) { return cell.textContent.trim(); });
    });
    var text = kind === "json" ? JSON.stringify(rows.map(function (row) {
      var item = {};
      columns.forEach(function (column, index) { item[column] = row[index]; });
      return item;
    }), null, 1) : [columns].concat(rows).map(function (row) {
      return row.map(function (cell) { return '"' + cell.replace(/"/g, '""') + '"'; }).join(",");
    }).join("\\n") + "\\n";
    var link = document.createElement("a");
    link.href = URL.createObjectURL(new Blob([text], {type: kind === "json" ?
      "application/json" : "text/csv"}));
    link.download = table.id + "." + kind;
    link.click();
  }
  selects.forEach(function (select) {
    select.addEventListener("change", function () { filter(); save(); }); });
  if (search) { search.addEventListener("input", function () { filter(); save(); }); }
  heads.forEach(function (head) {
    head.querySelector("button").addEventListener("click", save); });
  controls.querySelectorAll("button[data-download]").forEach(function (button) {
    button.addEventListener("click", function () { download(button.dataset.download); });
  });
  restore();
});
"""


def escape(value: object) -> str:
    """Every piece of text from a record goes through here: names, errors and settings are
    free text, and a stray ``<`` or quote must not become markup."""
    return html.escape(str(value), quote=True)


def inline_markdown(text: str) -> str:
    """The notes shared with the markdown (``code`` and *emphasis*) as HTML, escaped first."""
    text = re.sub(r"`([^`]+)`", r"<code>\1</code>", escape(text))
    return re.sub(r"\*([^*]+)\*", r"<em>\1</em>", text)
