"""Wall time, CPU time and peak memory of one phase of a job.

Peak memory is the process's resident high-water mark. On Linux it is reset before each job
(``/proc/self/clear_refs``), so it is that job's peak, including the dataset the runner holds;
elsewhere it is the process's lifetime peak and says so.
"""

from __future__ import annotations

import resource
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

PROC_STATUS = Path("/proc/self/status")
CLEAR_REFS = Path("/proc/self/clear_refs")


def reset_peak_memory() -> bool:
    """Reset the resident high-water mark; True when this platform allows it."""
    try:
        CLEAR_REFS.write_text("5")
        return True
    except OSError:
        return False


def _status_kb(field: str) -> float | None:
    try:
        for line in PROC_STATUS.read_text().splitlines():
            if line.startswith(field + ":"):
                return float(line.split()[1])
    except OSError:
        return None
    return None


def peak_memory_mb() -> float:
    kilobytes = _status_kb("VmHWM")
    if kilobytes is None:
        maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        kilobytes = maxrss / 1024 if sys.platform == "darwin" else maxrss
    return kilobytes / 1024


def current_memory_mb() -> float | None:
    kilobytes = _status_kb("VmRSS")
    return None if kilobytes is None else kilobytes / 1024


def cpu_seconds() -> float:
    """CPU time of this process (all threads) and of its finished children."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


@dataclass
class Stopwatch:
    """``with Stopwatch() as watch: ...`` then ``watch.wall_seconds``, ``watch.cpu_seconds``."""

    wall_seconds: float = 0.0
    cpu_seconds: float = 0.0

    def __enter__(self) -> Stopwatch:
        self._wall = time.perf_counter()
        self._cpu = cpu_seconds()
        return self

    def __exit__(self, *exc_info) -> None:
        self.wall_seconds = time.perf_counter() - self._wall
        self.cpu_seconds = cpu_seconds() - self._cpu


def single_image_latency_ms(predict: Callable[[np.ndarray], object], images: np.ndarray,
                            *, repeats: int = 20, budget_seconds: float = 2.0) -> float:
    """Median wall time of predicting one image at a time, as a deployed model would.

    One untimed call first: a deployed model has served before, and the first single-image
    call may build or compile a path the batch predict did not (a new input shape)."""
    if len(images):
        predict(images[:1])
    timings = []
    started = time.perf_counter()
    for index in range(min(repeats, len(images))):
        begin = time.perf_counter()
        predict(images[index : index + 1])
        timings.append((time.perf_counter() - begin) * 1000)
        if time.perf_counter() - started > budget_seconds and len(timings) >= 3:
            break
    return float(statistics.median(timings)) if timings else float("nan")


def job_timing(trained, n_train: int, n_test: int) -> dict:
    """A record's ``timing`` from a job's clocks (job.py's ``Trained``)."""
    # what the pipeline alone would have paid: the feature steps it loaded from
    # another job of the run are counted at what they took to compute there
    fit_watch, predict_watch = trained.fit_watch, trained.predict_watch
    fit_seconds = fit_watch.wall_seconds + trained.fit_shared.loaded_seconds
    predict_seconds = predict_watch.wall_seconds + trained.predict_shared.loaded_seconds
    timing = {
        "fit_seconds": fit_seconds,
        "predict_seconds": predict_seconds,
        "predict_ms_per_1k": predict_seconds * 1e6 / max(n_test, 1),
        "latency_ms": trained.latency_ms,
        "cpu_seconds": fit_watch.cpu_seconds + predict_watch.cpu_seconds,
        "fit_cpu_seconds": fit_watch.cpu_seconds,
        "peak_rss_mb": trained.peak_mb,
        "rss_before_mb": trained.memory_before,
        "peak_memory_scope": trained.memory_scope,
        "train_images_per_second": n_train / max(fit_seconds, 1e-9),
        # the corruption suite after the clean pass: the corrupted images made and predicted
        "robustness_seconds": (trained.corrupted or {}).get("seconds"),
    }
    if trained.fit_shared.loads or trained.predict_shared.loads:
        timing["shared_features"] = {
            "fit_seconds": trained.fit_shared.loaded_seconds,
            "predict_seconds": trained.predict_shared.loaded_seconds,
            "fit_wall_seconds": fit_watch.wall_seconds,
            "predict_wall_seconds": predict_watch.wall_seconds,
        }
    return timing


def add_time_before_resume(timing: dict, resumed: dict) -> None:
    """A resumed fit's record counts the epochs trained before the interruption: the fit time
    is what the whole training took (less the epoch cut short), not this process's share."""
    timing["fit_seconds_this_process"] = timing["fit_seconds"]
    timing["fit_seconds"] += resumed["fit_seconds_before"]
    timing["fit_cpu_seconds"] += resumed["fit_cpu_seconds_before"]
    timing["cpu_seconds"] += resumed["fit_cpu_seconds_before"]
    timing["train_images_per_second"] = (timing["train_images_per_second"]
                                         * timing["fit_seconds_this_process"]
                                         / timing["fit_seconds"])
