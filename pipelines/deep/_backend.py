"""Keras, imported quietly: the one place the deep zoo's modules get ``keras`` from.

TensorFlow and JAX print their start-up to the process's stderr from C++ (absl's "All log
messages before absl::InitializeLog()", the CUDA stub's "Could not find cuda drivers", a
failed ``cuInit`` on a machine without a GPU, CPU-feature notices): half a dozen lines per
process that say nothing about the benchmark. Unless ``FASHIONBENCH_VERBOSE`` is set
(``run_all.py --verbose``), the import and the first device query run with file descriptor 2
pointed at a temporary file: what they print is dropped when they succeed and shown when
they fail. The logging level variables cover what the backends print later.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from collections.abc import Iterator

from ..events import VERBOSE_ENV

# set only where the user has not: TensorFlow's C++ logs above INFO/WARNING/ERROR, gRPC's
QUIET_LOGGING = {"TF_CPP_MIN_LOG_LEVEL": "3", "GRPC_VERBOSITY": "ERROR"}

# TensorFlow's oneDNN kernels, on whatever the CPU. TensorFlow turns them on by itself only on
# CPUs with AVX-512-class features (an Intel Xeon, a Zen 4 AMD EPYC); on an AVX2 AMD EPYC it
# leaves them off, and trained ResNet50 at 17 images a second on 2 cores, 8x slower than with
# them (the CPU-speed issue's probe; benchmarks.perf.deep_backends measures every network).
# Set before TensorFlow is first imported, in this process and so in every worker process
# (each imports Keras through here); a user's own TF_ENABLE_ONEDNN_OPTS wins. Each network's
# record says whether the kernels were on (``model.onednn``).
ONEDNN = {"TF_ENABLE_ONEDNN_OPTS": "1"}


def verbose() -> bool:
    return os.environ.get(VERBOSE_ENV, "") not in ("", "0")


@contextlib.contextmanager
def native_stderr_held() -> Iterator[None]:
    """Whatever this process writes to file descriptor 2 (C++ included) is held in a
    temporary file, and written out only if the block raises."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as held:
        os.dup2(held.fileno(), 2)
        try:
            yield
        except BaseException:
            os.dup2(saved, 2)
            held.seek(0)
            sys.stderr.write(held.read().decode(errors="replace"))
            raise
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)


def onednn_enabled() -> bool | None:
    """Whether TensorFlow runs its oneDNN kernels in this process (None: TensorFlow is not
    Keras's backend), as TensorFlow itself decided at import."""
    if keras.backend.backend() != "tensorflow" or "tensorflow" not in sys.modules:
        return None
    try:
        from tensorflow.python.util import _pywrap_util_port
    except ImportError:  # a TensorFlow without the flag: nothing to report
        return None
    return bool(_pywrap_util_port.IsMklEnabled())


def set_random_seed(seed: int) -> None:
    """``keras.utils.set_random_seed``, quietly: it imports TensorFlow wherever TensorFlow is
    installed, to seed it too, whatever Keras's backend; on JAX or torch that first import's
    C++ start-up lines are held as Keras's own import's are (``_load``)."""
    if verbose() or "tensorflow" in sys.modules:
        keras.utils.set_random_seed(seed)
        return
    with native_stderr_held():
        keras.utils.set_random_seed(seed)


def _load():
    for name, value in ONEDNN.items():
        os.environ.setdefault(name, value)
    if verbose():
        import keras

        return keras
    for name, value in QUIET_LOGGING.items():
        os.environ.setdefault(name, value)
    with native_stderr_held():
        import keras

        # the first device query is where a GPU-less machine's CUDA probe complains
        with contextlib.suppress(Exception):
            keras.distribution.list_devices()
    return keras


keras = _load()
