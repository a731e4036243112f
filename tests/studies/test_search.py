"""Search studies: seed 003's space as the seed states it, repeatable proposals, and a whole
search (trials, choice on validation, tuned and baseline models, resume, report) end to end."""

import json
import math
import textwrap

import pytest

import benchmarks.studies.spec
from benchmarks.cli import main
from benchmarks.errors import FashionbenchError
from benchmarks.records.store import ResultsStore
from benchmarks.studies.spec import load_study
from benchmarks.studies.trials import SearchStudy, propose_trials
from pipelines.deep.keras_pipeline import TrainingConfig
from pipelines.deep.network_settings import SEED003_BASELINE

# Seed 003's best trial (its Figure 9, "Trial 1"), and its parameter count by hand:
# conv 3x3x1x64+64 = 640; 3x3x64x64+64 = 36,928; (28-2-2)/2 = 12; 3x3x64x128+128 = 73,856;
# 3x3x128x32+32 = 36,896; (12-2-2)/2 = 4: 4x4x32 = 512 inputs to dense 80: 41,040;
# softmax 80x10+10 = 810. Total 190,170.
SEED003_TRIAL_1 = {"conv1_filters": 64, "conv2_filters": 64, "conv2_activation": "relu",
                   "dropout1": 0.25, "conv3_filters": 128, "conv3_activation": "relu",
                   "conv4_filters": 32, "conv4_activation": "relu", "dropout2": 0.25,
                   "dense_units": 80, "dropout3": 0.15}
SEED003_TRIAL_1_PARAMETERS = 190_170


def in_space(dimension, value) -> bool:
    if dimension.choices is not None:
        return value in dimension.choices
    if not dimension.low <= value <= dimension.high:
        return False
    if dimension.step:
        steps = (value - dimension.low) / dimension.step
        return math.isclose(steps, round(steps), abs_tol=1e-9)
    return True


def test_seed003_search_is_the_seeds_own():
    study = load_study("seed003-random-search")
    assert isinstance(study, SearchStudy) and study.pipeline == "cnn-seed003"
    assert {d.name for d in study.space} == set(SEED003_BASELINE) | {"learning_rate"}
    full = study.budget("full")
    assert (full.trials, full.executions, full.epochs) == (20, 2, 10)  # the seed's tuner
    for dimension in study.space:
        # "before tuning" in the report is what cnn-seed003 builds and trains by default
        ours = SEED003_BASELINE.get(dimension.name, TrainingConfig(epochs=1).learning_rate)
        assert dimension.seed_before_tuning == ours, dimension.name
        # the seed's five best trials lie inside the space it declares
        assert len(dimension.seed_trials) == 5
        assert all(in_space(dimension, value) for value in dimension.seed_trials), dimension.name
    assert study.seed_scores[0] == study.seed_tuned_score == 91.63
    with pytest.raises(FashionbenchError, match=r"no budget for profile 'huge'"):
        study.budget("huge")


def test_proposals_are_repeatable_and_inside_the_space():
    study = load_study("seed003-random-search")
    proposals = propose_trials(study, 60)
    assert proposals == propose_trials(study, 60)
    assert proposals[:20] == propose_trials(study, 20)  # a bigger budget extends, not reshuffles
    for params in proposals:
        for dimension in study.space:
            assert in_space(dimension, params[dimension.name]), (dimension.name, params)
    rates = sorted(params["learning_rate"] for params in proposals)
    # log-uniform on [1e-4, 1e-2]: about half the rates lie below 1e-3
    assert 15 <= sum(rate < 1e-3 for rate in rates) <= 45
    assert len({params["conv1_filters"] for params in proposals}) == 3


def test_the_seeds_tuned_network_has_its_hand_counted_parameters():
    pytest.importorskip("keras")
    from pipelines import create_pipeline

    tuned = create_pipeline("cnn-seed003", "smoke", learning_rate=0.0023, **SEED003_TRIAL_1)
    description = tuned.describe()
    assert description["n_parameters"] == SEED003_TRIAL_1_PARAMETERS
    assert description["network"] == SEED003_TRIAL_1
    assert description["params"]["learning_rate"] == 0.0023
    assert description["expected_parameters_28x28"] is None  # the seed's count is the baseline's
    baseline = create_pipeline("cnn-seed003", "smoke").describe()
    assert baseline["n_parameters"] == baseline["expected_parameters_28x28"] == 83_322


TOY_STUDY = textwrap.dedent('''
    kind = "search"
    title = "kNN neighbours and PCA components"
    seed = "test"
    pipeline = "pca-knn"
    profile = "smoke"
    sampler_seed = 1

    [budget.smoke]
    trials = 4
    executions = 2

    [space.n_neighbors]
    layer = "kNN"
    label = "neighbours"
    low = 1
    high = {high}
    seed_before_tuning = 5

    [space.n_components]
    layer = "PCA"
    label = "components"
    choices = [5, 10, 20]
    seed_before_tuning = 30
''')


@pytest.fixture
def toy_study(tmp_path, monkeypatch):
    studies = tmp_path / "studies"
    studies.mkdir()
    monkeypatch.setattr(benchmarks.studies.spec, "STUDIES_DIR", studies)
    path = studies / "toy-search.toml"
    path.write_text(TOY_STUDY.format(high=15))
    return path


def test_a_search_runs_chooses_on_validation_resumes_and_reports(tmp_path, toy_study, capsys):
    results = tmp_path / "results"
    arguments = ["--study", "toy-search", "--dataset", "digits", "--results-dir", str(results)]
    assert main(arguments) == 0
    store = ResultsStore(results / "studies" / "toy-search", "digits", "smoke")
    records = store.records()
    assert all(record["status"] == "ok" for record in records)
    trials = [r for r in records if "[trial=" in r["name"]]
    assert len(trials) == 8 and {r["seed"] for r in trials} == {0, 1}  # 4 trials x 2 executions

    # the choice, recomputed from the records: the best mean validation accuracy
    proposals = propose_trials(load_study("toy-search"), 4)
    mean = {}
    for number, params in enumerate(proposals, start=1):
        runs = [r for r in trials if r["name"] == f"pca-knn[trial={number:02d}]"]
        assert all(r["overrides"] == params for r in runs)
        mean[number] = sum(r["metrics"]["validation"]["accuracy"] for r in runs) / len(runs)
    best = max(sorted(mean), key=lambda number: mean[number])
    final = {r["name"]: r for r in records if "[trial=" not in r["name"]}
    assert set(final) == {"pca-knn[before tuning]", f"pca-knn[tuned=trial {best:02d}]"}
    assert final[f"pca-knn[tuned=trial {best:02d}]"]["overrides"] == proposals[best - 1]
    assert final["pca-knn[before tuning]"]["overrides"] == {}

    directory = store.directory
    report = (directory / "STUDY.md").read_text()
    assert f"ours #1 (trial {best})" in report and "| kNN" in report
    assert f"{100 * mean[best]:.2f}" in report
    assert (directory / "toy-search.png").exists()

    # a rerun trains nothing; the report is regenerated byte for byte
    capsys.readouterr()
    assert main(arguments + ["--quiet"]) == 0
    assert len(store.records()) == len(records)
    (directory / "STUDY.md").unlink()
    assert main(["--report-only", "--results-dir", str(results)]) == 0
    assert (directory / "STUDY.md").read_text() == report

    # a changed search space would mix incompatible trials under one name: refused
    toy_study.write_text(TOY_STUDY.format(high=9))
    capsys.readouterr()
    assert main(arguments) != 0
    error = capsys.readouterr().err.strip().splitlines()
    assert len(error) == 1 and "the search space changed" in error[0]
    assert json.loads(store.path.read_text().splitlines()[0])["status"] == "ok"
    assert len(store.records()) == len(records)
