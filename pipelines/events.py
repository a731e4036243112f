"""Progress from inside a running job (a deep model's epochs) to whatever shows the run.

A pipeline calls ``report_progress({...})`` when it has something to say mid-job; the
executor running the job decides where that goes (the display in this process, a pipe back
from a worker process, a Dask event topic) by wrapping the job in ``reporting_to(sink)``.
Without a sink, a report is a no-op, so pipelines can always call it. A sink that fails
never fails the job: progress is a courtesy, the record is what matters.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Callable, Iterator

Sink = Callable[[dict], None]
# set (run_all.py --verbose) to let the deep-learning backends print their start-up logs
# (pipelines/deep/_backend.py holds them back otherwise); worker processes inherit it
VERBOSE_ENV = "FASHIONBENCH_VERBOSE"

_sink: contextvars.ContextVar[Sink | None] = contextvars.ContextVar("fashionbench_progress",
                                                                   default=None)


def report_progress(event: dict) -> None:
    """Pass ``event`` (plain JSON-able values, e.g. ``{"epoch": 3, "epochs": 100}``) on."""
    sink = _sink.get()
    if sink is not None:
        with contextlib.suppress(Exception):
            sink(event)


@contextlib.contextmanager
def reporting_to(sink: Sink | None) -> Iterator[None]:
    """Within this block, ``report_progress`` calls ``sink``."""
    token = _sink.set(sink)
    try:
        yield
    finally:
        _sink.reset(token)


def describe_event(event: dict) -> str:
    """A short human line for an event: ``epoch 3/100 · val_accuracy 90.12% · loss 0.4120``."""
    parts = []
    if "epoch" in event:
        total = event.get("epochs")
        parts.append(f"epoch {event['epoch']}/{total}" if total else f"epoch {event['epoch']}")
    for key in ("val_accuracy", "accuracy"):  # the figure that matters first
        if event.get(key) is not None:
            parts.append(f"{key} {100 * event[key]:.2f}%")
            break
    if event.get("loss") is not None:
        parts.append(f"loss {event['loss']:.4f}")
    if event.get("seconds") is not None:
        parts.append(f"{event['seconds']:.1f} s")
    if event.get("message"):
        parts.append(str(event["message"]))
    return " · ".join(parts)
