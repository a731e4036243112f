"""The command-line arguments the tool's benchmarks share: which data, which profile, which
pipelines."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_data_arguments(parser: argparse.ArgumentParser, *, profile: str | None = "quick") -> None:
    """``--dataset``, ``--data-dir`` and (unless ``profile`` is None) ``--profile``."""
    parser.add_argument("--dataset", default="fashion-mnist")
    parser.add_argument("--data-dir", type=Path,
                        help="where the dataset files are (default $FASHIONBENCH_DATA_DIR)")
    if profile is not None:
        parser.add_argument("--profile", default=profile)


def add_selection_arguments(parser: argparse.ArgumentParser, family: str | None = None) -> None:
    """Which pipelines, as run_all.py selects them, and the data they run on."""
    parser.add_argument("--only", action="append", default=[], metavar="PATTERN")
    parser.add_argument("--exclude", action="append", default=[], metavar="PATTERN")
    parser.add_argument("--family", choices=("classical", "deep"), default=family)
    add_data_arguments(parser)


def selected_pipelines(args: argparse.Namespace) -> list[str]:
    from pipelines import list_pipelines

    return list_pipelines(args.only or "*", exclude=args.exclude, family=args.family)


def standard_parts(args: argparse.Namespace, profile=None, train_size: int | None = None) -> dict:
    """Seed 0's train / validation / test partitions of the standard split, at the sizes of
    ``profile`` (default: ``--profile``), with at most ``train_size`` training images."""
    from pipelines.profiles import get_profile

    from ..data.datasets import load_dataset
    from ..data.splits import make_split
    from ..run.context import RunContext

    dataset = load_dataset(args.dataset, args.data_dir)
    context = RunContext(dataset, make_split("standard", dataset),
                         profile or get_profile(args.profile))
    return context.partitions(0, train_size=train_size)
