"""The registry through the runner in the smoke profile: every pipeline must come out ok (the
two largest networks are trained in test_deep_zoo.py)."""

from benchmarks.records.store import ResultsStore
from benchmarks.run.runner import RunOptions, run
from pipelines import list_pipelines
from pipelines.profiles import get_profile
from pipelines.registry import get_entry
from tests.conftest import requires_genuine_data


def run_everything(tmp_path, dataset, family=None, exclude=()):
    summary = run(RunOptions(pipelines=list_pipelines(family=family, exclude=exclude),
                             dataset=dataset,
                             profile="smoke",
                             results_dir=tmp_path), report=lambda line: None)
    failures = {record["name"]: record["error"] for record in summary.failed}
    assert not failures
    return ResultsStore(tmp_path, dataset, "smoke").records()


# the two largest networks train in test_deep_zoo.py (two minutes of the suite between them);
# through the runner, the other seven networks take the same code path
BIG_NETWORKS = ("vgg16", "resnet50")


def test_every_pipeline_runs_on_digits(tmp_path):
    records = run_everything(tmp_path, "digits", exclude=BIG_NETWORKS)
    assert {record["name"] for record in records} == set(list_pipelines(exclude=BIG_NETWORKS))


@requires_genuine_data
def test_every_pipeline_runs_on_fashion_mnist(tmp_path):
    # the deep zoo goes through the runner on digits above and trains on Fashion-MNIST images
    # in test_deep_zoo.py; a third smoke training of every network here would add a minute
    records = run_everything(tmp_path, "fashion-mnist", family="classical")
    assert {record["name"] for record in records} == set(list_pipelines(family="classical"))
    smoke = get_profile("smoke")
    for record in records:
        # a pipeline's own cap (hog-svm-vsv's) is below the profile's 1,000 training images
        train = get_entry(record["pipeline"]).train_size(smoke) or smoke.train_size
        assert record["sizes"] == {"train": train, "validation": 500, "test": 1000}
        assert record["split"]["sizes"] == {"train": 48000, "validation": 12000, "test": 10000}
        assert record["metrics"]["test"]["accuracy"] > 0.3, record["name"]
