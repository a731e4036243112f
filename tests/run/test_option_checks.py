"""Bad numbers and wrong types (issue 33 C): each is one line naming the option as the caller
wrote it (--flag on the command line, keyword in the API) and the fix, before any job runs
or anything is stored."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks.api import from_arrays, load, run
from benchmarks.cli import main
from benchmarks.errors import FashionbenchError

X = np.zeros((4, 3, 3), np.uint8)
Y = np.arange(4) % 2
BASE = ["--dataset", "digits", "--profile", "smoke", "--only", "raw-knn", "--quiet"]


@pytest.mark.parametrize("argv, message", [
    (["--image-size", "100000"], "argument --image-size: '100000' is not a size"),
    (["--image-size", "0"], "argument --image-size: '0' is not a size"),
    (["--seeds", "zero"], "argument --seeds: invalid int value: 'zero'"),
    (["--timeout", "soon"], "argument --timeout: invalid float value: 'soon'"),
    (["--color", "blue"], "argument --color: invalid choice: 'blue'"),
    (["--precision", "fp16"], "argument --precision: invalid choice: 'fp16'"),
    (["--no-such-option"], "unrecognized arguments: --no-such-option"),
])
def test_a_value_the_parser_refuses_is_one_error_line_not_the_usage(capsys, tmp_path, argv,
                                                                     message):
    with pytest.raises(SystemExit) as stop:
        main(BASE + ["--results-dir", str(tmp_path / "r")] + argv)
    err = capsys.readouterr().err
    assert stop.value.code == 2 and err.count("\n") == 1, err
    assert err.startswith("error: ") and message in err and "--help" in err
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize("argv, message", [
    (["--timeout", "nan"], "--timeout must be a positive number of seconds, not nan"),
    (["--timeout", "inf"], "--timeout must be a positive number of seconds, not inf"),
    (["--max-seconds", "1e309"], "--max-seconds must be a positive number of seconds"),
    (["--validation-fraction", "nan"], "--validation-fraction must be between 0 and 1"),
    (["--validation-fraction", "1"], "--validation-fraction must be between 0 and 1"),
    (["--model-cache-gb", "nan"], "--model-cache-gb must be a positive number of GiB"),
    (["--seeds", "4294967296"], "--seeds must be whole numbers from 0 to 4,294,967,295"),
    (["--workers", "0"], "--workers must be at least 1, not 0"),
    (["--workers", "100000"], "--workers must be at most 1024"),
    (["--threads", "99999999999999999999"], "--threads must be at most 1024"),
])
def test_an_out_of_range_number_is_one_error_line(capsys, tmp_path, argv, message):
    assert main(BASE + ["--results-dir", str(tmp_path / "r")] + argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: ") and message in err, err
    assert not (tmp_path / "r").exists()


def test_a_seed_given_twice_is_one_job(capsys, tmp_path):
    assert main(BASE + ["--results-dir", str(tmp_path / "r"), "--seeds", "0", "0",
                        "--dry-run"]) == 0
    plan = capsys.readouterr().out
    assert plan.count("raw-knn") == 1, plan


@pytest.mark.parametrize("keywords, message", [
    (dict(seeds=["0"]), "seeds must be whole numbers"),
    (dict(seeds=5), "seeds must be a list of whole numbers"),
    (dict(seeds=[]), "at least one, not []"),
    (dict(seeds=[True]), "seeds must be whole numbers"),
    (dict(image_size=(0, 0)), "image_size must be (height, width), each a whole number from 1"),
    (dict(image_size=(10**6, 10**6)), "image_size must be (height, width)"),
    (dict(image_size=28), "image_size must be (height, width)"),
    (dict(color="blue"), "color must be gray or rgb, not 'blue'"),
    (dict(dataset=5), "dataset must be a dataset name, a path"),
    (dict(profile=5), "profile must be a name (text), not 5"),
    (dict(split=None), "split must be a name (text), not None"),
    (dict(results_dir=5), "results_dir must be a folder path, not 5"),
    (dict(data_dir=5), "data_dir must be a folder path, not 5"),
    (dict(executor="bogus"), "executor must be one of auto, serial, process, dask"),
    (dict(precision="fp16"), "precision must be one of auto, float32, bfloat16, not 'fp16'"),
    (dict(precision=16), "precision must be a name (text), not 16"),
    (dict(workers=10**6), "workers must be at most 1024"),
    (dict(timeout=True), "timeout must be a positive number of seconds, not True"),
    (dict(holdout=float("nan")), "holdout must be between 0 and 1"),
    (dict(force="yes"), "force must be True or False, not 'yes'"),
    (dict(refit=1), "refit must be True or False, not 1"),
    (dict(progress=5), "progress must be True, False or a display"),
    (dict(publish="no"), "publish must be True or False, not 'no'"),
    (dict(exclude=5), "exclude must be a list of name patterns"),
    (dict(recipes=[5]), "recipes must be a list of names"),
    (dict(pipelines=5), "pipelines must be name patterns"),
])
def test_a_bad_api_keyword_is_one_line_naming_it_before_any_job(tmp_path, keywords, message):
    given = dict(pipelines="raw-knn", dataset="digits", profile="smoke",
                 results_dir=tmp_path / "r", progress=False, publish=False) | keywords
    with pytest.raises(FashionbenchError) as error:
        run(given.pop("pipelines"), **given)
    assert message in str(error.value) and "\n" not in str(error.value), str(error.value)
    assert not (tmp_path / "r").exists()


def test_a_lone_string_is_one_pattern_for_exclude_and_recipes(tmp_path):
    with pytest.raises(FashionbenchError, match="the --only/--exclude/--recipe choices leave no"):
        run("raw-knn", exclude="raw-*", dataset="digits", profile="smoke",
            results_dir=tmp_path, progress=False, publish=False)


@pytest.mark.parametrize("call, message", [
    (lambda: load(5), "results_dir must be a folder path, not 5"),
    (lambda: load("results", dataset=5), "dataset must be a name (text), not 5"),
    (lambda: load("results", profile=None), "profile must be a name (text), not None"),
    (lambda: from_arrays(X, Y, X, Y, name=5), "name must be the dataset's name"),
    (lambda: from_arrays(X, Y, X, Y, name=""), "name must be the dataset's name"),
])
def test_load_and_from_arrays_name_a_wrong_keyword_in_one_line(call, message):
    with pytest.raises(FashionbenchError) as error:
        call()
    assert message in str(error.value) and "\n" not in str(error.value)
