"""The command line: parse arguments, hand over to the runner or the reports.

Errors a user can fix (an unknown name, a bad data file, an unwritable results directory)
end as one line on stderr and exit status 2 (1: a disk that refuses a file), never a
traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings
from pathlib import Path

from pipelines.events import VERBOSE_ENV
from pipelines.hardware import PRECISIONS
from pipelines.profiles import DEFAULT_PROFILE, PROFILES

from .console import cpu_training_notice, final_summary
from .errors import FashionbenchError, write_error
from .reports.publish import publish


class OneLineParser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one ``error:`` line like every other error
    of the command line (argparse's own print the whole usage first)."""

    def error(self, message: str):
        self.exit(2, f"error: {message}; run_all.py --help lists the options\n")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="run_all.py",
        description="Train, time and score fashionbench pipelines on one shared split and "
                    "write markdown leaderboards.",
    )
    _what_arguments(parser.add_argument_group("what to run"))
    _data_arguments(parser.add_argument_group("data and protocol"))
    _execution_arguments(parser.add_argument_group("execution"))
    _results_arguments(parser.add_argument_group("results"))
    _model_arguments(parser.add_argument_group("kept models"))
    return parser


def _what_arguments(what) -> None:
    what.add_argument("--list", action="store_true", help="list the registered pipelines")
    what.add_argument("--describe", metavar="NAME",
                      help="print the JSON description of one pipeline (hyper-parameters, "
                           "n_parameters) for the chosen profile")
    what.add_argument("--only", action="append", default=[], metavar="PATTERN[,PATTERN]",
                      help="run only pipelines matching this shell-style pattern (repeatable; "
                           "with --study: the variants whose value or name matches). The "
                           "order given is the order of priority: the first --only's jobs "
                           "start first (longest first among them); patterns joined by "
                           "commas share a priority")
    what.add_argument("--exclude", action="append", default=[], metavar="PATTERN[,PATTERN]",
                      help="skip pipelines (with --study: variants) matching this pattern "
                           "(repeatable; patterns may be joined by commas, as for --only)")
    what.add_argument("--recipe", action="append", default=[], metavar="NAME",
                      help="train the selected deep pipelines with this training recipe "
                           "(repeatable; stored as PIPELINE@NAME; 'seed', the seeds' own "
                           "protocol, is the bare name); --list shows the recipes")
    what.add_argument("--study", metavar="NAME",
                      help="run a study from benchmarks/studies/ (its profile and split unless "
                           "given); --list shows them")
    what.add_argument("--plugin", action="append", default=[], metavar="FILE.py",
                      help="load pipelines from a loose Python file (repeatable)")
    what.add_argument("--dry-run", action="store_true",
                      help="print the plan (the jobs to run, stored, or stale, in start order, "
                           "each with its expected time) and run nothing")


def _data_arguments(data) -> None:
    from .data.datasets import DATASETS, DEFAULT_DATASET
    from .data.splits import DEFAULT_SPLIT, SPLITS

    data.add_argument("--dataset", default=DEFAULT_DATASET,
                      help=f"one of {', '.join(DATASETS)} (default {DEFAULT_DATASET}), or "
                           f"your own: an .npz file (x_train, y_train, x_test, y_test, "
                           f"optional class_names) or a folder with one sub-folder of images "
                           f"per class; results go under its file or folder name")
    data.add_argument("--image-size", type=_image_size, default=None, metavar="H[xW]",
                      help="the size a folder dataset's images are converted to (default 28)")
    data.add_argument("--color", choices=("gray", "rgb"), default="gray",
                      help="whether a folder dataset's images become grayscale (default) or "
                           "RGB")
    data.add_argument("--data-dir", type=Path, metavar="DIR",
                      help="where the dataset files are or get downloaded "
                           "(default $FASHIONBENCH_DATA_DIR, else the user cache)")
    data.add_argument("--split", default=None,
                      help=f"one of {', '.join(SPLITS)} (default {DEFAULT_SPLIT})")
    data.add_argument("--profile", default=None,
                      help="; ".join(f"{p.name}: {p.description}" for p in PROFILES.values())
                      + f" (default {DEFAULT_PROFILE})")
    data.add_argument("--validation-fraction", type=float, default=None, metavar="F",
                      help="the share of the training part the standard split holds out for "
                           "validation (default 0.2); your own data loses it from training")
    data.add_argument("--seeds", type=int, nargs="+", default=[0], metavar="N",
                      help="seeds to run each pipeline with (default 0)")


def _execution_arguments(how) -> None:
    how.add_argument("--executor", default="auto", choices=("auto", "serial", "process", "dask"),
                     help="auto (default): worker processes, one per core, where two or more "
                          "jobs and cores can use them, else serial; serial: one job at a time "
                          "in this process; process: --workers worker processes; dask: a Dask "
                          "LocalCluster or --scheduler")
    how.add_argument("--workers", type=int, default=None, metavar="N",
                     help="parallel jobs for auto/process/dask (default: the number of cores); "
                          "each job gets cores / N threads unless --threads")
    how.add_argument("--threads", type=int, default=None, metavar="N",
                     help="threads each job may use, whatever the executor (default: all the "
                          "cores for serial, cores / --workers otherwise); results depend on "
                          "it, so fix it to compare runs on different executors")
    how.add_argument("--precision", default="auto", choices=PRECISIONS,
                     help="the networks' arithmetic: auto (bfloat16 on a GPU, float32 on a "
                          "CPU), float32 or bfloat16 (AMX Xeons gain); asked for, a network is "
                          "stored as NAME[bfloat16] (or [float32]) beside its default row")
    how.add_argument("--scheduler", metavar="tcp://HOST:PORT",
                     help="connect to an existing Dask scheduler instead of a local cluster")
    how.add_argument("--timeout", type=float, metavar="SECONDS",
                     help="stop a job after this long and record it as 'timeout'")
    how.add_argument("--max-seconds", type=float, metavar="SECONDS",
                     help="a wall-clock budget for the whole run (a machine lent for a fixed "
                          "time): a job whose time here (stored, or estimated at this run's "
                          "pace) does not fit what is left is not started, and is named; "
                          "jobs still running at the end (less a 5%% margin for the reports) "
                          "are stopped and recorded as 'timeout'")
    how.add_argument("--no-shared-features", dest="share_features", action="store_false",
                     help="compute every pipeline's feature steps itself; by default the "
                          "pipelines of a run that repeat the same HOG, PCA or FLD of the "
                          "same images compute it once and share it (their fit times still "
                          "count it at what it cost)")
    how.add_argument("--quiet", action="store_true", help="print nothing while running")
    how.add_argument("--verbose", action="store_true",
                     help="let the deep-learning backends print their start-up logs "
                          "(TensorFlow, absl, CUDA probes), held back by default")
    how.add_argument("--checkpoint-dir", type=Path, metavar="DIR",
                     help="where deep jobs keep a checkpoint after every epoch, so that a "
                          "killed or timed-out run resumes at its last epoch (default "
                          "$FASHIONBENCH_CHECKPOINT_DIR, else the user cache); removed once "
                          "the job's record is stored")


def _model_arguments(how) -> None:
    how.add_argument("--model-cache", type=Path, metavar="DIR", dest="model_cache_dir",
                     help="where each ok job's fitted model is kept for --evaluate (default "
                          "$FASHIONBENCH_MODEL_CACHE, else the user cache; never results/)")
    how.add_argument("--no-model-cache", action="store_false", dest="keep_models",
                     help="keep no fitted models (--evaluate then has none to load)")
    how.add_argument("--model-cache-gb", type=float, default=5.0, metavar="GIB",
                     help="the model cache's size cap: the oldest models are removed first "
                          "(default 5)")
    how.add_argument("--evaluate", action="append", default=[], metavar="METRIC",
                     help="add a metric (robustness, calibration; repeatable) to the stored "
                          "records of the selected pipelines that lack it, from the models "
                          "their jobs kept: nothing is trained; the records without a kept "
                          "model are listed")


def _results_arguments(out) -> None:
    out.add_argument("--results-dir", type=Path, default=Path("results"), metavar="DIR",
                     help="where the stores and leaderboards live (default results/)")
    out.add_argument("--report-only", action="store_true",
                     help="regenerate every leaderboard from the stores without training")
    out.add_argument("--force", action="store_true",
                     help="rerun jobs already stored as ok (the old records stay)")
    out.add_argument("--refit", action="store_true",
                     help="after each pipeline's run, train the configuration chosen on the "
                          "validation split again on train + validation and score it on the "
                          "test set, stored as NAME[refit] (a network: its best epochs at "
                          "their rates; under a fixed recipe such as modern, that recipe)")
    out.add_argument("--export-mlflow", metavar="URI",
                     help="after reporting, log the records the leaderboards use as MLflow runs to "
                          "this tracking URI (e.g. sqlite:///mlflow.db; artifacts beside it), "
                          "once per record; needs "
                          "pip install 'fashionbench[mlflow]'")
    out.add_argument("--all-records", action="store_true",
                     help="with --export-mlflow: every stored record, not only those the "
                          "leaderboards use (tagged fashionbench.current=false once "
                          "superseded)")


def _print_list() -> None:
    from tabulate import tabulate

    from pipelines.registry import pipeline_entries

    from .studies.spec import list_studies, load_study

    rows = [[entry.name, entry.family, ", ".join(entry.tags), entry.description]
            for entry in pipeline_entries().values()]
    print(tabulate(rows, headers=["pipeline", "family", "tags", "description"],
                   tablefmt="simple"))
    from pipelines.recipes import recipe_entries

    recipes = [[entry.name, entry.description] for entry in recipe_entries().values()]
    print("\n" + tabulate(recipes, headers=["recipe (--recipe NAME, or NAME@RECIPE)",
                                            "training protocol"], tablefmt="simple"))
    studies = [[name, load_study(name).title] for name in list_studies()]
    print("\n" + tabulate(studies, headers=["study (--study NAME)", "what it reproduces"],
                          tablefmt="simple"))


def _warn_plugin_failures() -> None:
    from pipelines.registry import plugin_failures

    for failure in plugin_failures():
        print(f"warning: {failure.source} failed to load: {failure.error}",
              file=sys.stderr)


def _image_size(text: str) -> tuple[int, int]:
    """``28`` or ``32x24`` (height x width) for --image-size."""
    from .run.options import MAX_IMAGE_SIDE

    parts = text.lower().split("x")
    if len(parts) in (1, 2) and all(part.isdigit() and 0 < int(part) <= MAX_IMAGE_SIDE
                                    for part in parts):
        sizes = [int(part) for part in parts]
        return (sizes[0], sizes[-1])
    raise argparse.ArgumentTypeError(f"{text!r} is not a size: give H or HxW, each 1 to "
                                     f"{MAX_IMAGE_SIDE}, e.g. 28 or 32x24")


def _resolve_protocol(args: argparse.Namespace) -> None:
    """Profile and split: as given, else the study's, else the defaults."""
    from .data.splits import DEFAULT_SPLIT

    study = None
    if args.study:
        from .studies.spec import load_study

        study = load_study(args.study)
    args.profile = args.profile or (study.profile if study else DEFAULT_PROFILE)
    args.split = args.split or (study.split if study else DEFAULT_SPLIT)
    args.study_definition = study


def execute(args: argparse.Namespace) -> int:
    from pipelines.registry import create_pipeline, load_plugin_file

    from .run.options import check_options

    if args.report_only:
        written = publish(args.results_dir, args.data_dir)
        if not written:
            print(f"no results stores under {args.results_dir}; nothing to report")
        if args.export_mlflow:
            _export_mlflow(args)
        return 0
    for plugin in args.plugin:
        load_plugin_file(plugin)
    _warn_plugin_failures()
    _resolve_protocol(args)
    # every name and number checked before the patterns select anything (and print notes)
    check_options(run_options_of(args, select=False))
    if args.list:
        _print_list()
        return 0
    if args.describe:
        pipeline = create_pipeline(args.describe, args.profile)
        print(json.dumps(pipeline.describe(), indent=2, default=str))
        return 0
    options = run_options_of(args)
    if args.dry_run:
        from .run.runner import make_run_plan

        for line in make_run_plan(options).describe():
            print(line)
        return 0
    if options.evaluate:
        return evaluate_and_publish(args, options)
    return run_and_publish(args, options)


def evaluate_and_publish(args: argparse.Namespace, options) -> int:
    """--evaluate: the metrics added from kept models, the records that could not gain them
    and why, then the reports."""
    from .run.evaluate import evaluate_stored

    say = (lambda line: None) if args.quiet else print
    summary = evaluate_stored(options, say)
    for name, why in summary.refused:
        say(f"not evaluated: {name}: {why}")
    say(f"evaluated {len(summary.added)} records ({summary.complete} had the metrics "
        f"already, {len(summary.refused)} could not be evaluated)")
    if summary.added:
        publish(args.results_dir, args.data_dir, lambda line: None)
    return 0


def run_options_of(args: argparse.Namespace, *, select: bool = True):
    """The RunOptions the command line asks for; ``select``: with the pipelines (or a study's
    variants) its patterns choose, else none (--list and --describe run nothing)."""
    from .run.options import RunOptions, priorities, select_pipelines
    from .studies.spec import select_variants, study_results_dir
    from .studies.trials import SearchStudy

    study = args.study_definition
    searching = isinstance(study, SearchStudy)
    if searching and (args.only or args.exclude):
        raise FashionbenchError(f"study {study.name!r} is a search: it has no variants for "
                                "--only/--exclude to choose; run it without them")
    if study and args.precision != "auto":  # its tables and search find runs by label
        raise FashionbenchError(f"study {study.name!r} compares its variants in the default "
                                f"arithmetic: run it without --precision {args.precision}")
    patterns = [pattern for group in args.only for pattern in group.split(",") if pattern]
    excluded = [pattern for group in args.exclude for pattern in group.split(",") if pattern]
    pipelines = select_pipelines(patterns, excluded, args.recipe, args.profile) \
        if select and not study else []
    variants = tuple((v.pipeline, v.overrides, v.label)
                     for v in select_variants(study, patterns, excluded)) \
        if select and study and not searching else ()
    return RunOptions(
        pipelines=pipelines, priorities=priorities(pipelines, args.only),
        max_seconds=args.max_seconds, variants=variants,
        dataset=args.dataset, image_size=args.image_size, color=args.color,
        data_dir=args.data_dir, split=args.split, profile=args.profile, seeds=args.seeds,
        validation_fraction=args.validation_fraction,
        results_dir=study_results_dir(args.results_dir, study.name) if study
        else args.results_dir, force=args.force, executor=args.executor,
        workers=args.workers, threads=args.threads, timeout=args.timeout,
        precision=args.precision, scheduler=args.scheduler,
        plugins=tuple(str(Path(p).resolve()) for p in args.plugin),
        checkpoint_dir=args.checkpoint_dir, refit=args.refit,
        share_features=args.share_features,
        model_cache_dir=args.model_cache_dir, keep_models=args.keep_models,
        model_cache_gb=args.model_cache_gb, evaluate=tuple(args.evaluate),
    )


def run_and_publish(args: argparse.Namespace, options) -> int:
    """Run (a study's search, or the options' jobs), then regenerate the reports of the stores
    the run wrote to, and print its last lines."""
    from .run import runner
    from .run.progress import LineProgress, LiveProgress, QuietProgress
    from .run.search import run_search
    from .studies.trials import SearchStudy

    def display():
        if args.quiet:
            return QuietProgress()
        if sys.stdout.isatty():
            return LiveProgress()
        return LineProgress(lambda line: print(line, flush=True))

    study = args.study_definition
    searching = isinstance(study, SearchStudy)
    say = (lambda line: None) if args.quiet else print
    if args.verbose:
        os.environ[VERBOSE_ENV] = "1"
    notice = cpu_training_notice(list(options.pipelines) + [v[0] for v in options.variants]
                                 + ([study.pipeline] if searching else []))
    if notice:
        say(notice)
    started = time.monotonic()
    if searching:
        summaries = run_search(study, options, runner.run, display, say)
    else:
        summaries = (runner.run(options, progress=display()),)
    # the reports of the stores this run wrote to (and the index, README's excerpt): the
    # others have not changed, and redrawing them all cost a default run half a minute
    written = publish(args.results_dir, args.data_dir, lambda line: None,
                      stores=[summary.store.path for summary in summaries if summary.store])
    for line in final_summary(summaries, written, time.monotonic() - started):
        say(line)
    if args.export_mlflow:
        _export_mlflow(args)
    return 0


def _export_mlflow(args: argparse.Namespace) -> None:
    from .reports.mlflow import export_to_mlflow

    summary = export_to_mlflow(args.results_dir, args.export_mlflow,
                               all_records=args.all_records,
                               say=None if args.quiet else print)
    if not args.quiet:
        print(summary.describe())


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    warnings.filterwarnings("default", module="benchmarks")
    warnings.formatwarning = lambda message, category, *rest: f"warning: {message}\n"
    try:
        return execute(args)
    except (FashionbenchError, OSError) as error:  # an OSError no writer named: its file
        error = write_error(None, error) if isinstance(error, OSError) else error
        print(f"error: {error}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print("interrupted: every finished job is stored; rerun the same command to resume",
              file=sys.stderr)
        return 130
