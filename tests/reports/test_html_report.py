"""The HTML leaderboard: byte-stable, escaped, self-contained, the markdown's main table, and
(in a real headless Chromium) sortable, filterable, with a detail view per pipeline."""

from __future__ import annotations

import html
import re
import shutil

import pytest

from benchmarks.records.record import encode_labels
from benchmarks.records.store import ResultsStore
from benchmarks.reports.html import leaderboard_html
from benchmarks.reports.publish import write_reports

CLASS_NAMES = ["T-shirt/top", "Trouser", "Pullover"]
TEST_TRUE = [0, 1, 2] * 20  # 60 test images
EVIL = '<img src=x onerror="alert(1)"> & <b>co'  # no slash: names become file names


def fake_record(name: str, family: str, reducer: str, accuracy: float, fit_seconds: float,
                seed: int = 0, **extra) -> dict:
    """A complete ok record, without training anything: the right answer for the first
    ``accuracy`` share of the test images, class 0 for the rest."""
    right = round(accuracy * len(TEST_TRUE))
    predicted = TEST_TRUE[:right] + [0] * (len(TEST_TRUE) - right)
    correct = [t == p for t, p in zip(TEST_TRUE, predicted, strict=True)]
    confusion = [[sum(1 for t, p in zip(TEST_TRUE, predicted, strict=True) if (t, p) == (i, j))
                  for j in range(3)] for i in range(3)]
    per_class = [sum(c for t, c in zip(TEST_TRUE, correct, strict=True) if t == i) / 20
                 for i in range(3)]
    test = {"n": len(TEST_TRUE), "accuracy": sum(correct) / len(correct), "macro_f1": accuracy,
            "per_class": per_class, "confusion": confusion}
    record = {
        "run_id": f"{name}-{seed}", "name": name, "pipeline": name, "family": family,
        "dataset": "fashion-mnist", "profile": "quick", "seed": seed,
        "split": {"name": "standard", "fingerprint": "0123456789abcdef",
                  "sizes": {"train": 600, "validation": 150, "test": 60}},
        "class_names": CLASS_NAMES, "status": "ok", "error": None,
        "sizes": {"train": 600, "validation": 150, "test": 60},
        "metrics": {"test": test, "validation": {**test, "accuracy": accuracy - 0.01}},
        "timing": {"fit_seconds": fit_seconds, "predict_ms_per_1k": fit_seconds / 10,
                   "peak_rss_mb": 100.0},
        "model": {"name": name, "family": family, "reducer": reducer,
                  "params": {"C": 10.0, "kernel": "rbf"}, "n_parameters": None,
                  "hyperparameter_selection": "fixed"},
        "history": None,
        "predictions": {"test": encode_labels(predicted), "test_true": encode_labels(TEST_TRUE)},
        "checkpoint": None, "env": {"hardware": "test CPU (1 of 2 cores)"}, "recipe": None,
        "overrides": {}, "started_at": "2026-11-23T10:00:00+00:00",
        "finished_at": "2026-11-23T10:01:00+00:00",
    }
    record.update(extra)
    return record


def deep_extra(epochs: int = 3) -> dict:
    history = [{"epoch": epoch, "loss": 1 / epoch, "accuracy": 0.6 + epoch / 20,
                "val_loss": 1.2 / epoch, "val_accuracy": 0.55 + epoch / 20}
               for epoch in range(1, epochs + 1)]
    return {"history": history, "recipe": "seed",
            "model": {"name": "cnn", "family": "deep", "reducer": "none", "n_parameters": 12_345,
                      "params": {"epochs": epochs, "batch_size": 32}, "history": history}}


@pytest.fixture
def store(tmp_path) -> ResultsStore:
    """Two classical and two deep pipelines (one a failure), one name and error to escape."""
    store = ResultsStore(tmp_path / "results", "fashion-mnist", "quick")
    store.append(fake_record("raw-knn", "classical", "raw", 0.80, 5.0))
    store.append(fake_record("pca-svm", "classical", "pca", 0.85, 1.0,
                             model={"name": "pca-svm", "reducer": "pca",
                                    "notes": EVIL, "params": {"svm__C": 10.0}}))
    store.append(fake_record("cnn", "deep", "none", 0.90, 30.0, **deep_extra()))
    store.append(fake_record(EVIL, "deep", "none", 0.70, 2.0, **deep_extra(2)))
    store.append(fake_record("lstm", "deep", "none", 0.5, 1.0, status="failed",
                             error=f"MemoryError: {EVIL}"))
    return store


def test_the_page_is_byte_stable_escaped_and_self_contained(store):
    first = leaderboard_html(store)
    assert leaderboard_html(store) == first  # same store, same bytes
    # the markup a record's text would have made never appears, only its escaped form
    assert EVIL not in first and html.escape(EVIL, quote=True) in first
    assert first.count("<script") == 1 and "<script src" not in first  # only the inline one
    # nothing fetched from anywhere: no URL, no stylesheet, images as data URIs only
    assert not re.search(r"https?://", first), re.search(r".{40}https?://.{40}", first)
    assert "<link" not in first and "@import" not in first and "url(" not in first
    assert all(src.startswith("data:image/png;base64,")
               for src in re.findall(r'<img src="([^"]*)"', first))
    assert "default-src 'none'" in first  # and the browser is told so


def test_the_table_is_the_markdown_main_table(store):
    from benchmarks.reports.leaderboard import leaderboard_markdown

    page = leaderboard_html(store)
    markdown = leaderboard_markdown(store).split("### Overall")[1].split("###")[0]
    lines = [line for line in markdown.strip().splitlines() if not line.startswith("|--")]
    # the markdown writes a record's text as entities (tables.markdown_text): as text, the same
    expected = [[html.unescape(cell.strip()) for cell in line.strip("|").split("|")]
                for line in lines]
    head = re.search(r'<table class="board"[^>]*>\s*<thead><tr>(.*?)</tr>', page).group(1)
    headers = [html.unescape(text) for text in re.findall(r"<button[^>]*>(.*?)</button>", head)]
    rows = [[html.unescape(cell) for cell in re.findall(r"<td[^>]*>(.*?)</td>", row)]
            for row in re.findall(r'<tr class="row"[^>]*>(.*?)</tr>', page)]
    # these names have no pipes, which the markdown would escape
    assert [headers, *rows] == expected
    # the failed run is listed, not ranked
    assert "Failed or timed-out runs" in page and "lstm" in page


def test_publish_writes_it_beside_the_markdown_with_the_figures(store):
    results = store.location.directory.parent.parent
    no_data = results.parent / "no-data"  # the test images are not at hand: no image grid
    written = write_reports(results, data_dir=no_data)
    page = store.location.leaderboard_html
    assert page in written and store.location.leaderboard in written
    text = page.read_text(encoding="utf-8")
    figures = sorted(store.location.figures.glob("*.png"))
    curves = [path for path in figures if "-curves-" in path.name]
    assert len(curves) == 2  # both deep pipelines with a history
    assert text.count("data:image/png;base64,") == len(figures)  # each figure embedded once
    first = page.read_bytes()
    write_reports(results, data_dir=no_data)  # the same bytes again, and not removed as stale
    assert page.read_bytes() == first


# --- the page in a real browser ---------------------------------------------------------


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    """Headless Chromium driven by Selenium; skipped, saying what is missing, without them."""
    webdriver = pytest.importorskip(
        "selenium.webdriver", reason="selenium is not installed: pip install selenium")
    binary = next(filter(None, map(shutil.which, ("chromium", "chromium-browser",
                                                  "google-chrome"))), None)
    driver_path = shutil.which("chromedriver")
    if binary is None or driver_path is None:
        pytest.skip("chromium and chromedriver are not installed: "
                    "apt-get install -y chromium chromium-driver")
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--window-size=1400,1000",
                 f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options,
                              service=webdriver.ChromeService(executable_path=driver_path))
    yield driver
    driver.quit()


@pytest.fixture
def page(store, browser):
    path = store.location.leaderboard_html
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(leaderboard_html(store), encoding="utf-8")
    browser.get(path.as_uri())
    return browser


def visible_rows(driver) -> list:
    from selenium.webdriver.common.by import By

    return [row for row in driver.find_elements(By.CSS_SELECTOR, "tr.row") if row.is_displayed()]


def names(rows) -> list[str]:
    return [row.find_elements("css selector", "td")[1].text for row in rows]


def test_a_click_on_fit_time_sorts_the_rows_by_it(page):
    from selenium.webdriver.common.by import By

    assert names(visible_rows(page)) == ["cnn", "pca-svm", "raw-knn", EVIL]  # by accuracy
    [header] = [button for button in page.find_elements(By.CSS_SELECTOR, "th button")
                if button.text == "fit s"]
    header.click()
    assert names(visible_rows(page)) == ["pca-svm", EVIL, "raw-knn", "cnn"]  # 1, 2, 5, 30 s
    assert header.find_element(By.XPATH, "..").get_attribute("aria-sort") == "ascending"
    header.click()
    assert names(visible_rows(page)) == ["cnn", "raw-knn", EVIL, "pca-svm"]
    # every detail row still follows its own row
    rows = page.find_elements(By.CSS_SELECTOR, "table.board > tbody:first-of-type > tr")
    for row, detail in zip(rows[::2], rows[1::2], strict=True):
        assert detail.get_attribute("id") == row.get_attribute("aria-controls")


def test_the_family_filter_shows_only_that_family(page):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    Select(page.find_element(By.CSS_SELECTOR, 'select[data-filter="family"]')) \
        .select_by_value("deep")
    rows = visible_rows(page)
    assert names(rows) == ["cnn", EVIL]
    assert {row.get_attribute("data-family") for row in rows} == {"deep"}
    assert page.find_element(By.CSS_SELECTOR, ".shown").text == "2 of 4 pipelines shown"
    Select(page.find_element(By.CSS_SELECTOR, 'select[data-filter="reducer"]')) \
        .select_by_value("raw")
    assert visible_rows(page) == []  # no deep pipeline has the raw reducer
    Select(page.find_element(By.CSS_SELECTOR, 'select[data-filter="family"]')) \
        .select_by_value("")
    assert names(visible_rows(page)) == ["raw-knn"]


def test_a_click_on_a_row_opens_its_detail_view(page):
    from selenium.webdriver.common.by import By

    row = next(row for row in visible_rows(page) if names([row]) == ["cnn"])
    detail = page.find_element(By.ID, row.get_attribute("aria-controls"))
    assert not detail.is_displayed()
    row.click()
    assert detail.is_displayed() and row.get_attribute("aria-expanded") == "true"
    text = detail.text
    for expected in ("Run", "recipe", "seed", "Model (its own description)", "batch_size",
                     "Per-class test accuracy", "Trouser", "Confusion matrix (seed 0, test set)",
                     "Training curves"):
        assert expected in text, expected
    confusion = detail.find_element(By.CSS_SELECTOR, "table.confusion")
    assert confusion.is_displayed()
    assert len(confusion.find_elements(By.CSS_SELECTOR, ":scope > tbody > tr")) == 3
    curves = detail.find_element(By.CSS_SELECTOR, ".panel.wide img")
    assert curves.is_displayed() and page.execute_script(
        "return arguments[0].complete && arguments[0].naturalWidth > 0", curves)
    row.click()
    assert not detail.is_displayed()


def test_search_download_and_a_link_that_keeps_the_view(page):
    """The search box filters on names and settings, the CSV holds the rows shown, and the
    address's fragment keeps sort, filter and search: reopening it restores the view."""
    from selenium.webdriver.common.by import By

    box = page.find_element(By.CSS_SELECTOR, 'input[type="search"]')
    box.send_keys("svm")
    assert names(visible_rows(page)) == ["pca-svm"]
    box.clear()
    box.send_keys("batch_size")  # a hyper-parameter, from the record's settings
    assert names(visible_rows(page)) == ["cnn", EVIL]  # the two networks
    box.clear()
    box.send_keys("knn")
    [header] = [button for button in page.find_elements(By.CSS_SELECTOR, "th button")
                if button.text == "fit s"]
    header.click()
    fragment = page.execute_script("return location.hash")
    assert "q:knn" in fragment and "sort:" in fragment
    page.execute_script(
        "window.saved = []; URL.createObjectURL = function (blob) {"
        " window.saved.push(blob); return 'about:blank'; };"
        " HTMLAnchorElement.prototype.click = function () {};")  # keep the blob, no download
    page.find_element(By.CSS_SELECTOR, 'button[data-download="csv"]').click()
    csv = page.execute_async_script(
        "var done = arguments[0]; window.saved[0].text().then(done);")
    lines = csv.strip().splitlines()
    assert lines[0].startswith('"rank","pipeline"')
    assert [line.split(",")[1].strip('"') for line in lines[1:]] == names(visible_rows(page))
    page.get(page.current_url)  # the same address, fragment and all
    assert page.find_element(By.CSS_SELECTOR, 'input[type="search"]').get_attribute(
        "value") == "knn"
    assert names(visible_rows(page)) == ["raw-knn"]
    assert page.find_element(By.XPATH, "//th[button[text()='fit s']]").get_attribute(
        "aria-sort") == "ascending"


def test_published_figures_sit_under_the_ranked_rows_unranked(store):
    """Reference rows (the seeds' figures, the dataset authors' table) follow the board in a
    body of their own: no rank, no detail view, each beside this board's nearest row."""
    from benchmarks.reports.references import references_for

    page = leaderboard_html(store)
    ranked, reference = re.search(
        r'<table class="board"[^>]*>.*?<tbody>(.*?)</tbody>\s*<tbody class="reference">(.*?)'
        r"</tbody>\s*</table>", page, re.S).groups()
    assert len(re.findall(r'<tr class="row"', ranked)) == 4  # the four ranked pipelines
    rows = re.findall(r'<tr class="reference">(.*?)</tr>', reference)
    published = references_for("fashion-mnist")
    assert len(rows) == len(published) and "data-rank" not in reference
    figures = [float(re.findall(r'<td class="right">([\d.]+)</td>', row)[-1]) for row in rows]
    assert figures == sorted(figures, reverse=True) == [
        round(item.accuracy * 100, 1) for item in published]
    assert "here: " not in reference  # none of this board's pipelines is any's nearest
    assert references_for("digits") == []  # the figures are Fashion-MNIST's


def test_a_published_figure_names_the_nearest_row_and_its_accuracy(store):
    from benchmarks.reports.html import reference_body
    from benchmarks.reports.references import Reference
    from benchmarks.reports.rows import summarise
    from benchmarks.reports.tables import main_columns, percent

    rows = summarise(list(store.latest().values()))
    svm = next(row for row in rows if row.name == "pca-svm")
    [_, line, _] = reference_body(main_columns(with_family=True, with_hardware=False), rows,
                                  [Reference("An SVM", 0.9, "somewhere", "its way", "pca-svm")])
    assert f"here: pca-svm {percent(svm.accuracy)}% · its way · somewhere" in line
    assert '<td class="right">90.0</td>' in line and "<td" in line.split("An SVM")[0]


def test_sorting_and_downloads_leave_the_published_figures_alone(page):
    from selenium.webdriver.common.by import By

    [header] = [button for button in page.find_elements(By.CSS_SELECTOR, "th button")
                if button.text == "test acc %"]
    header.click()
    bodies = page.find_elements(By.CSS_SELECTOR, "table.board > tbody")
    assert len(bodies) == 2 and bodies[1].get_attribute("class") == "reference"
    assert all(row.get_attribute("class") == "row" or row.get_attribute("class") == "detail"
               for row in bodies[0].find_elements(By.CSS_SELECTOR, ":scope > tr"))
    assert names(visible_rows(page)) == ["cnn", "pca-svm", "raw-knn", EVIL][::-1]  # ascending
    first_reference = bodies[1].find_elements(By.CSS_SELECTOR, "tr.reference")[0]
    assert first_reference.is_displayed() and "WRN40-4" in first_reference.text
