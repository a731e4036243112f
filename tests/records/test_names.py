"""Names become path parts (a store is <dataset>/<profile>/, a figure is named after its
pipeline): where a name is made (the registry, a custom dataset, a study) and where it is
read (a record, the layout) one that a file system reads as more than one plain name is
refused, and no file lands outside the results directory."""

from __future__ import annotations

import json

import numpy as np
import pytest

from benchmarks.errors import FashionbenchError
from benchmarks.merge import merge
from benchmarks.records.layout import ResultsLayout, run_figure
from pipelines.names import path_part_problem
from tests.records.test_record_check import committed_record

PRODUCT_NAMES = ("mcnn@modern", "hog-svm[refit]", "mcnn[batch_size=32]", "pca-knn[trial=03]",
                 "fashion-mnist", "digits", "my-data.v2", "standard", "quick",
                 "seed000-batch-size", "mcnn@modern[no erasing]", "x" * 120)
UNSAFE = ("../escape", "..", ".", "/etc", "a/b", "a\\b", "a\0b", "a\nb", "\x1b[31m", "",
          "x" * 121, " padded", "a\u202eb", "C:/windows")


@pytest.mark.parametrize("name", PRODUCT_NAMES)
def test_the_product_s_names_are_safe(name):
    assert path_part_problem(name) is None


@pytest.mark.parametrize("name", UNSAFE + (None, 3, ["a"]))
def test_names_that_leave_their_folder_are_refused(name):
    assert path_part_problem(name)


@pytest.mark.parametrize("name", ["../escape", "a/b", "a\nb"])
def test_the_registry_refuses_a_pipeline_name_that_is_no_path_part(isolated_registry, name):
    with pytest.raises(FashionbenchError, match="pipeline name"):
        isolated_registry.register_pipeline(name, family="classical")(lambda profile: None)
    assert name not in isolated_registry.pipeline_entries()


def test_a_plugin_file_with_such_a_name_is_a_recorded_failure(isolated_registry, tmp_path):
    plugin = tmp_path / "bad_plugin.py"
    plugin.write_text("from pipelines import register_pipeline\n"
                      "@register_pipeline('../../evil', family='classical')\n"
                      "def evil(profile):\n    return None\n")
    assert isolated_registry.load_plugin_file(plugin) is False
    assert "../../evil" not in isolated_registry.pipeline_entries()
    assert any("pipeline name" in failure.error
               for failure in isolated_registry.plugin_failures())


def test_a_custom_dataset_name_must_be_a_path_part():
    from benchmarks.data.custom_data import dataset_from_arrays, dataset_name

    images = np.zeros((4, 8, 8), dtype=np.uint8)
    labels = np.array([0, 1, 0, 1])
    with pytest.raises(FashionbenchError, match="dataset name"):
        dataset_from_arrays(images, labels, images, labels, name="../../escape")
    assert path_part_problem(dataset_name(__import__("pathlib").Path("x" * 200))) is None


def test_a_study_name_must_be_a_path_part():
    from benchmarks.studies.spec import load_study

    with pytest.raises(FashionbenchError, match="study name"):
        load_study("../../../etc/passwd")


@pytest.mark.parametrize("name", ["../escape", "/tmp/escape", "..", "a\0b"])
def test_the_layout_hands_out_no_path_outside_the_results_dir(tmp_path, name):
    layout = ResultsLayout(tmp_path / "results")
    for make in (lambda: layout.store(name, "quick"), lambda: layout.store("digits", name),
                 lambda: layout.study_root(name),
                 lambda: run_figure(tmp_path / "results" / "figures", "standard-abc", "curves",
                                    name)):
        with pytest.raises(FashionbenchError):
            make()


def test_a_merged_record_with_a_path_as_its_dataset_writes_nothing_outside(tmp_path):
    sandbox = tmp_path / "sandbox"
    source = tmp_path / "source" / "fashion-mnist" / "quick"
    source.mkdir(parents=True)
    lines = []
    for field, value in (("dataset", "../../../outside"), ("profile", "/tmp/outside"),
                         ("name", "../../outside"), ("split", {"name": "../../../x",
                                                                "fingerprint": "abcdef12"})):
        record = committed_record()
        record[field] = value
        lines.append(json.dumps(record))
    (source / "runs.jsonl").write_text("\n".join(lines) + "\n")
    results = sandbox / "results"
    summary = merge(tmp_path / "source", results)
    assert summary.added == 0 and len(summary.rejected) == 4
    assert not sandbox.exists() or [path.name for path in sandbox.iterdir()] == ["results"]


def test_a_store_folder_that_is_no_path_part_or_links_outside_is_left_out(tmp_path):
    from benchmarks.reports.publish import publish

    outside = tmp_path / "outside"
    outside.mkdir()
    results = tmp_path / "results"
    good = results / "fashion-mnist" / "quick"
    good.mkdir(parents=True)
    (good / "runs.jsonl").write_text(json.dumps(committed_record()) + "\n")
    (results / "odd\nname" / "quick").mkdir(parents=True)
    (results / "odd\nname" / "quick" / "runs.jsonl").write_text(
        json.dumps(committed_record()) + "\n")
    (results / "linked").mkdir()
    (results / "linked" / "quick").symlink_to(outside, target_is_directory=True)
    (outside / "runs.jsonl").write_text(json.dumps(committed_record()) + "\n")
    with pytest.warns(UserWarning, match="left out"):
        publish(results, say=lambda _: None)
    assert (good / "LEADERBOARD.md").exists()
    assert [path.name for path in outside.iterdir()] == ["runs.jsonl"]
    assert not (results / "odd\nname" / "quick" / "LEADERBOARD.md").exists()


def test_merge_leaves_out_a_source_study_folder_that_is_no_path_part(tmp_path):
    good = tmp_path / "source" / "fashion-mnist" / "quick"
    odd = tmp_path / "source" / "studies" / "odd\nstudy" / "fashion-mnist" / "quick"
    for folder in (good, odd):
        folder.mkdir(parents=True)
        (folder / "runs.jsonl").write_text(json.dumps(committed_record()) + "\n")
    with pytest.warns(UserWarning, match="study name"):
        summary = merge(tmp_path / "source", tmp_path / "results")
    assert summary.added == 1
    assert [path.name for path in (tmp_path / "results").iterdir()] == ["fashion-mnist"]
