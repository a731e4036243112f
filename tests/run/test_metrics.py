import numpy as np
import pytest

from benchmarks.run.metrics import score


def test_hand_computed_case():
    y_true = np.array([0, 0, 0, 1, 1, 2])
    y_pred = np.array([0, 0, 1, 1, 1, 0])
    result = score(y_true, y_pred, n_classes=3)
    assert result["n"] == 6
    assert result["accuracy"] == pytest.approx(4 / 6)
    assert result["confusion"] == [[2, 1, 0], [0, 2, 0], [1, 0, 0]]
    assert result["per_class"] == pytest.approx([2 / 3, 1.0, 0.0])
    assert result["balanced_accuracy"] == pytest.approx((2 / 3 + 1 + 0) / 3)
    # F1 per class: class 0 precision 2/3 recall 2/3 -> 2/3; class 1 precision 2/3 recall 1 -> 0.8
    assert result["macro_f1"] == pytest.approx((2 / 3 + 0.8 + 0) / 3)
    # kappa: observed 4/6; expected sum(row_i * col_i) / n^2 = (3*3 + 2*3 + 1*0) / 36
    expected = 15 / 36
    assert result["kappa"] == pytest.approx((4 / 6 - expected) / (1 - expected))
    assert result["log_loss"] is None


def test_log_loss_with_probabilities_and_absent_class():
    y_true = np.array([0, 1, 1])
    probabilities = np.array([[0.5, 0.25, 0.25], [0.25, 0.5, 0.25], [0.0, 1.0, 0.0]])
    result = score(y_true, probabilities.argmax(1), 3, probabilities)
    assert result["log_loss"] == pytest.approx(-(np.log(0.5) * 2 + np.log(1.0)) / 3)
    assert result["per_class"][2] is None  # no test image of class 2


def test_nan_probabilities_give_no_log_loss():
    probabilities = np.full((2, 2), np.nan)
    assert score(np.array([0, 1]), np.array([0, 1]), 2, probabilities)["log_loss"] is None


def test_per_class_precision_recall_and_f1_by_hand_and_against_scikit_learn():
    from sklearn.metrics import classification_report

    from benchmarks.records.scores import scores_from_confusion

    y_true = np.array([0, 0, 0, 1, 1, 2])
    y_pred = np.array([0, 0, 1, 1, 1, 0])
    result = score(y_true, y_pred, n_classes=3)
    # class 0: 2 of the 3 predicted 0 are right, 2 of the 3 true 0 found; class 1: 2 of 3
    # predicted, 2 of 2 true; class 2: never predicted, never found (0 by convention)
    assert result["per_class_precision"] == pytest.approx([2 / 3, 2 / 3, 0.0])
    assert result["per_class_recall"] == pytest.approx([2 / 3, 1.0, 0.0])
    assert result["per_class_f1"] == pytest.approx([2 / 3, 0.8, 0.0])
    assert result["per_class_recall"][:2] == pytest.approx(result["per_class"][:2])
    report = classification_report(y_true, y_pred, output_dict=True, zero_division=0)
    for label in range(3):
        assert result["per_class_f1"][label] == pytest.approx(report[str(label)]["f1-score"])
    # a record stored before these were kept gets the same from its confusion matrix
    derived = scores_from_confusion(result["confusion"])
    for key, values in derived.items():
        assert values == pytest.approx(result[key])
