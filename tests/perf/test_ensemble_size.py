"""The ensemble-size selection script: its prefix curves against scikit-learn's own smaller
ensembles."""

from __future__ import annotations

import argparse
import copy
import json
from pathlib import Path

import pytest
from sklearn.datasets import load_digits
from sklearn.ensemble import AdaBoostClassifier, RandomForestClassifier
from sklearn.tree import DecisionTreeClassifier

from benchmarks.perf.ensemble_size import (
    choose,
    prefix_accuracies,
    setting,
    smallest_settled,
    smallest_within,
)

SELECTION = Path(__file__).parents[2] / "results/selection"


def committed_rows(file_name: str) -> list[dict]:
    """The rows of a committed selection output, in the order they were written."""
    return [json.loads(line) for line in (SELECTION / file_name).read_text().splitlines()]


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X[:1200], y[:1200], X[1200:], y[1200:]


def test_a_forest_prefix_scores_as_the_forest_of_its_first_trees(digits):
    X, y, X_val, y_val = digits
    forest = RandomForestClassifier(n_estimators=12, random_state=0).fit(X, y)
    curve = prefix_accuracies(forest, X_val, y_val)
    assert len(curve) == 12
    for k in (1, 5, 12):
        smaller = copy.deepcopy(forest)
        smaller.estimators_ = forest.estimators_[:k]
        assert curve[k - 1] == pytest.approx(smaller.score(X_val, y_val))


def test_an_adaboost_prefix_scores_as_adaboost_fitted_for_that_many_rounds(digits):
    X, y, X_val, y_val = digits

    def boosted(rounds):
        weak = DecisionTreeClassifier(max_depth=2, random_state=0)
        return AdaBoostClassifier(estimator=weak, n_estimators=rounds, learning_rate=0.5,
                                  random_state=0).fit(X, y)

    curve = prefix_accuracies(boosted(15), X_val, y_val)
    assert curve[6] == pytest.approx(boosted(7).score(X_val, y_val))
    assert curve[-1] == pytest.approx(boosted(15).score(X_val, y_val))


def test_the_chosen_size_is_where_the_curve_stays_near_its_best():
    curve = [0.80, 0.85, 0.899, 0.90, 0.905, 0.902]
    assert smallest_within(curve, 0.1) == 5  # only 90.5 itself is within 0.1 of 90.5
    assert smallest_within(curve, 0.6) == 3  # 89.9 is 0.6 below the best
    assert smallest_within(curve, 10.0) == 2  # 85.0; 80.0 is 10.5 below
    # an early spike is not chosen when the curve falls away after it
    assert smallest_within([0.90, 0.85, 0.88, 0.901], 0.2) == 4
    # a curve that falls after its peak is cut at the peak (or before, within the tolerance)
    assert smallest_within([0.80, 0.89, 0.90, 0.87, 0.86], 0.5) == 3
    assert smallest_within([0.80, 0.897, 0.90, 0.87, 0.86], 0.5) == 2


def test_a_forest_is_cut_where_its_curve_settles_near_the_whole_forest():
    # the early spike (0.90) is not chosen; from the 4th tree on all are within 0.2 of 0.88
    assert smallest_settled([0.80, 0.90, 0.85, 0.879, 0.881, 0.878, 0.88], 0.2) == 4
    assert smallest_settled([0.80, 0.90, 0.85, 0.879, 0.881, 0.878, 0.88], 0.0) == 7


def test_choose_applies_each_ensembles_rule_to_a_stored_curve():
    measured = {"pipeline": "x", "members": 5, "fit_seconds": 50.0,
                "curve": [80.0, 89.0, 90.0, 87.0, 86.0]}
    boosting = choose({**measured, "ensemble": "boosting"}, 0.5)
    forest = choose({**measured, "ensemble": "forest"}, 0.5)
    assert (boosting["rule"], boosting["chosen"]) == ("smallest_within", 3)
    assert (forest["rule"], forest["chosen"]) == ("smallest_settled", 2)  # none below 85.5
    assert boosting["estimated_fit_seconds_at_that_size"] == 30.0
    assert boosting["best"] == {"members": 3, "accuracy": 90.0}


def test_the_full_profile_uses_the_committed_selection():
    """Each forest's and AdaBoost pipeline's full-profile size is the one its committed
    selection run chose, on the full profile's validation split; none is left out."""
    from pipelines.registry import create_pipeline, list_pipelines

    chosen = {row["pipeline"]: row for row in committed_rows("ensemble_size.jsonl")}
    assert sorted(chosen) == sorted(list_pipelines(["*-rf", "*-adaboost"]))
    for name, row in chosen.items():
        final = create_pipeline(name, "full", seed=0).estimator[-1]
        assert final.n_estimators == row["chosen"], name
        # the settings the curve was measured with, other than its size, are the registered ones
        weak = getattr(final, "estimator", None)  # AdaBoost's tree
        params = {**(weak.get_params() if weak is not None else {}), **final.get_params()}
        for key, value in row.get("settings", {}).items():
            if key != "n_estimators":
                assert params[key] == value, (name, key)
        assert row["profile"] == "full" and row["validation_images"] == 12_000


def test_a_setting_is_read_as_json_where_it_parses_and_as_text_otherwise():
    assert setting("n_estimators=400") == ("n_estimators", 400)
    assert setting("max_features=0.1") == ("max_features", 0.1)
    assert setting("max_features=sqrt") == ("max_features", "sqrt")
    assert setting("max_features=null") == ("max_features", None)
    with pytest.raises(argparse.ArgumentTypeError, match="NAME=VALUE"):
        setting("400")


def test_adaboosts_feature_share_is_the_validation_choice_among_the_measured_ones():
    """The committed measurement behind raw-adaboost's trees searching a random share of the
    pixels: the registered share is the candidate whose validation curve peaked highest, and
    it is no worse than the every-feature trees' peak by more than the tolerance."""
    from pipelines.registry import create_pipeline

    every_feature = next(row for row in committed_rows("ensemble_size.jsonl")
                         if row["pipeline"] == "raw-adaboost" and not row.get("settings"))
    candidates = committed_rows("adaboost_features.jsonl")
    assert len(candidates) >= 2
    best = max(candidates, key=lambda row: row["best"]["accuracy"])
    assert best["best"]["accuracy"] >= (every_feature["best"]["accuracy"]
                                        - best["tolerance_points"])
    final = create_pipeline("raw-adaboost", "full").estimator[-1]
    assert final.estimator.max_features == best["settings"]["max_features"]


def test_adaboosts_tree_depth_is_the_validation_choice_among_the_measured_ones():
    """raw-adaboost's and pca-adaboost's tree depth: 250-round curves at several depths
    (adaboost_depth.jsonl; raw's depth-4 one is the feature-share measurement's, with the
    registered share); the registered depth and rounds are those of the curve that peaked
    highest."""
    from pipelines.registry import create_pipeline

    deeper = committed_rows("adaboost_depth.jsonl")
    assert sorted({row["pipeline"] for row in deeper}) == ["pca-adaboost", "raw-adaboost"]
    for name in ("raw-adaboost", "pca-adaboost"):
        final = create_pipeline(name, "full").estimator[-1]
        candidates = [row for row in deeper if row["pipeline"] == name]
        if name == "raw-adaboost":
            candidates += [row for row in committed_rows("adaboost_features.jsonl")
                           if row["settings"]["max_features"] == final.estimator.max_features]
        for row in candidates:
            assert row["settings"].get("max_features") == final.estimator.max_features
            assert row["settings"]["n_estimators"] == 250
        depths = [row["settings"].get("max_depth", 4) for row in candidates]  # 4: full default
        assert sorted(depths) == [4, 6, 8], name
        best = max(candidates, key=lambda row: row["best"]["accuracy"])
        assert final.estimator.max_depth == best["settings"]["max_depth"], name
        assert final.n_estimators == best["chosen"], name


def test_raw_xgboosts_rate_and_bins_are_the_cheapest_within_the_tolerance_of_the_best():
    """The committed xgboost_rate rows: of those within SELECTION_TOLERANCE validation points
    of the best, the registered raw-xgboost settings are the fastest fit's."""
    from pipelines.classical.zoo import SELECTION_TOLERANCE
    from pipelines.registry import create_pipeline

    rows = committed_rows("xgboost_rate.jsonl")
    best = max(row["validation_accuracy"] for row in rows)
    near = [row for row in rows if row["validation_accuracy"] >= best - SELECTION_TOLERANCE]
    assert len(near) < len(rows)  # the tolerance ruled some out
    chosen = min(near, key=lambda row: row["fit_seconds"])
    final = create_pipeline("raw-xgboost", "full").estimator[-1]
    assert final.learning_rate == chosen["learning_rate"]
    # XGBoost's default (max_bin None) is 256 bins
    assert (final.max_bin or 256) == chosen.get("settings", {}).get("max_bin", 256)
