"""A newcomer's first contact from Python: any scikit-learn estimator in one call, figures
that leave the notebook's matplotlib alone, a refusal before a run whose workers could not
build what it was given."""

import subprocess
import sys

import pytest
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from benchmarks.api import run
from benchmarks.errors import FashionbenchError
from pipelines.registry import pipeline_entries
from tests.conftest import PROJECT_ROOT


def quiet_run(pipelines, tmp_path, **options):
    return run(pipelines, dataset="digits", profile="smoke", results_dir=tmp_path,
               progress=False, publish=False, **options)


def test_importing_the_reports_leaves_the_matplotlib_backend_as_it_was():
    code = ("import matplotlib; before = matplotlib.get_backend()\n"
            "import benchmarks.api, benchmarks.reports.figures, benchmarks.reports.publish\n"
            "import matplotlib.pyplot as plt\n"
            "print(before, matplotlib.get_backend(), len(plt.get_fignums()))")
    done = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True,
                          text=True, env={"MPLBACKEND": "svg", "PATH": "/usr/bin:/bin"},
                          timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["svg", "svg", "0"]


def test_an_estimator_a_list_a_dict_and_a_pipeline_are_each_ranked(tmp_path):
    results = quiet_run(LogisticRegression(max_iter=300), tmp_path)
    assert [row.name for row in results._rows_of(None)] == ["logistic-regression"]
    results = quiet_run({"logreg": LogisticRegression(max_iter=300),
                         "rf": RandomForestClassifier(n_estimators=20)}, tmp_path)
    results = quiet_run([make_pipeline(StandardScaler(), LogisticRegression(max_iter=300))],
                        tmp_path)
    names = set(results.leaderboard["pipeline"])
    assert {"logistic-regression", "logreg", "rf",
            "standard-scaler+logistic-regression"} <= names
    # registered for the call only
    assert not {"logreg", "rf", "logistic-regression"} & set(pipeline_entries())


def test_names_and_built_ins_mix_and_a_clash_is_one_line(tmp_path):
    results = quiet_run(["raw-knn", LogisticRegression(max_iter=300)], tmp_path)
    assert set(results.leaderboard["pipeline"]) == {"raw-knn", "logistic-regression"}
    with pytest.raises(FashionbenchError, match="'raw-knn' is the name of a built-in"):
        quiet_run({"raw-knn": LogisticRegression()}, tmp_path)
    with pytest.raises(FashionbenchError, match="is not a scikit-learn estimator"):
        quiet_run({"mine": object()}, tmp_path)


def test_workers_are_refused_what_only_this_process_can_build(tmp_path):
    with pytest.raises(FashionbenchError, match="executor='serial'") as refused:
        quiet_run(LogisticRegression(), tmp_path, executor="process", workers=2)
    assert "\n" not in str(refused.value)
    assert not list(tmp_path.rglob("runs.jsonl"))  # refused before any job ran


def test_own_data_says_its_holdout_up_front_and_holdout_chooses_it(tmp_path, capsys):
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    from benchmarks.api import from_arrays

    digits = load_digits()
    images = (digits.images * 16).clip(0, 255).astype("uint8")
    x_train, x_test, y_train, y_test = train_test_split(images, digits.target, test_size=0.25,
                                                        stratify=digits.target, random_state=0)
    dataset = from_arrays(x_train, y_train, x_test, y_test, name="mine")
    results = run(["raw-knn"], dataset=dataset, profile="quick", results_dir=tmp_path,
                  holdout=0.1, progress=True)
    out = capsys.readouterr().out
    held = round(0.1 * len(x_train))
    assert f"validation hold-out: {held:,} of your {len(x_train):,} training images (10%" in out
    [record] = results.records
    assert record["split"]["sizes"]["validation"] == held
    board = (tmp_path / "mine" / "quick" / "LEADERBOARD.md").read_text()
    assert "a stratified 10% hold-out of the training part" in board
    # the quick profile's 10,000-image cap is no cap for 1,213 training images: no note
    assert "Trained on fewer images than the profile gives" not in board
    with pytest.raises(FashionbenchError, match="holdout must be between 0 and 1"):
        run(["raw-knn"], dataset=dataset, profile="smoke", results_dir=tmp_path, holdout=1.5,
            progress=False)
