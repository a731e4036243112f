"""Studies: every definition loads and names real pipelines and hyper-parameters; one runs."""

import pytest

from benchmarks.cli import main
from benchmarks.errors import FashionbenchError, UnknownNameError
from benchmarks.records.store import ResultsStore
from benchmarks.studies.spec import list_studies, load_study, select_variants
from pipelines import create_pipeline
from pipelines.registry import get_entry


def test_the_seed_studies_are_there():
    assert {"seed000-batch-size", "seed000-learning-rate", "seed000-optimizers",
            "seed001-dropout", "pca-components"} <= set(list_studies())


@pytest.mark.parametrize("name", list_studies())
def test_every_study_is_well_formed(name):
    study = load_study(name)
    if study.kind == "search":
        pytest.skip("a search study has no fixed variants: tests/studies/test_search.py")
    assert study.variants and len(study.values) == len(study.seed_values)
    for variant in study.variants:
        assert get_entry(variant.pipeline), variant.pipeline  # name@recipe included
        if variant.settings is not None:  # several settings: each reaches the training
            pipeline = create_pipeline(variant.pipeline, "smoke", **dict(variant.overrides))
            for key, value in variant.overrides:
                stored = getattr(pipeline.config, key)
                assert (list(stored) if isinstance(stored, tuple) else stored) == \
                    (list(value) if isinstance(value, tuple) else value), (variant.label, key)
        elif variant.parameter:
            # the factory accepts the varied hyper-parameter (building checks it)
            pipeline = create_pipeline(variant.pipeline, "smoke", **dict(variant.overrides))
            description = pipeline.describe()
            assert str(variant.value) in str(description), (name, variant.label)


def test_seed000_tables_carry_the_papers_figures():
    batch = load_study("seed000-batch-size")
    assert dict(zip(batch.values, batch.seed_values, strict=True))[128] == 93.37
    assert load_study("seed000-learning-rate").values == (0.01, 0.02, 0.001, 0.002)


def test_unknown_study_suggests(capsys):
    with pytest.raises(UnknownNameError, match="did you mean seed000-optimizers"):
        load_study("seed000-optimizer")


def test_a_study_runs_and_reports(tmp_path, capsys):
    results = tmp_path / "results"
    code = main(["--study", "seed001-dropout", "--dataset", "digits", "--profile", "smoke",
                 "--results-dir", str(results), "--quiet"])
    assert code == 0
    directory = results / "studies" / "seed001-dropout" / "digits" / "smoke"
    report = (directory / "STUDY.md").read_text()
    assert "| without dropout" in report and "91.14" in report and "91.68" in report
    # the study is written for the full profile: a smoke run says what budget it had
    assert "written for the `full` profile; these runs had the `smoke` budget (wiring " \
           "check: tiny subsamples, a few steps; not a result; these runs trained up to 1 epoch)" \
        in report
    assert (directory / "seed001-dropout.png").exists()
    assert (directory / "seed001-dropout-curves.png").exists()
    before = report
    (directory / "STUDY.md").unlink()
    assert main(["--report-only", "--results-dir", str(results)]) == 0
    assert (directory / "STUDY.md").read_text() == before
    assert not list(results.glob("digits/*/runs.jsonl"))  # the suite's stores stay apart
    index = (results / "README.md").read_text()  # the results index links the study
    assert "[studies/seed001-dropout/digits/smoke/STUDY.md]" in index


def test_only_and_exclude_choose_a_studys_variants_by_value_or_name():
    study = load_study("modern-recipe-ablation")
    labels = [v.label for v in select_variants(study, ["no random erasing*", "no dropout"])]
    assert labels == ["mcnn@modern[no random erasing]", "mcnn@modern[no dropout]",
                      "mcnn@modern[no random erasing or dropout]"]  # the study's order
    assert [v.label for v in select_variants(study, ["mcnn@modern?no dropout?"])] == \
        ["mcnn@modern[no dropout]"]
    left = select_variants(study, exclude=["*dropout*", "*epochs"])
    assert len(left) == len(study.variants) - 6 and all("dropout" not in v.label for v in left)
    with pytest.raises(FashionbenchError, match="no variant of study 'modern-recipe-ablation' "
                                                "matches 'no erasing'; its variants: "):
        select_variants(study, ["no erasing"])


def test_a_study_runs_only_the_chosen_variant(tmp_path, capsys):
    results = tmp_path / "results"
    assert main(["--study", "seed001-dropout", "--only", "with dropout", "--dataset", "digits",
                 "--profile", "smoke", "--results-dir", str(results), "--quiet"]) == 0
    store = ResultsStore(results / "studies" / "seed001-dropout", "digits", "smoke")
    assert {r["name"] for r in store.records()} == {"cnn-seed001-dropout"}
    assert main(["--study", "seed001-dropout", "--only", "no such variant", "--dataset",
                 "digits", "--profile", "smoke", "--results-dir", str(results)]) == 2
    assert "no variant of study 'seed001-dropout' matches 'no such variant'" in \
        capsys.readouterr().err
    assert {r["name"] for r in store.records()} == {"cnn-seed001-dropout"}  # nothing lost


def test_a_study_asked_for_another_arithmetic_is_refused_in_one_line(tmp_path, capsys):
    """A study's tables and search find its runs by their labels, which an asked arithmetic
    would mark (``[bfloat16]``): refused before anything runs, the fix named."""
    results = tmp_path / "results"
    assert main(["--study", "seed001-dropout", "--precision", "bfloat16", "--dataset",
                 "digits", "--profile", "smoke", "--results-dir", str(results)]) == 2
    error = capsys.readouterr().err.strip().splitlines()
    assert error == ["error: study 'seed001-dropout' compares its variants in the default "
                     "arithmetic: run it without --precision bfloat16"]
    assert not results.exists()
