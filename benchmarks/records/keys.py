"""What names a job: the key two records of the same job share, and a refit's mark.

Apart from ``record`` so that a job to run (``run/context.py``) spells its key the same way
without importing the reader of stored records.
"""

from __future__ import annotations

REFIT_MARK = "[refit]"  # a refit's name: the pipeline's, with this after it


def key_of(name: str, dataset: str, fingerprint: str, profile: str, seed: int) -> tuple:
    """What makes two records the same job: name, dataset, split fingerprint, profile, seed.
    The one spelling of the key: of a stored record (``job_key``), of a job to run
    (``Job.key``), and inside a job's checkpoint name."""
    return (name, dataset, fingerprint, profile, seed)
