"""Benchmark: which Keras backend, and which thread settings, train the deep zoo fastest here?

    python -m benchmarks.perf.deep_backends                       # mcnn, cnn-seed001, lstm
    python -m benchmarks.perf.deep_backends --networks mcnn --backends tensorflow torch

Each configuration (a backend, its thread settings, XLA on or off) runs in a fresh Python
process, because Keras picks its backend once per process. There the real pipeline
(``create_pipeline``, the full profile's protocol: batch 128, Adam, the callbacks) trains two
epochs on the ``standard`` split's 48,000 training images and validates on its 12,000
validation images each epoch; the first epoch carries the compilation, so the figures are
the second epoch's: training images per second, and the whole epoch with its validation pass.
A benchmark, not a test: the figures depend on the machine and are printed, never asserted.

The configurations are the settings that matter for each backend on a CPU:
TensorFlow's intra-op and inter-op thread pools (``TF_NUM_INTRAOP_THREADS``,
``TF_NUM_INTEROP_THREADS``) and XLA (``jit_compile``); JAX's XLA CPU client with one thread or
all (JAX always compiles with XLA; without it Keras runs JAX eagerly, op by op); PyTorch's
intra-op threads (``torch.set_num_threads`` through ``OMP_NUM_THREADS``), eager as Keras runs
it by default, and ``torch.compile`` (Keras's ``jit_compile=True`` on torch).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from tabulate import tabulate

from pipelines.hardware import cpus_available

NETWORKS = ("mcnn", "cnn-seed001", "lstm")
BACKENDS = ("tensorflow", "jax", "torch")
EPOCHS = 2  # the first compiles; the second is the one measured


@dataclass(frozen=True)
class Configuration:
    backend: str
    label: str
    environment: dict[str, str] = field(default_factory=dict)
    jit_compile: bool | str = "auto"


def configurations(backend: str, cores: int) -> list[Configuration]:
    """The settings worth comparing for one backend on ``cores`` cores."""
    quiet = {"TF_CPP_MIN_LOG_LEVEL": "3"}
    if backend == "tensorflow":
        def threads(intra: int, inter: int) -> dict[str, str]:
            return {**quiet, "TF_NUM_INTRAOP_THREADS": str(intra),
                    "TF_NUM_INTEROP_THREADS": str(inter)}
        found = [Configuration(backend, "TF's own thread pools, no XLA", quiet, False),
                 Configuration(backend, f"intra {cores}, inter 1, no XLA", threads(cores, 1),
                               False),
                 Configuration(backend, f"intra 1, inter {cores}, no XLA", threads(1, cores),
                               False),
                 Configuration(backend, "TF's own thread pools, XLA", quiet, True)]
        return found if cores > 1 else found[:1] + found[3:]
    if backend == "jax":
        one_thread = {"XLA_FLAGS": "--xla_cpu_multi_thread_eigen=false "
                                   "intra_op_parallelism_threads=1"}
        found = [Configuration(backend, f"XLA CPU, {cores} threads (default)", {}, "auto"),
                 Configuration(backend, "XLA CPU, 1 thread", one_thread, "auto")]
        return found if cores > 1 else found[:1]
    if backend == "torch":
        found = [Configuration(backend, f"eager, {cores} threads (default)",
                               {"OMP_NUM_THREADS": str(cores)}, False),
                 Configuration(backend, "eager, 1 thread", {"OMP_NUM_THREADS": "1"}, False),
                 Configuration(backend, f"torch.compile, {cores} threads",
                               {"OMP_NUM_THREADS": str(cores)}, True)]
        return found if cores > 1 else found[:1] + found[2:]
    raise ValueError(f"unknown backend {backend!r}; one of {', '.join(BACKENDS)}")


def installed_backends() -> list[str]:
    return [backend for backend in BACKENDS if importlib.util.find_spec(backend) is not None]


def measure(network: str, jit_compile: bool | str, train_images: int | None,
            data_dir: Path | None) -> dict:
    """In this process (its backend already chosen by KERAS_BACKEND): train ``network`` for
    two epochs with the full profile's protocol and return the second epoch's figures."""
    from benchmarks.datasets import load_dataset
    from benchmarks.splits import make_split
    from pipelines import create_pipeline
    from pipelines.profiles import get_profile

    dataset = load_dataset("fashion-mnist", data_dir, download=False)
    split = make_split("standard", dataset)
    train = split.train if train_images is None else split.train[:train_images]
    pipeline = create_pipeline(network, get_profile("full"), seed=0, epochs=EPOCHS,
                               jit_compile=jit_compile, early_stopping_patience=EPOCHS)
    started = time.perf_counter()
    pipeline.fit(dataset.images[train], dataset.labels[train],
                 validation=(dataset.images[split.validation],
                             dataset.labels[split.validation]))
    fit_seconds = time.perf_counter() - started
    description = pipeline.describe()
    first, measured = description["history"][0], description["history"][-1]
    images = pipeline.images_per_epoch_
    return {
        "network": network, "backend": description["backend"],
        "jit_compile": description["jit_compile"],
        "train_images": int(images), "validation_images": int(len(split.validation)),
        "train_images_per_second": images / measured["train_seconds"],
        "epoch_seconds": measured["seconds"],
        "validation_seconds": measured["seconds"] - measured["train_seconds"],
        "first_epoch_seconds": first["seconds"], "fit_seconds": fit_seconds,
    }


def run_configuration(configuration: Configuration, network: str, args) -> dict:
    """One measurement in a fresh interpreter with the configuration's environment."""
    environment = {**os.environ, **configuration.environment,
                   "KERAS_BACKEND": configuration.backend}
    command = [sys.executable, "-m", "benchmarks.perf.deep_backends", "--child", network,
               "--jit-compile", json.dumps(configuration.jit_compile)]
    if args.train_images:
        command += ["--train-images", str(args.train_images)]
    if args.data_dir:
        command += ["--data-dir", str(args.data_dir)]
    completed = subprocess.run(command, env=environment, capture_output=True, text=True,
                               cwd=Path(__file__).resolve().parent.parent)
    result = {"configuration": configuration.label, **asdict(configuration)}
    if completed.returncode != 0:
        tail = (completed.stderr.strip().splitlines() or ["no output"])[-1]
        return {**result, "error": tail[:200]}
    return {**result, **json.loads(completed.stdout.strip().splitlines()[-1])}


def table(results: list[dict]) -> str:
    rows = []
    for result in results:
        if "error" in result:
            rows.append([result["backend"], result["configuration"], "–", "–", "–", "–",
                         f"failed: {result['error']}"])
            continue
        rows.append([result["backend"], result["configuration"], result["network"],
                     f"{result['train_images_per_second']:,.0f}",
                     f"{result['epoch_seconds']:.1f}", f"{result['first_epoch_seconds']:.1f}",
                     ""])
    return tabulate(rows, headers=["backend", "settings", "network", "train images/s",
                                   "epoch s (with validation)", "first epoch s", "note"],
                    tablefmt="github", disable_numparse=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.perf.deep_backends",
                                     description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--networks", nargs="+", default=list(NETWORKS))
    parser.add_argument("--backends", nargs="+", default=None,
                        help="default: every one of tensorflow, jax, torch that is installed")
    parser.add_argument("--train-images", type=int,
                        help="fewer training images than the split's 48,000 (a quick look)")
    parser.add_argument("--data-dir", type=Path)
    parser.add_argument("--json", type=Path, help="also write every measurement here")
    parser.add_argument("--child", metavar="NETWORK", help=argparse.SUPPRESS)
    parser.add_argument("--jit-compile", default='"auto"', help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(measure(args.child, json.loads(args.jit_compile), args.train_images,
                                 args.data_dir)))
        return 0
    backends = args.backends or installed_backends()
    cores = cpus_available()
    print(f"{cores} cores; backends {', '.join(backends)}; networks {', '.join(args.networks)}; "
          f"{EPOCHS} epochs each, the second measured", flush=True)
    results = []
    for backend in backends:
        for configuration in configurations(backend, cores):
            for network in args.networks:
                result = run_configuration(configuration, network, args)
                results.append(result)
                print(table([result]).splitlines()[-1], flush=True)
    print()
    print(table(results))
    fastest = {}
    for result in results:
        if "error" not in result:
            best = fastest.get(result["network"])
            if best is None or result["epoch_seconds"] < best["epoch_seconds"]:
                fastest[result["network"]] = result
    for network, result in fastest.items():
        print(f"fastest for {network}: {result['backend']}, {result['configuration']} "
              f"({result['epoch_seconds']:.1f} s an epoch with validation)")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
