"""The whole registry through the runner in the smoke profile: every pipeline must come out ok."""

from benchmarks.runner import RunOptions, run
from benchmarks.store import ResultsStore
from pipelines import list_pipelines
from tests.conftest import requires_genuine_data


def run_everything(tmp_path, dataset, exclude=()):
    summary = run(RunOptions(pipelines=list_pipelines(exclude=exclude), dataset=dataset,
                             profile="smoke",
                             results_dir=tmp_path), report=lambda line: None)
    failures = {record["pipeline"]: record["error"] for record in summary.failed}
    assert not failures
    return ResultsStore(tmp_path, dataset, "smoke").records()


def test_every_pipeline_runs_on_digits(tmp_path):
    records = run_everything(tmp_path, "digits")
    assert {record["pipeline"] for record in records} == set(list_pipelines())


@requires_genuine_data
def test_every_pipeline_runs_on_fashion_mnist(tmp_path):
    # the two largest networks are covered on digits above and in test_deep_zoo.py; training
    # them again on 28x28 images would double the suite's longest minute
    records = run_everything(tmp_path, "fashion-mnist", exclude=("vgg16", "resnet50"))
    for record in records:
        assert record["sizes"] == {"train": 1000, "validation": 500, "test": 1000}
        assert record["split"]["sizes"] == {"train": 48000, "validation": 12000, "test": 10000}
        if record["family"] == "classical":
            assert record["metrics"]["test"]["accuracy"] > 0.3, record["pipeline"]
        else:
            # a smoke epoch is a few steps: a wiring check of training, not of accuracy
            assert len(record["history"]) == 1, record["pipeline"]
            assert record["metrics"]["test"]["log_loss"] is not None, record["pipeline"]
