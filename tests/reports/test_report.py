import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from benchmarks.records.store import ResultsStore, find_stores
from benchmarks.reports.leaderboard import leaderboard_markdown
from benchmarks.reports.publish import draw_leaderboard_figures, write_reports
from benchmarks.reports.rows import Row, summarise
from benchmarks.run.runner import RunOptions, run

COMMITTED_RESULTS = Path(__file__).resolve().parents[2] / "results"


@pytest.fixture(scope="module")
def results(tmp_path_factory, digits):
    results_dir = tmp_path_factory.mktemp("results")
    run(RunOptions(pipelines=["raw-knn", "pca-knn"], dataset="digits", profile="smoke",
                   seeds=[0, 1], results_dir=results_dir), report=lambda line: None)
    write_reports(results_dir)
    return results_dir


def test_report_only_is_byte_identical(results, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(results, copy)
    generated = [path for path in copy.rglob("*") if path.suffix in (".md", ".html", ".png")]
    assert any(path.suffix == ".png" for path in generated)
    for path in generated:
        path.unlink()
    written = write_reports(copy)
    assert len(written) == 3  # the leaderboard, as markdown and as HTML, and the index
    for path in generated:
        assert path.exists(), f"{path.name} was not regenerated"
        assert path.read_bytes() == (results / path.relative_to(copy)).read_bytes(), path.name


def test_a_figure_the_leaderboard_no_longer_links_is_removed(results, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(results, copy)
    figures_dir = copy / "digits" / "smoke" / "figures"
    stale = figures_dir / "standard-00000000-confusion-a-former-leader.png"
    stale.write_bytes((figures_dir / next(iter(sorted(
        path.name for path in figures_dir.glob("*.png"))))).read_bytes())
    write_reports(copy)
    assert not stale.exists()
    text = (copy / "digits" / "smoke" / "LEADERBOARD.md").read_text()
    remaining = sorted(path.name for path in figures_dir.glob("*.png"))
    assert remaining and all(f"(figures/{name})" in text for name in remaining)


def test_figures_are_drawn_and_linked(results):
    directory = results / "digits" / "smoke"
    text = (directory / "LEADERBOARD.md").read_text()
    names = sorted(path.name for path in (directory / "figures").glob("*.png"))
    kinds = ["accuracy-vs-fit-time", "confusion-", "per-class", "misclassified-"]
    for kind in kinds:
        assert any(kind in name for name in names), kind
    for name in names:
        assert f"(figures/{name})" in text


def test_misclassified_grid_without_the_test_images_is_kept_only_for_its_own_run(results,
                                                                                tmp_path):
    from benchmarks.reports import figures

    copy = tmp_path / "copy"
    shutil.copytree(results, copy)
    store = ResultsStore(copy, "digits", "smoke")
    best = summarise(list(store.latest().values()))[0]
    [grid] = (store.directory / "figures").glob(f"*-misclassified-{best.name}.png")
    assert figures.drawn_from(grid) == best.runs[0]["run_id"]

    def without_images(rows, class_names, prefix, title):  # the dataset is not at hand
        return draw_leaderboard_figures(rows, class_names, grid.parent, prefix, title,
                                        test_images=lambda run: None)

    text = leaderboard_markdown(store, draw_figures=without_images)
    assert f"(figures/{grid.name})" in text  # still this run's grid: kept and linked
    # the file on disk shows an earlier run: it cannot be redrawn, so it is dropped
    figures.misclassified_grid(np.zeros((3, 8, 8)), np.array([0, 1, 2]), np.array([1, 1, 1]),
                               ["a", "b", "c"], grid, "older", source="an-earlier-run")
    text = leaderboard_markdown(store, draw_figures=without_images)
    assert not grid.exists() and "misclassified" not in text
    # with the images at hand it is drawn again, for the right run
    write_reports(copy)
    assert figures.drawn_from(grid) == best.runs[0]["run_id"]


def test_statistics_columns(results):
    rows = summarise(list(ResultsStore(results, "digits", "smoke").latest().values()))
    leader, second = rows
    assert leader.ci[0] <= min(leader.accuracy) + 0.05 and leader.ci[1] <= 1
    assert leader.mcnemar is None and second.mcnemar is not None
    assert 0 <= second.mcnemar.p_value <= 1
    assert leader.pareto  # the most accurate pipeline is always on the frontier


def test_a_row_is_keyed_by_its_stored_name_and_never_changes(results):
    import dataclasses

    records = [record for record in ResultsStore(results, "digits", "smoke").latest().values()
               if record["pipeline"] == "pca-knn"]
    stored = [{**record, "name": "pca-knn[n_components=10]"} for record in records]
    [row] = summarise(stored, with_statistics=False)
    assert row.name == "pca-knn[n_components=10]"  # not the registered pipeline
    assert {run["pipeline"] for run in row.runs} == {"pca-knn"}
    assert row.seeds == len(records) and row.pareto is None and row.ci is None  # not computed
    [ranked] = summarise(stored)
    assert ranked.pareto and ranked.name == row.name
    with pytest.raises(dataclasses.FrozenInstanceError):
        row.name = "another"  # type: ignore[misc]


def test_leaderboard_content(results):
    store = ResultsStore(results, "digits", "smoke")
    text = (store.directory / "LEADERBOARD.md").read_text()
    rows = summarise(list(store.latest().values()))
    assert [row.seeds for row in rows] == [2, 2]
    means = [sum(row.accuracy) / 2 for row in rows]
    assert means == sorted(means, reverse=True)
    best = rows[0].name
    assert f"|      1 | {best}" in text
    for heading in ("### Overall", "### Classical pipelines", "### Per-class test accuracy (%)"):
        assert heading in text
    assert "fingerprint" in text and " ± " in text  # two seeds: mean ± std
    # how each row's settings were chosen, as its record says
    section = text.split("### How each pipeline's settings were chosen")[1]
    for row in rows:
        how = " ".join(row.runs[-1]["model"]["hyperparameter_selection"].split())
        assert f"| {row.name} " in section and how.replace("|", "/") in section
    index = (results / "README.md").read_text()
    assert "[digits/smoke/LEADERBOARD.md](digits/smoke/LEADERBOARD.md)" in index


def test_failed_runs_are_listed(results, tmp_path):
    store = ResultsStore(tmp_path, "digits", "smoke")
    failed = dict(ResultsStore(results, "digits", "smoke").records()[0])
    failed.update(pipeline="test-failing", status="failed", error="ValueError: bad | input")
    store.append(failed)
    text = leaderboard_markdown(store)
    assert "### Failed or timed-out runs" in text and "bad \\| input" in text
    assert "### Overall" not in text


def test_registered_pipelines_without_a_result_are_listed_with_the_reason(results, tmp_path):
    from pipelines import list_pipelines

    store = ResultsStore(tmp_path, "digits", "smoke")
    records = ResultsStore(results, "digits", "smoke").records()
    ok = next(record for record in records if record["pipeline"] == "raw-knn")
    store.append(ok)
    store.append({**ok, "name": "vgg16", "pipeline": "vgg16", "status": "timeout",
                  "error": "ran past 900 s", "finished_at": "2026-11-23T10:00:00+00:00"})
    store.append({**ok, "name": "lstm", "pipeline": "lstm", "status": "failed",
                  "error": "MemoryError: | x", "finished_at": "2026-11-23T09:00:00+00:00"})
    store.append({**ok, "name": "lstm", "pipeline": "lstm", "status": "failed",
                  "error": "older failure", "finished_at": "2026-11-22T09:00:00+00:00",
                  "seed": 1})
    store.append({**ok, "name": "mcnn[bfloat16]", "pipeline": "mcnn"})
    store.append({**ok, "name": "vgg16[bfloat16][refit]", "pipeline": "vgg16"})
    text = leaderboard_markdown(store)
    section = text.split("## Registered pipelines without a result in this profile")[1]
    cells = [re.split(r"(?<!\\)\|", line)[1:3] for line in section.splitlines()
             if line.startswith("| ")]  # split on the table's pipes, not the escaped ones
    rows = {name.strip(): reason.strip() for name, reason in cells}
    rows.pop("pipeline")  # the header
    assert set(rows) == set(list_pipelines()) - {"raw-knn"}
    assert rows["vgg16"] == ("timed out in its default arithmetic (ranked: "
                             "`vgg16[bfloat16][refit]`) (seed 0, 2026-11-23T10:00:00+00:00): "
                             "ran past 900 s")
    assert rows["lstm"] == "failed (seed 0, 2026-11-23T09:00:00+00:00): MemoryError: \\| x"
    assert rows["pca-knn"] == "not run yet in this profile"
    assert rows["mcnn"] == ("not run yet in this profile in its default arithmetic (ranked: "
                            "`mcnn[bfloat16]`)")
    ok_only = tmp_path / "complete"
    for name in list_pipelines():
        ResultsStore(ok_only, "digits", "smoke").append({**ok, "name": name, "pipeline": name})
    assert "without a result" not in leaderboard_markdown(ResultsStore(ok_only, "digits", "smoke"))


@pytest.mark.skipif(not find_stores(COMMITTED_RESULTS), reason="no committed results yet")
def test_committed_leaderboards_come_from_their_stores(tmp_path):
    copy = tmp_path / "results"
    shutil.copytree(COMMITTED_RESULTS, copy)
    for path in write_reports(copy):
        committed = COMMITTED_RESULTS / path.relative_to(copy)
        assert committed.exists(), f"{committed} is not committed"
        assert path.read_text() == committed.read_text(), (
            f"{committed} differs from what its store generates: run --report-only")


@pytest.mark.skipif(not find_stores(COMMITTED_RESULTS), reason="no committed results yet")
def test_readme_excerpt_comes_from_the_committed_store():
    from benchmarks.reports.readme import excerpt_markdown

    readme = (COMMITTED_RESULTS.parent / "README.md").read_text()
    assert excerpt_markdown(COMMITTED_RESULTS) in readme


def test_readme_excerpt_shows_the_top_and_each_familys_best(results, tmp_path):
    from benchmarks.reports.readme import EXCERPT_ROWS, excerpt_markdown

    template = ResultsStore(results, "digits", "smoke").records()[0]
    store = ResultsStore(tmp_path, "fashion-mnist", "full")
    for index in range(EXCERPT_ROWS + 2):  # classical rows above a single deep one
        accuracy = 0.9 - index / 100
        name = f"classical-{index:02d}"
        store.append({**template, "name": name, "pipeline": name, "family": "classical",
                      "dataset": "fashion-mnist", "profile": "full",
                      "metrics": {**template["metrics"], "test": {
                          **template["metrics"]["test"], "accuracy": accuracy}}})
    store.append({**template, "name": "some-network", "pipeline": "some-network",
                  "family": "deep",
                  "dataset": "fashion-mnist", "profile": "full",
                  "metrics": {**template["metrics"], "test": {
                      **template["metrics"]["test"], "accuracy": 0.5}}})
    text = excerpt_markdown(tmp_path)
    lines = [line for line in text.splitlines() if line.startswith("| ") and "---" not in line]
    assert len(lines) == 1 + EXCERPT_ROWS + 1  # header, the top, the deep family's best
    assert lines[-1].split("|")[1].strip() == str(EXCERPT_ROWS + 3)  # its true rank
    assert "some-network" in lines[-1] and "classical-11" not in text
    assert "then the best of each family below them" in text


def make_row(name: str, **fields) -> Row:
    """A row made by hand: the given fields, the others a plausible stand-in."""
    accuracy = fields.pop("accuracy", (0.9,))
    defaults = {"family": "classical", "reducer": "–", "runs": ({"seed": 0},),
                "accuracy": accuracy, "mean_accuracy": sum(accuracy) / len(accuracy),
                "macro_f1": accuracy, "validation_accuracy": (), "fit_seconds": 1.0,
                "shared_fit_seconds": 0.0, "trained_elsewhere": 0, "predict_ms_per_1k": 1.0,
                "peak_rss_mb": 0.0, "n_parameters": None, "train_size": 100,
                "hardware": "cpu", "per_class": (), "seed_figure": None}
    return Row(name=name, **{**defaults, **fields})


def test_pareto_frontier_by_hand():
    from benchmarks.reports.rows import add_statistics

    def row(name, fit_seconds, accuracy):
        return make_row(name, fit_seconds=fit_seconds, mean_accuracy=accuracy)

    made = [row("slow-best", 100, 0.93), row("mid", 10, 0.90), row("dominated", 50, 0.89),
            row("fast", 1, 0.85), row("tie-slower", 2, 0.85)]
    rows = add_statistics(made)
    assert {r.name for r in rows if r.pareto} == {"slow-best", "mid", "fast"}
    assert all(r.ci is None and r.mcnemar is None for r in rows)  # no predictions stored
    # new rows, in the same order; the rows made by hand are left as they were
    assert [r.name for r in rows] == [r.name for r in made]
    assert all(r.pareto is None for r in made)


def test_reducer_matrix_by_hand():
    from benchmarks.reports.tables import reducer_matrix

    def row(name, reducer, accuracy, family="classical"):
        return make_row(name, reducer=reducer, accuracy=(accuracy,), family=family)

    text = reducer_matrix([row("raw-svm", "raw", 0.89), row("pca-svm", "pca", 0.9),
                           row("raw-knn", "raw", 0.85), row("mcnn", "none", 0.93, "deep")])
    cells = [[cell.strip() for cell in line.strip("|").split("|")]
             for line in text.splitlines()]
    assert cells[0] == ["classifier", "raw", "pca"]
    assert cells[2] == ["knn", "**85.00**", "–"]  # its only, so its best, feature step
    assert cells[3] == ["svm", "89.00", "**90.00**"]  # the better feature step in bold
    assert "mcnn" not in text
    assert reducer_matrix([row("raw-svm", "raw", 0.89)]) is None


def test_rows_on_a_smaller_budget_than_the_profile_s_are_stated():
    from benchmarks.reports.leaderboard import smaller_budgets
    from pipelines.profiles import get_profile

    def record(name, train, epochs=None, input_shape=None, validation=12_000):
        return {"name": name, "status": "ok",
                "sizes": {"train": train, "validation": validation},
                "split": {"sizes": {"train": 48_000, "validation": 12_000}},
                "model": {"params": {"epochs": epochs} if epochs else {},
                          "input_shape": input_shape}}

    quick = get_profile("quick")
    lines = smaller_budgets([record("raw-svm", 10_000), record("mcnn", 10_000, 5, [28, 28, 1]),
                             record("mcnn@modern", 10_000, 3, [28, 28, 1]),
                             record("vgg16", 4_000, 2, [32, 32, 3], validation=2_000),
                             record("resnet50", 4_000, 2),
                             record("slow-scorer", 10_000, validation=500)], quick)
    assert lines == ["Trained on fewer images than the profile gives (10,000), a CPU-sized "
                     "budget: `resnet50` (4,000 training images, 2 epochs); `slow-scorer` "
                     "(10,000 training images, 500 validation images); `vgg16` (4,000 "
                     "training images, 2,000 validation images, 2 epochs, input 32x32x3). Their "
                     "rows rank on the same test images as every other.", ""]
    assert smaller_budgets([record("raw-svm", 10_000)], quick) == []
    # the full profile trains on the whole split: fewer images than that is a smaller budget
    full = smaller_budgets([record("mcnn", 48_000, 100), record("vgg16", 9_000, 2)],
                           get_profile("full"))
    assert full[0].startswith("Trained on fewer images than the profile gives (the whole "
                              "training split)")
    assert "`vgg16`" in full[0] and "`mcnn`" not in full[0]


def test_a_tables_hardware_names_the_cores_a_job_used_not_those_of_its_process():
    """A job of a 2-worker run on 2 cores had one thread: its times are one core's."""
    from benchmarks.records.hardware import hardware_label

    env = {"hardware": "Some CPU (2 cores)", "cpu": "Some CPU", "cpu_count": 2,
           "cpus_available": 2, "gpu": None, "threads": 1}
    assert hardware_label(env) == "Some CPU (1 of 2 cores)"
    assert hardware_label({**env, "threads": 2}) == "Some CPU (2 cores)"
    assert hardware_label({**env, "threads": 4}) == "Some CPU (2 cores)"
    # pinned to one core by the process's affinity: as before
    assert hardware_label({**env, "cpus_available": 1, "hardware": "Some CPU (1 of 2 cores)"}) \
        == "Some CPU (1 of 2 cores)"
    # a network on a GPU keeps the GPU; a classical job on that machine names its cores
    gpu_machine = {**env, "gpu": "NVIDIA H100", "cpu_count": 16, "cpus_available": 16}
    assert hardware_label({**gpu_machine, "hardware": "NVIDIA H100"}) == "NVIDIA H100"
    assert hardware_label(gpu_machine) == "Some CPU (1 of 16 cores)"
    assert hardware_label({"hardware": "Old CPU (2 cores)"}) == "Old CPU (2 cores)"


def test_a_tables_hardware_names_bfloat16_where_a_network_trained_in_it():
    """A row trained in bfloat16 (a GPU's default, --precision bfloat16 on a CPU) says so
    beside its hardware; float32 and records without a model policy say nothing more."""
    from benchmarks.records.hardware import hardware_label

    env = {"hardware": "NVIDIA H200", "gpu": "NVIDIA H200"}
    assert hardware_label(env, {"dtype_policy": "mixed_bfloat16"}) \
        == "NVIDIA H200, mixed_bfloat16"
    assert hardware_label(env, {"dtype_policy": "float32"}) == "NVIDIA H200"
    assert hardware_label(env, {"dtype_policy": 3}) == hardware_label(env, None) \
        == "NVIDIA H200"


def test_the_leader_s_precision_recall_and_f1_per_class_and_the_seed_figures_are_shown():
    """On the committed full store: the leader's and each family's best per-class precision,
    recall and F1 (derived from the confusion matrices of records stored before they were
    kept, equal to scikit-learn's on the stored predictions), and each seed system's own
    figure beside ours."""
    from sklearn.metrics import precision_recall_fscore_support

    from benchmarks.api import load
    from benchmarks.records.record import stored_labels

    store = ResultsStore(COMMITTED_RESULTS, "fashion-mnist", "full")
    text = leaderboard_markdown(store)
    section = text.split("### Per-class precision, recall and F1 (%)")[1].split("###")[0]
    rows = summarise([record for record in store.latest().values()
                      if record["split"]["name"] == "standard"], with_statistics=False)
    leader = rows[0]
    assert f"{leader.name} F1" in section
    f1_of_each_seed = []
    for seed_run in leader.runs:  # the table averages them over the leader's seeds
        truth, predicted = stored_labels(seed_run["predictions"])
        _, _, f1, _ = precision_recall_fscore_support(truth, predicted, labels=range(10),
                                                      zero_division=0)
        f1_of_each_seed.append(f1)
    shirt = next(line for line in section.splitlines() if line.startswith("| Shirt"))
    assert f"{np.mean(f1_of_each_seed, axis=0)[6] * 100:.1f}" in shirt
    first = leader.runs[0]
    record = next(record for record in load(COMMITTED_RESULTS, profile="full").records
                  if record["run_id"] == first["run_id"])
    assert record["metrics"]["test"]["per_class_f1"] == pytest.approx(f1_of_each_seed[0].tolist())
    # mcnn reproduces seed 000's MCNN: its figure and where it comes from; a classical row
    # has no seed counterpart
    overall = text.split("### Overall")[1].split("###")[0]
    table = [line.split("|") for line in overall.splitlines() if line.startswith("|")]
    column = [cell.strip() for cell in table[0]].index("seed reported %")
    mcnn = next(line for line in table if line[2].strip() == "mcnn")
    assert mcnn[column].strip() == "93.37"
    assert "- `mcnn`: seed 000, line 182, test accuracy; its own 80/10/10 split" in overall
    classical = next(line for line in table if line[3].strip() == "classical")
    assert classical[column].strip() == "–"


def test_the_readme_answer_is_the_stores_own_numbers():
    """README's first paragraph against the committed stores, computed here from the
    records: the best row of each family by test accuracy, the gap, the fit-time ratio."""
    from benchmarks.reports.readme import answer_markdown, standard_rows

    readme = (COMMITTED_RESULTS.parent / "README.md").read_text(encoding="utf-8")
    answer = answer_markdown(COMMITTED_RESULTS)
    assert answer in readme
    rows, profile = standard_rows(COMMITTED_RESULTS)
    best = {family: max((row for row in rows if row.family == family),
                        key=lambda row: row.mean_accuracy) for family in ("classical", "deep")}
    deep, classical = best["deep"], best["classical"]
    assert f"`{deep.name}`, scores {deep.runs[0]['metrics']['test']['accuracy'] * 100:.2f}%" \
        in answer
    assert f"`{classical.name}`, {classical.runs[0]['metrics']['test']['accuracy'] * 100:.2f}%" \
        in answer
    gap = (deep.runs[0]["metrics"]["test"]["accuracy"]
           - classical.runs[0]["metrics"]["test"]["accuracy"]) * 100
    assert f"{gap:+.2f} points for deep" in answer
    # the fit times of the same first-seed runs the scores come from
    fits = {row.name: row.runs[0]["timing"]["fit_seconds"] for row in (deep, classical)}
    assert f"{fits[deep.name] / fits[classical.name]:.1f}x the fit time" in answer
    for row in (deep, classical):  # each time with the machine it was measured on
        assert f"{fits[row.name]:,.0f} s" in answer and f"s on {row.hardware}" in answer
    low, high = (float(value) for value in
                 answer.split("95% interval ")[1].split(",")[0].split(" to "))
    assert low <= gap <= high
