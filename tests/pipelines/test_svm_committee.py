"""hog-svm-committee: each member is hog-svm's SVM at its own cell size, and the committee
predicts the majority of what its members predict."""

import numpy as np
import pytest
from skimage.feature import hog as skimage_hog
from sklearn.svm import SVC

from pipelines.classical.reducers import HogFeatures
from pipelines.classical.svm_committee import COMMITTEE_CELLS, MEMBER_GAMMA
from pipelines.profiles import get_profile
from pipelines.registry import create_pipeline


@pytest.mark.parametrize("cells, pixels", [(9, 3), (7, 4), (5, 5), (4, 7)])
def test_cells_a_side_give_skimage_s_hog_at_that_cell_size_on_28_by_28(cells, pixels):
    image = np.random.default_rng(0).random((28, 28)).astype(np.float32)
    features = HogFeatures(cells_per_side=cells).fit(image.reshape(1, -1))
    expected = skimage_hog(image, orientations=9, pixels_per_cell=(pixels, pixels),
                           cells_per_block=(2, 2), block_norm="L2-Hys")
    assert features.cell_side_ == pixels
    np.testing.assert_allclose(features.transform(image.reshape(1, -1))[0], expected,
                               rtol=1e-6)


def test_the_committee_predicts_its_members_majority(digits):
    """Each fitted member is the SVM scikit-learn fits on that member's features, and the
    committee's label is the most frequent of the members' labels, ties to the lower class."""
    X, y = digits.images[:900], digits.labels[:900]
    X_test = digits.images[900:1300]
    pipeline = create_pipeline("hog-svm-committee", get_profile("smoke"), seed=0).fit(X, y)
    fitted = pipeline.estimator_
    committee = fitted[-1]
    assert [name for name, _ in committee.estimators] == [f"cells{c}" for c in COMMITTEE_CELLS]
    rows = fitted[:-1].transform(X.reshape(len(X), -1))
    test_rows = fitted[:-1].transform(X_test.reshape(len(X_test), -1))
    votes = []
    for cells, member in zip(COMMITTEE_CELLS, committee.estimators_, strict=True):
        features = HogFeatures(transform_sqrt=True, raw_weight=0.5, cells_per_side=cells,
                               image_shape=(8, 8)).fit(rows)
        reference = SVC(C=10.0, gamma=MEMBER_GAMMA[cells]).fit(features.transform(rows), y)
        predicted = reference.predict(features.transform(test_rows))
        np.testing.assert_array_equal(member.predict(test_rows), predicted)
        votes.append(predicted)
    counts = np.stack([np.bincount(column, minlength=10) for column in np.stack(votes).T])
    np.testing.assert_array_equal(pipeline.predict(X_test), counts.argmax(axis=1))
    assert (pipeline.predict(X_test) == digits.labels[900:1300]).mean() > 0.9


def test_the_committee_is_calibrated_on_its_vote_tally_without_changing_a_label(digits):
    """Its decision function is the members' vote count per class, so the calibrated
    probabilities rank classes by votes and their argmax is the committee's own label."""
    X, y = digits.images[:700], digits.labels[:700]
    validation = (digits.images[700:1000], digits.labels[700:1000])
    X_test = digits.images[1000:1400]
    plain = create_pipeline("hog-svm-committee", get_profile("smoke"), seed=0).fit(X, y)
    pipeline = create_pipeline("hog-svm-committee", get_profile("smoke"), seed=0).fit(
        X, y, validation=validation)
    assert plain.predict_proba(X_test) is None
    labels, probabilities = pipeline.predict_with_proba(X_test)
    np.testing.assert_array_equal(labels, plain.predict(X_test))
    np.testing.assert_array_equal(probabilities.argmax(axis=1), labels)
    fitted = pipeline.estimator_
    test_rows = fitted[:-1].transform(X_test.reshape(len(X_test), -1))
    votes = np.stack([member.predict(test_rows) for member in fitted[-1].estimators_]).T
    tally = fitted[-1].decision_function(test_rows)
    np.testing.assert_array_equal(tally.sum(axis=1), 3)
    np.testing.assert_array_equal(tally, np.stack([np.bincount(row, minlength=10)
                                                   for row in votes]))
    assert pipeline.describe()["calibration"]["temperature"] > 0
