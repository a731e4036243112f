"""The Python API: the README's example run as written, DataFrames against the markdown."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from benchmarks.api import BenchmarkResults, from_arrays, load, run
from benchmarks.errors import FashionbenchError

ROOT = Path(__file__).resolve().parent.parent


def readme_python_blocks() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## From Python", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, flags=re.S)


def markdown_rows(leaderboard: Path) -> list[list[str]]:
    """The main table's rows of a LEADERBOARD.md (the first table after '### Overall')."""
    section = leaderboard.read_text(encoding="utf-8").split("### Overall", 1)[1].lstrip()
    table = section.split("\n\n", 1)[0].splitlines()
    cells = [[cell.strip() for cell in line.strip("|").split("|")] for line in table]
    return [cells[0]] + cells[2:]  # the header, then the rows (not the alignment line)


def assert_row_matches(frame: pd.DataFrame, markdown: list[list[str]], index: int = 0):
    from benchmarks.api import BEYOND_ACCURACY

    header, row = markdown[0], markdown[1 + index]
    # the markdown's main table, then the robustness and calibration columns
    assert list(frame.columns) == header + list(BEYOND_ACCURACY)
    for column, text in zip(header, row, strict=True):
        value = frame.iloc[index][column]
        if isinstance(value, int | float | np.integer | np.floating) and \
                not isinstance(value, bool | np.bool_):
            if text in ("–", "leader"):
                assert text == "leader" or np.isnan(value), column
                continue
            text = text.split(" ± ")[0]  # several seeds: the frame holds their mean
            # marks beside a number (p's "≈" when not significant) are not digits
            text = re.sub(r"[^0-9.e+-]", "", text.replace(",", ""))
            number = float(text)
            digits = len(text.split(".")[1]) if "." in text and "e" not in text else None
            if digits is not None:
                assert round(float(value), digits) == pytest.approx(number), column
            else:
                assert float(value) == pytest.approx(number, rel=0.01), column
        else:
            assert str(value) == text, column


def test_the_readme_example_runs_and_its_top_row_is_the_markdown_s(tmp_path, monkeypatch):
    [example] = readme_python_blocks()
    monkeypatch.chdir(tmp_path)
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        namespace: dict = {}
        exec(compile(example, "README.md", "exec"), namespace)
    results = namespace["results"]
    assert isinstance(results, BenchmarkResults)
    assert namespace["figure"].axes  # a matplotlib figure with something drawn
    leaderboard = tmp_path / "my-results" / "digits" / "quick" / "LEADERBOARD.md"
    markdown = markdown_rows(leaderboard)
    assert_row_matches(results.leaderboard, markdown, 0)
    assert len(results.leaderboard) == len(markdown) - 1 == 3
    top = markdown[1][markdown[0].index("pipeline")]
    assert printed.getvalue().splitlines()[1].split()[:2] == ["1", top]
    # the robustness and calibration columns are the top record's own numbers
    [record] = [r for r in results.records if r["name"] == top.strip("`")]
    first = results.leaderboard.iloc[0]
    robustness, test = record["metrics"]["robustness"], record["metrics"]["test"]
    assert first["corrupted acc %"] == pytest.approx(100 * robustness["mean_accuracy"])
    assert first["relative robustness"] == pytest.approx(robustness["relative"])
    if test.get("ece") is not None:
        assert first["ECE"] == pytest.approx(test["ece"])
    # load() reads the same store back, without training
    again = load(tmp_path / "my-results", dataset="digits", profile="quick")
    pd.testing.assert_frame_equal(again.leaderboard, results.leaderboard)
    assert [r["run_id"] for r in again.records] == [r["run_id"] for r in results.records]
    html = results._repr_html_()
    assert "<table" in html and top in html


@pytest.mark.parametrize("profile", ["quick", "full"])
def test_the_committed_leaderboards_load_as_the_markdown_shows_them(profile):
    results = load(ROOT / "results", dataset="fashion-mnist", profile=profile)
    markdown = markdown_rows(ROOT / "results" / "fashion-mnist" / profile / "LEADERBOARD.md")
    assert len(results.leaderboard) == len(markdown) - 1
    for index in (0, 1, len(markdown) - 2):
        assert_row_matches(results.leaderboard, markdown, index)


def test_a_refits_curves_do_not_call_its_trained_on_images_a_validation_split():
    results = load(ROOT / "results", dataset="fashion-mnist", profile="full")

    def legend(name):
        figure = results.figure("curves", name)
        return {text.get_text() for text in figure.axes[0].get_legend().get_texts()}

    assert legend("resnet20@modern") == {"train", "validation"}
    assert legend("resnet20@modern[bfloat16][refit]") == {
        "train", "validation images (trained on)"}


def test_figures_are_matplotlib_figures(tmp_path):
    import matplotlib.figure

    results = run(["raw-knn", "pca-knn", "cnn-seed004"], dataset="digits", profile="smoke",
                  results_dir=tmp_path, progress=False, publish=False)
    for kind, pipeline in (("accuracy-vs-fit-time", None), ("per-class", None),
                           ("confusion", None), ("confusion", "pca-knn"),
                           ("curves", "cnn-seed004")):
        assert isinstance(results.figure(kind, pipeline), matplotlib.figure.Figure)
    with pytest.raises(FashionbenchError, match="no training history"):
        results.figure("curves", "raw-knn")
    with pytest.raises(FashionbenchError, match="unknown figure"):
        results.figure("pie")
    assert not (tmp_path / "digits" / "smoke" / "LEADERBOARD.md").exists()  # publish=False


def test_arrays_run_through_the_api(tmp_path):
    rng = np.random.default_rng(0)
    labels = np.arange(120) % 3
    images = (rng.random((120, 12, 12)) * 80).astype(np.uint8)
    for image, label in zip(images, labels, strict=True):
        image[4 * label:4 * label + 4] = 255  # each class lights its own band of rows
    dataset = from_arrays(images[:90], labels[:90], images[90:], labels[90:],
                          class_names=["top", "middle", "bottom"], name="bands")
    results = run(["raw-knn", "hog-svm"], dataset=dataset, profile="smoke",
                  results_dir=tmp_path, progress=False)
    assert (tmp_path / "bands" / "smoke" / "LEADERBOARD.md").exists()
    assert set(results.leaderboard["pipeline"]) == {"raw-knn", "hog-svm"}
    assert (results.leaderboard["test acc %"] > 90).all()
    assert results.records[0]["class_names"] == ["top", "middle", "bottom"]


def test_bad_settings_and_missing_stores_are_one_line_errors(tmp_path):
    with pytest.raises(FashionbenchError, match="seeds must be whole numbers from 0 to"):
        run("raw-knn", dataset="digits", seeds=[-1], results_dir=tmp_path)
    with pytest.raises(FashionbenchError, match="no pipeline matches"):
        run("nothing-*", dataset="digits", results_dir=tmp_path)
    with pytest.raises(FashionbenchError, match="no results store at"):
        load(tmp_path, dataset="digits", profile="quick")
    assert not any(tmp_path.iterdir())
