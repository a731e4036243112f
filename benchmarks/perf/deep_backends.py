"""Benchmark: which Keras backend and setting trains and runs each network of the deep zoo
fastest on this CPU, and how close each comes to what the CPU can do?

    python -m benchmarks.perf.deep_backends                        # the whole zoo, every setting
    python -m benchmarks.perf.deep_backends --networks mcnn vgg16 --settings tf tf-no-onednn
    python -m benchmarks.perf.deep_backends --json results/selection/deep_backends.jsonl

Each (network, setting) runs in a fresh Python process, because Keras picks its backend, and
TensorFlow reads ``TF_ENABLE_ONEDNN_OPTS``, once per process. There the real pipeline
(``create_pipeline``, the full profile's seed recipe: batch 128, Adam) is fitted on a few
batches, which builds and compiles it as a run does; then its compiled model trains on
timed windows of whole batches (each window about ``--window-seconds`` long, after a
warm-up window), and its ``predict_proba`` (what the runner times) scores timed windows of
test images at growing batch sizes (until one gains under 5%). The figures are medians over
the windows: training and inference images per second.

Each network's FLOPs come from XLA's own cost analysis of its compiled forward pass and of
its training step (forward, backward, no optimizer update), in a process on the JAX backend
(``--no-flops`` skips it where JAX is not installed). The CPU's ceiling is measured, not
looked up: the FP32 matrix product numpy's BLAS reaches on these cores (4096 x 4096, median
of 5), so "% of ceiling" is the share of what this machine's best-tuned kernel does.

The settings that matter on a CPU (``--settings``, default all whose backend is installed):

- ``tf``: TensorFlow as installed. TensorFlow turns its oneDNN kernels on by itself only on
  CPUs with AVX-512-class features (an Intel Xeon, an AMD EPYC of the Zen 4 generation), and
  leaves them off elsewhere (an AVX2 AMD EPYC);
- ``tf-onednn`` / ``tf-no-onednn``: ``TF_ENABLE_ONEDNN_OPTS=1`` / ``=0`` whatever the CPU;
- ``tf-onednn-avx2``: oneDNN forced on, held to AVX2 instructions (``ONEDNN_MAX_CPU_ISA``):
  on an AVX-512 CPU, how oneDNN fares on one without (an approximation: the clock, caches and
  BLAS stay this machine's);
- ``tf-xla``: TensorFlow with XLA (``jit_compile=True``);
- ``tf-bf16``: TensorFlow under Keras's ``mixed_bfloat16`` policy (bfloat16 compute, float32
  weights and softmax), which oneDNN runs on AMX or AVX512-BF16 where the CPU has them. Unlike
  the others it changes the arithmetic, so it is a lead to check for accuracy, never a
  default on speed alone;
- ``tf-intra1-inter2``, ``tf-intra2-inter1``, ``tf-1-thread``: TensorFlow's two thread pools;
  one thread is what each job of a two-worker run on two cores gets;
- ``jax``: Keras on JAX (XLA's CPU client); ``torch``: Keras on PyTorch, eager (as Keras runs
  it by default); ``torch-compile``: ``torch.compile`` (Keras's ``jit_compile=True``).

A benchmark, not a test: the figures depend on the machine and are printed (and with
``--json`` appended as lines, each with the CPU, cores and versions), never asserted.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import importlib.metadata
import json
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from tabulate import tabulate

from pipelines.hardware import cpus_available

NETWORKS = ("mcnn", "cnn-seed001", "cnn-seed001-dropout", "cnn-seed002", "cnn-seed002-v2",
            "cnn-seed003", "cnn-seed004", "cnn-seed004-v2", "cnn-seed004-v3", "lstm",
            "resnet20", "vgg16", "resnet50")
BATCH_SIZE = 128  # the seed recipe's
PREDICT_BATCH_SIZES = (256, 1024, 4096)
WINDOWS = 3  # timed windows after the warm-up one; the median is reported
QUIET = {"TF_CPP_MIN_LOG_LEVEL": "3"}


@dataclass(frozen=True)
class Setting:
    name: str
    backend: str
    description: str
    environment: dict[str, str] = field(default_factory=dict)
    jit_compile: bool | str = "auto"
    mixed_precision: str = "auto"  # the pipeline's dtype policy ("auto": float32 on a CPU)


def settings(cores: int) -> dict[str, Setting]:
    def tf_threads(intra: int, inter: int) -> dict[str, str]:
        return {**QUIET, "TF_NUM_INTRAOP_THREADS": str(intra),
                "TF_NUM_INTEROP_THREADS": str(inter)}

    found = [
        Setting("tf", "tensorflow", "TensorFlow as installed (oneDNN as this CPU defaults)",
                QUIET, False),
        Setting("tf-onednn", "tensorflow", "TensorFlow, oneDNN forced on",
                {**QUIET, "TF_ENABLE_ONEDNN_OPTS": "1"}, False),
        Setting("tf-no-onednn", "tensorflow", "TensorFlow, oneDNN off (an AVX2 CPU's default)",
                {**QUIET, "TF_ENABLE_ONEDNN_OPTS": "0"}, False),
        Setting("tf-onednn-avx2", "tensorflow", "TensorFlow, oneDNN forced on, AVX2 only",
                {**QUIET, "TF_ENABLE_ONEDNN_OPTS": "1", "ONEDNN_MAX_CPU_ISA": "AVX2"}, False),
        Setting("tf-xla", "tensorflow", "TensorFlow with XLA (jit_compile)", QUIET, True),
        Setting("tf-bf16", "tensorflow", "TensorFlow, mixed_bfloat16 (changes the arithmetic)",
                QUIET, False, "mixed_bfloat16"),
        Setting("tf-1-thread", "tensorflow", "TensorFlow, 1 intra-op and 1 inter-op thread",
                tf_threads(1, 1), False),
        Setting("jax", "jax", f"Keras on JAX, XLA CPU ({cores} threads)", {}, "auto"),
        Setting("torch", "torch", f"Keras on PyTorch, eager ({cores} threads)",
                {"OMP_NUM_THREADS": str(cores)}, False),
        Setting("torch-compile", "torch", f"Keras on PyTorch, torch.compile ({cores} threads)",
                {"OMP_NUM_THREADS": str(cores)}, True),
    ]
    if cores > 1:
        found[5:5] = [
            Setting("tf-intra1-inter2", "tensorflow", f"TensorFlow, intra 1, inter {cores}",
                    tf_threads(1, cores), False),
            Setting("tf-intra2-inter1", "tensorflow", f"TensorFlow, intra {cores}, inter 1",
                    tf_threads(cores, 1), False)]
    return {setting.name: setting for setting in found}


def installed(backend: str) -> bool:
    try:
        importlib.metadata.version(backend)
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


# ---- in the child process ------------------------------------------------------------
def _parts(data_dir: Path | None, train_images: int, test_images: int):
    from benchmarks.data.datasets import load_dataset
    from benchmarks.data.splits import make_split

    dataset = load_dataset("fashion-mnist", data_dir, download=False)
    split = make_split("standard", dataset)
    train, test = split.train[:train_images], split.test[:test_images]
    return (dataset.images[train], dataset.labels[train], dataset.images[test])


def _windows(run_window, first_steps: int, window_seconds: float) -> tuple[list[float], int]:
    """Time ``run_window(steps)`` (which returns when its work is done): one warm-up window,
    one probe of ``first_steps``, then ``WINDOWS`` windows sized to ``window_seconds``.
    Returns the seconds per step of each timed window and the steps per window."""
    run_window(first_steps)  # warm-up: caches, allocator, the first trace of this shape
    began = time.perf_counter()
    run_window(first_steps)
    per_step = (time.perf_counter() - began) / first_steps
    steps = max(1, round(window_seconds / per_step))
    timed = []
    for _ in range(WINDOWS):
        began = time.perf_counter()
        run_window(steps)
        timed.append((time.perf_counter() - began) / steps)
    return timed, steps


def measure(network: str, jit_compile: bool | str, args) -> dict:
    """In this process (its backend already chosen): the network's training and inference
    speed, as the pipeline runs them."""
    from pipelines import create_pipeline
    from pipelines.deep._training import train_epoch
    from pipelines.deep.keras_pipeline import scale_images

    warm_batches = 3
    images, labels, test = _parts(args.data_dir, BATCH_SIZE * 64, max(PREDICT_BATCH_SIZES) * 2)
    pipeline = create_pipeline(network, "full", seed=0, epochs=1, jit_compile=jit_compile,
                               max_steps_per_epoch=warm_batches,
                               mixed_precision=args.mixed_precision)
    began = time.perf_counter()
    pipeline.fit(images[:BATCH_SIZE * warm_batches], labels[:BATCH_SIZE * warm_batches],
                 validation=(images[:BATCH_SIZE], labels[:BATCH_SIZE]), n_classes=10)
    build_and_compile_seconds = time.perf_counter() - began
    model = pipeline.model_
    scaled = scale_images(images)
    targets = labels.astype("int32")

    def train(steps: int) -> None:
        steps = min(steps, len(scaled) // BATCH_SIZE)
        train_epoch(model, scaled[:steps * BATCH_SIZE], targets[:steps * BATCH_SIZE],
                    BATCH_SIZE)  # as the pipeline trains an epoch
        model.trainable_variables[-1].numpy()  # JAX and torch may still be working

    train_seconds, train_steps = _windows(train, 2, args.window_seconds)
    result = {
        "network": network, "backend": pipeline.runtime_["backend"],
        "jit_compile": pipeline.runtime_["jit_compile"],
        "dtype_policy": pipeline.runtime_["dtype_policy"],
        "onednn": _onednn_enabled(), "threads_seen": _threads_seen(),
        "n_parameters": int(model.count_params()),
        "build_and_compile_seconds": build_and_compile_seconds,
        "train_images_per_second": BATCH_SIZE / statistics.median(train_seconds),
        "train_windows_images_per_second": [BATCH_SIZE / s for s in train_seconds],
        "train_steps_per_window": train_steps,
        "predict": {},
    }
    for batch_size in PREDICT_BATCH_SIZES:
        pipeline.config = dataclasses.replace(pipeline.config, predict_batch_size=batch_size)

        def predict(steps: int, batch_size=batch_size) -> None:
            for start in range(steps):
                chunk = test[(start % 2) * batch_size:(start % 2 + 1) * batch_size]
                pipeline.predict_proba(chunk)

        seconds, _ = _windows(predict, 1, args.window_seconds / 2)
        rate = batch_size / statistics.median(seconds)
        best_before = max(result["predict"].values(), default=None)
        result["predict"][str(batch_size)] = rate
        if best_before is not None and rate < 1.05 * best_before:
            break  # a larger batch stopped paying: the next would only cost more time
    best = max(result["predict"], key=result["predict"].get)
    result["predict_images_per_second"] = result["predict"][best]
    result["predict_best_batch_size"] = int(best)
    return result


def _onednn_enabled() -> bool | None:
    if "tensorflow" not in sys.modules:
        return None
    from tensorflow.python.util import _pywrap_util_port  # the flag TensorFlow itself reads

    return bool(_pywrap_util_port.IsMklEnabled())


def _threads_seen() -> dict:
    """What the backend's thread pools were set to (for the record, not a setting)."""
    seen = {}
    if "tensorflow" in sys.modules:
        import tensorflow as tf

        seen["tf_intra_op"] = tf.config.threading.get_intra_op_parallelism_threads()
        seen["tf_inter_op"] = tf.config.threading.get_inter_op_parallelism_threads()
    if "torch" in sys.modules:
        seen["torch"] = sys.modules["torch"].get_num_threads()
    return seen


def count_flops(network: str) -> dict:
    """XLA's cost analysis (on the JAX backend) of one image through the network: the
    forward pass, and forward + backward of the loss (the training step less the update)."""
    import jax

    from pipelines import create_pipeline
    from pipelines.deep._backend import keras

    batch = 16
    model, _ = create_pipeline(network, "full")._build((28, 28, 1), 10)
    trainable = [variable.value for variable in model.trainable_variables]
    fixed = [variable.value for variable in model.non_trainable_variables]
    images = jax.numpy.zeros((batch, 28, 28, 1), "float32")
    labels = jax.numpy.zeros((batch,), "int32")

    def forward(trainable, fixed, images):
        return model.stateless_call(trainable, fixed, images, training=False)[0]

    def loss(trainable, fixed, images, labels):
        output, fixed = model.stateless_call(trainable, fixed, images, training=True)
        return keras.ops.mean(keras.losses.sparse_categorical_crossentropy(labels, output)), fixed

    def flops(function, *arguments) -> float:
        analysis = jax.jit(function).lower(*arguments).compile().cost_analysis()
        if isinstance(analysis, list):  # older JAX: one dict per computation
            analysis = analysis[0]
        return float(analysis["flops"]) / batch

    step = jax.value_and_grad(loss, has_aux=True)
    return {"network": network, "forward_flops": flops(forward, trainable, fixed, images),
            "train_flops": flops(step, trainable, fixed, images, labels)}


# ---- in the parent process -----------------------------------------------------------
def child(arguments: list[str], environment: dict[str, str]) -> dict:
    command = [sys.executable, "-m", "benchmarks.perf.deep_backends", *arguments]
    completed = subprocess.run(command, env={**os.environ, **environment},
                               capture_output=True, text=True,
                               cwd=Path(__file__).resolve().parents[2])
    if completed.returncode != 0:
        tail = (completed.stderr.strip().splitlines() or ["no output"])[-1]
        return {"error": tail[:300]}
    return json.loads(completed.stdout.strip().splitlines()[-1])


def ceiling_gflops(threads: int) -> float:
    """The FP32 matrix-product rate numpy's BLAS reaches here on ``threads`` threads."""
    code = ("import numpy, time, statistics\n"
            "a = numpy.random.default_rng(0).random((4096, 4096), dtype=numpy.float32)\n"
            "a @ a\n"
            "times = []\n"
            "for _ in range(5):\n"
            "    began = time.perf_counter(); a @ a; times.append(time.perf_counter() - began)\n"
            "print(2 * 4096 ** 3 / statistics.median(times) / 1e9)\n")
    environment = {**os.environ, "OMP_NUM_THREADS": str(threads),
                   "OPENBLAS_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}
    completed = subprocess.run([sys.executable, "-c", code], env=environment,
                               capture_output=True, text=True, check=True)
    return float(completed.stdout.strip())


def machine_facts() -> dict:
    from benchmarks.run.environment import cpu_model, package_versions

    flags = ""
    with contextlib.suppress(OSError, StopIteration):
        flags = next(line for line in Path("/proc/cpuinfo").read_text().splitlines()
                     if line.startswith("flags"))
    return {"cpu": cpu_model(), "cores": cpus_available(), "avx512": " avx512f" in flags,
            "packages": package_versions()}


def table(results: list[dict]) -> str:
    """The measurements as a table; the share of the ceiling is the one each result holds
    (none without a FLOP count, or for a bf16 row against an FP32 ceiling)."""
    rows = []
    for result in results:
        if "error" in result:
            rows.append([result["network"], result["setting"], "–", "–", "–",
                         f"failed: {result['error']}"])
            continue
        share = (f"{result['train_gflops_per_second'] / result['ceiling_gflops_per_second']:.0%}"
                 if "train_gflops_per_second" in result else "–")
        rows.append([result["network"], result["setting"],
                     f"{result['train_images_per_second']:,.0f}", share,
                     f"{result['predict_images_per_second']:,.0f} "
                     f"(batch {result['predict_best_batch_size']})", ""])
    return tabulate(rows, headers=["network", "setting", "train images/s",
                                   "% of ceiling (train)", "predict images/s", "note"],
                    tablefmt="github", disable_numparse=True)


def main(argv: list[str] | None = None) -> int:
    cores = cpus_available()
    known = settings(cores)
    parser = argparse.ArgumentParser(prog="python -m benchmarks.perf.deep_backends",
                                     description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--networks", nargs="+", default=list(NETWORKS))
    parser.add_argument("--settings", nargs="+", choices=list(known), default=None,
                        help="default: every setting whose backend is installed")
    parser.add_argument("--window-seconds", type=float, default=6.0,
                        help="the length of each timed training window (default 6)")
    parser.add_argument("--no-flops", action="store_true",
                        help="skip the FLOP count (it needs JAX)")
    parser.add_argument("--data-dir", type=Path)
    parser.add_argument("--json", type=Path, help="append every measurement here, a line each")
    parser.add_argument("--child", metavar="NETWORK", help=argparse.SUPPRESS)
    parser.add_argument("--flops-of", metavar="NETWORK", help=argparse.SUPPRESS)
    parser.add_argument("--jit-compile", default='"auto"', help=argparse.SUPPRESS)
    parser.add_argument("--mixed-precision", default="auto", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(measure(args.child, json.loads(args.jit_compile), args)))
        return 0
    if args.flops_of:
        print(json.dumps(count_flops(args.flops_of)))
        return 0
    chosen = [known[name] for name in args.settings or known if installed(known[name].backend)]
    facts = machine_facts()
    ceiling = {threads: ceiling_gflops(threads) for threads in sorted({1, cores})}
    print(f"{facts['cpu']}, {cores} cores (AVX-512: {facts['avx512']}); FP32 matrix-product "
          f"ceiling " + ", ".join(f"{gflops:,.0f} GFLOP/s on {threads} thread(s)"
                                  for threads, gflops in ceiling.items()), flush=True)
    flops = {}
    if not args.no_flops and installed("jax"):
        for network in args.networks:
            counted = child(["--flops-of", network], {"KERAS_BACKEND": "jax"})
            if "error" not in counted:
                flops[network] = counted
                print(f"{network}: {counted['forward_flops'] / 1e9:.3f} GFLOP forward, "
                      f"{counted['train_flops'] / 1e9:.3f} GFLOP a training image", flush=True)
    results = []
    for network in args.networks:
        for setting in chosen:
            arguments = ["--child", network, "--jit-compile", json.dumps(setting.jit_compile),
                         "--mixed-precision", setting.mixed_precision,
                         "--window-seconds", str(args.window_seconds)]
            if args.data_dir:
                arguments += ["--data-dir", str(args.data_dir)]
            measured = child(arguments, {**setting.environment, "KERAS_BACKEND": setting.backend})
            threads = 1 if setting.name == "tf-1-thread" else cores
            result = {"network": network, "setting": setting.name,
                      "description": setting.description, "threads": threads,
                      "environment": setting.environment, **measured}
            train_flops = flops.get(network, {}).get("train_flops")
            if "error" not in measured and train_flops \
                    and measured.get("dtype_policy") == "float32":  # an FP32 ceiling
                result["train_gflops_per_second"] = (measured["train_images_per_second"]
                                                      * train_flops / 1e9)
                result["ceiling_gflops_per_second"] = ceiling[threads]
            results.append(result)
            print(table([result]).splitlines()[-1], flush=True)
            if args.json:
                line = {**result, "flops": flops.get(network), **facts,
                        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
                with open(args.json, "a", encoding="utf-8") as sink:
                    sink.write(json.dumps(line) + "\n")
    print()
    print(table(results))
    for network in args.networks:
        measured = [r for r in results if r["network"] == network and "error" not in r
                    and r["threads"] == cores]
        if measured:
            best = max(measured, key=lambda r: r["train_images_per_second"])
            print(f"fastest training for {network} on {cores} threads: {best['setting']} "
                  f"({best['train_images_per_second']:,.0f} images/s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
