"""A run's wall-clock budget (``--max-seconds``): which jobs may still start, and how long.

For a machine lent for a fixed time (a GPU for 10 minutes, a cluster slot): the run must end,
its finished records written, before the time is up. So a job is started only when its
expected time here (``JobTimes.expected_here``: a time from this hardware, or from other
hardware at this run's pace) fits what is left; a job never timed here starts if any time is
left, with that time as its limit. Every job is stopped at the end of the budget less a
margin kept for what follows the last job (the worker processes' shutdown, the reports), and
recorded as ``timeout``; a network's epoch checkpoint stays, so a later run resumes it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from .job_times import JobTimes, format_duration

MARGIN_SHARE = 0.05  # of the budget, kept for the end of the run
MIN_MARGIN_SECONDS = 10.0


@dataclass
class Budget:
    seconds: float
    times: JobTimes
    started: float = field(default_factory=time.monotonic)

    @property
    def margin(self) -> float:
        return max(MIN_MARGIN_SECONDS, MARGIN_SHARE * self.seconds)

    def left(self) -> float:
        """Seconds a job starting now may run."""
        return self.started + self.seconds - self.margin - time.monotonic()

    def admit(self, name: str, family: str, trains: bool = True) -> tuple[float | None, str]:
        """The seconds a job of ``name`` may run if it starts now, or None and why not. A
        job that does not train (scored with a twin's network, twins.py) is not held to its
        name's stored time, a training's."""
        left = self.left()
        if left <= 0:
            return None, f"the --max-seconds budget ({self.seconds:g} s) is spent"
        expected = self.times.expected_here(name, family) if trains else None
        if expected is not None and expected > left:
            return None, (f"expected to take {format_duration(expected)} here, and "
                          f"{format_duration(left)} of the --max-seconds budget is left")
        return left, ""
