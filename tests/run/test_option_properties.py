"""Properties of the options (issue 33 C): whatever text the command line gets for a number,
and whatever values the API's keywords get, the parser and ``check_options`` either accept
values in range or stop with one ``error:`` line; the API raises one FashionbenchError line
before any job runs. Never a traceback, never an accepted NaN, infinity or absurd count."""

from __future__ import annotations

import contextlib
import io
import math
from unittest import mock

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from benchmarks import api, cli
from benchmarks.errors import FashionbenchError
from benchmarks.run.options import MAX_PARALLEL, MAX_SEED, check_options

PROPERTIES = settings(deadline=None, max_examples=60, derandomize=True,
                      suppress_health_check=[HealthCheck.too_slow])

NUMBER_TEXT = st.one_of(
    st.integers(-10**25, 10**25).map(str), st.integers(-3, 2000).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["nan", "inf", "-inf", "1e309", "0x10", "1_000", " 3", "", "4294967296"]),
    st.text(max_size=4))
OPTIONS = ("--timeout", "--max-seconds", "--workers", "--threads", "--validation-fraction",
           "--model-cache-gb", "--seeds", "--image-size")


def parse_and_check(argv: list[str]):
    """What run_all.py does before it selects pipelines: parse, then check every option.
    Returns the checked options, or the error line and the exit status."""
    err = io.StringIO()
    try:
        with contextlib.redirect_stderr(err):
            args = cli.build_parser().parse_args(argv)
    except SystemExit as stop:
        return None, err.getvalue(), stop.code
    cli._resolve_protocol(args)
    options = cli.run_options_of(args, select=False)
    try:
        check_options(options)
    except FashionbenchError as error:
        return None, f"error: {error}\n", error.exit_code
    return options, "", 0


def in_range(options) -> None:
    """Independent facts about accepted options."""
    for value in (options.timeout, options.max_seconds):
        assert value is None or 0 < value < math.inf
    assert 0 < options.model_cache_gb < math.inf
    assert options.validation_fraction is None or 0 < options.validation_fraction < 1
    assert options.seeds and all(0 <= seed <= MAX_SEED for seed in options.seeds)
    for count in (options.workers, options.threads):
        assert count is None or 1 <= count <= MAX_PARALLEL


@PROPERTIES
@given(values=st.lists(st.tuples(st.sampled_from(OPTIONS), NUMBER_TEXT), min_size=1,
                       max_size=3))
def test_any_number_text_is_accepted_in_range_or_one_error_line(values):
    argv = ["--dataset", "digits", "--profile", "smoke", "--only", "raw-knn"]
    for option, text in values:
        argv += [f"{option}={text}"]  # "=": a value starting with "-" stays a value
    options, message, status = parse_and_check(argv)
    if options is not None:
        in_range(options)
    else:
        assert status == 2 and message.startswith("error: ") and message.count("\n") == 1, \
            message


ANY = st.one_of(st.none(), st.booleans(), st.integers(-5, 2**33), st.floats(),
                st.text(max_size=3), st.lists(st.integers(-1, 3), max_size=3),
                st.tuples(st.integers(-1, 600), st.integers(-1, 600)))
KEYWORDS = ("seeds", "image_size", "color", "split", "profile", "executor", "precision",
            "workers", "threads", "timeout", "force", "refit", "holdout", "exclude", "recipes",
            "progress", "publish", "results_dir", "data_dir", "dataset")


@PROPERTIES
@given(keywords=st.dictionaries(st.sampled_from(KEYWORDS), ANY, min_size=1, max_size=3))
def test_any_api_keywords_reach_the_runner_in_range_or_give_one_line(keywords):
    given = {"dataset": "digits", "profile": "smoke", "results_dir": "unused",
             "progress": False, "publish": False} | keywords
    handed = []
    with mock.patch.object(api, "run_options",
                           lambda options, **_: handed.append(options)):
        try:
            api.run("raw-knn", **given)
        except FashionbenchError as error:
            assert "\n" not in str(error) and str(error), str(error)
            assert handed == []
            return
    [options] = handed
    in_range(options)
    assert options.color in ("gray", "rgb") and isinstance(options.force, bool)
    assert options.precision in ("auto", "float32", "bfloat16")
    size = options.image_size
    assert size is None or all(1 <= side <= 512 for side in size)
