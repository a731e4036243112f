"""The robustness cost benchmark reads each record's own timings against the issue's bound."""

import pytest

from benchmarks.perf.robustness_cost import cost_rows, main


def record(name, robustness_seconds, predict_seconds, status="ok"):
    return {"name": name, "status": status, "env": {"cpu": "a CPU"},
            "timing": {"robustness_seconds": robustness_seconds,
                       "predict_seconds": predict_seconds}}


def test_the_ratio_is_robustness_over_fourteen_clean_predicts_worst_first():
    rows = cost_rows([record("cheap", 0.7, 1.0), record("dear", 7.0, 1.0),
                      record("older", None, 1.0)])  # stored before the suite: not counted
    assert [row[0] for row in rows] == ["dear", "cheap"]
    assert rows[0][2] == 14.0 and rows[0][3] == 0.5 and rows[1][3] == pytest.approx(0.05)


def test_a_store_without_robustness_timings_says_so(tmp_path, capsys):
    assert main(["--results-dir", str(tmp_path), "--profile", "quick"]) == 1
    assert "times a robustness pass" in capsys.readouterr().err
