"""What names a job: the key two records of the same job share, a refit's mark and the mark
of an arithmetic asked for.

Apart from ``record`` so that a job to run (``run/context.py``) spells its key the same way
without importing the reader of stored records.
"""

from __future__ import annotations

from pipelines.hardware import PRECISIONS

REFIT_MARK = "[refit]"  # a refit's name: the pipeline's, with this after it


def precision_mark(precision: str) -> str:
    """What a network's name carries when a run asked for its arithmetic (``--precision
    bfloat16`` or ``float32``): a job in another arithmetic is another job, as one with
    another recipe is, so it neither replaces nor is skipped for the row of the default
    ("auto", no mark)."""
    return "" if precision == "auto" else f"[{precision}]"


def job_name(base: str, precision: str = "auto", refit: bool = False) -> str:
    """A job's stored name: the pipeline's (or study variant's) own, then the mark of an
    asked arithmetic, then a refit's, e.g. ``vgg16[bfloat16][refit]``."""
    return base + precision_mark(precision) + (REFIT_MARK if refit else "")


def asked_precision(name: str) -> str | None:
    """The arithmetic a record or job ``name`` says its run asked for; None for the default."""
    return next((precision for precision in PRECISIONS
                 if precision != "auto" and precision_mark(precision) in name), None)


def key_of(name: str, dataset: str, fingerprint: str, profile: str, seed: int) -> tuple:
    """What makes two records the same job: name, dataset, split fingerprint, profile, seed.
    The one spelling of the key: of a stored record (``job_key``), of a job to run
    (``Job.key``), and inside a job's checkpoint name."""
    return (name, dataset, fingerprint, profile, seed)
