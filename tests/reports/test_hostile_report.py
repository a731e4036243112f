"""A merged store's free text reaches the pages as text, never as markup: every record-derived
value is escaped in LEADERBOARD.html (checked in a real browser: no script runs) and in
LEADERBOARD.md (each pipe table keeps one cell per column, no raw HTML), and on the figures
as written (a ``$`` is no TeX)."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import pytest

from benchmarks.reports.publish import publish
from tests.records.test_record_check import committed_record
from tests.reports.test_html_report import browser  # noqa: F401 - the fixture

IMG = "<img src=x onerror=window.__injected=1>"  # no "/": it is a valid path part
SCRIPT = "</script><script>window.__injected=2</script><!--"
TABLE_BREAKER = "a|b\nc"
TEX = "$^{$"  # not TeX: matplotlib's mathtext would fail the figures on it


def hostile_records() -> list[dict]:
    """A network's and a classical pipeline's committed records, and a failed one, with
    markup and table breakers in every free-text field a page shows."""
    records = []
    for with_history in (True, False):
        record = committed_record(with_history)
        record["name"] = IMG + TEX + record["name"]
        record["pipeline"] = IMG + record["pipeline"]
        record["run_id"] = IMG + record["run_id"]
        record["class_names"] = [SCRIPT, TABLE_BREAKER, IMG, TEX] + record["class_names"][4:]
        record["env"].update(hardware=SCRIPT + TABLE_BREAKER, cpu=IMG, git_commit=SCRIPT)
        record["model"].update(reducer=TABLE_BREAKER + IMG, notes=SCRIPT,
                               hyperparameter_selection=TABLE_BREAKER + SCRIPT)
        record["model"].setdefault("params", {})[IMG] = SCRIPT
        record["overrides"] = {IMG: SCRIPT + TABLE_BREAKER}
        record["warnings"] = [SCRIPT]
        robustness = record["metrics"].get("robustness")
        if robustness:
            robustness["accuracy"] = {SCRIPT + key: value
                                      for key, value in robustness["accuracy"].items()}
        for epoch in record.get("history") or []:
            epoch[IMG] = 0.5
        records.append(record)
    failed = committed_record()
    failed.update(class_names=records[0]["class_names"], status="failed", name=IMG + "|failed",
                  error=SCRIPT + TABLE_BREAKER,
                  traceback=SCRIPT, run_id="failed-" + IMG)
    return records + [failed]


@pytest.fixture(scope="module")
def hostile_store(tmp_path_factory):
    results = tmp_path_factory.mktemp("hostile") / "results"
    store = results / "fashion-mnist" / "quick"
    store.mkdir(parents=True)
    (store / "runs.jsonl").write_text("".join(json.dumps(record) + "\n"
                                              for record in hostile_records()))
    publish(results, say=lambda _: None)
    assert len(list((store / "figures").glob(f"*-confusion-{IMG}{TEX}*.png"))) == 2
    return store


def pipe_tables(markdown: str) -> list[list[str]]:
    """Each pipe table of ``markdown``: its lines."""
    tables, current = [], []
    for line in markdown.splitlines() + [""]:
        if line.startswith("|"):
            current.append(line)
        elif current:
            tables.append(current)
            current = []
    return tables


def cells(line: str) -> int:
    """The cells of one table line: its pipes that no backslash escapes, less one."""
    return sum(1 for token in re.findall(r"\\.|\|", line) if token == "|") - 1


def test_the_markdown_tables_keep_their_shape_and_hold_no_markup(hostile_store):
    markdown = (hostile_store / "LEADERBOARD.md").read_text()
    tables = pipe_tables(markdown)
    assert len(tables) >= 5
    for table in tables:
        assert len({cells(line) for line in table}) == 1, "\n".join(table)
        assert re.fullmatch(r"\|(:?-+:?\|)+", table[1].replace(" ", ""))  # the rule line
    assert "<img" not in markdown and "<script" not in markdown and "<!--" not in markdown
    assert "&lt;img src=x onerror=window.__injected=1&gt;" in markdown  # shown, as text


class Elements(HTMLParser):
    def __init__(self):
        super().__init__()
        self.found: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, dict(attrs)))


def test_the_page_has_no_element_or_attribute_from_a_record(hostile_store):
    parser = Elements()
    parser.feed((hostile_store / "LEADERBOARD.html").read_text())
    assert [tag for tag, _ in parser.found].count("script") == 1
    assert not any(name.startswith("on") for _, attrs in parser.found for name in attrs)
    assert all(attrs.get("src", "").startswith("data:image/png;base64,")
               for tag, attrs in parser.found if tag == "img")


def test_no_script_runs_in_a_browser(hostile_store, browser):  # noqa: F811
    from selenium.webdriver.common.by import By

    browser.get((hostile_store / "LEADERBOARD.html").as_uri())
    assert browser.execute_script("return window.__injected === undefined")
    assert browser.find_elements(By.CSS_SELECTOR, "table.board tr.row")
    names = [cell.text for cell in
             browser.find_elements(By.CSS_SELECTOR, "table.board tr.row td:nth-child(2)")]
    assert any(name.startswith(IMG) for name in names)  # shown as the text it is


def test_the_readme_answer_survives_a_best_row_without_predictions(tmp_path):
    from benchmarks.reports.readme import answer_markdown

    deep, classical = committed_record(with_history=True), committed_record()
    deep["predictions"] = None
    store = tmp_path / "fashion-mnist" / "quick"
    store.mkdir(parents=True)
    (store / "runs.jsonl").write_text(json.dumps(deep) + "\n" + json.dumps(classical) + "\n")
    answer = answer_markdown(tmp_path)
    assert "no stored predictions of the same test images" in answer
    assert f"`{deep['name']}`" in answer
