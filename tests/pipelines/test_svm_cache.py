"""libsvm's kernel cache changes how fast an SVM fits, never what it learns."""

import json

from benchmarks.perf.svm_cache import main


def test_the_cache_size_leaves_the_model_unchanged(capsys):
    # 1 MB holds a few kernel rows of 1,000 images; 200 MB (scikit-learn's default) all of them
    assert main(["--dataset", "digits", "--profile", "smoke", "--pipeline", "hog-svm",
                 "--cache-sizes", "200", "1"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["cache_mb"] for line in lines] == [200, 1]
    assert all(line["same_model"] for line in lines)
    assert lines[0]["support_vectors"] == lines[1]["support_vectors"] > 0
    assert lines[0]["train_images"] == 1000  # the smoke profile's training images
