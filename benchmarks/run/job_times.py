"""How long each job is expected to take here: what the order of a run, its ETA and its
time budget are made of.

The times come from a store's newest record of each name (``before``), which may have run on
other hardware: a fresh clone's committed quick store comes from another CPU, and a GPU run
has only CPU times before it. So each stored time keeps the device it was measured on
(``hardware_key``), and once this run has finished jobs with a time from before, this
run's pace (took now over took then, per family, else over all) scales the others.

- ``expected`` (any stored time, paced) orders jobs longest first and feeds the ETA: a
  time from other hardware still says which job is long;
- ``expected_here`` decides whether a job can finish inside a ``--max-seconds`` budget: a
  time from this hardware, or one from elsewhere once this run's pace says how to scale it;
  without either it is unknown, and the job is started with the time left as its limit.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .environment import machine


def hardware_key(family: str, env: dict) -> str:
    """The device a job's time depends on: a network's GPU where it had one, else the CPU
    model (a core count changes times too, but far less than another device)."""
    if family == "deep" and env.get("gpu"):
        return str(env["gpu"])
    return str(env.get("cpu") or "")


@dataclass(frozen=True)
class StoredTime:
    seconds: float
    family: str
    hardware: str


@dataclass
class JobTimes:
    before: dict[str, StoredTime] = field(default_factory=dict)
    # (family, seconds now, seconds before) for each of this run's finished jobs whose name
    # had a time before
    against_before: list[tuple[str, float, float]] = field(default_factory=list)

    @classmethod
    def from_records(cls, records) -> JobTimes:
        """The newest time of each name in ``records`` (oldest first, as a store reads)."""
        before = {}
        for record in records:
            seconds = (record.get("timing") or {}).get("job_seconds")
            if seconds and not record.get("trained_by"):  # scored only: says nothing of
                # what training its name takes (twins.py)
                family = record.get("family", "")
                before[record["name"]] = StoredTime(seconds, family,
                                                    hardware_key(family, record.get("env") or {}))
        return cls(before)

    @property
    def seconds(self) -> dict[str, float]:
        return {name: stored.seconds for name, stored in self.before.items()}

    def finished(self, record: dict) -> None:
        """A job of this run finished: its time against its name's time from before."""
        took = (record.get("timing") or {}).get("job_seconds")
        stored = self.before.get(record["name"])
        if took and stored is not None and not record.get("trained_by"):
            self.against_before.append((record.get("family", ""), took, stored.seconds))

    def pace(self, family: str | None = None) -> float | None:
        """This run's jobs' time over their time before: their family's, else all of them;
        None before any has finished."""
        for wanted in (family, None):
            pairs = [(now, then) for of, now, then in self.against_before
                     if wanted is None or of == wanted]
            before = sum(then for _, then in pairs)
            if before > 0:
                return sum(now for now, _ in pairs) / before
        return None

    def expected(self, name: str) -> float | None:
        """Seconds ``name`` should take here, at this run's pace; None if never stored."""
        stored = self.before.get(name)
        if stored is None:
            return None
        return stored.seconds * (self.pace(stored.family) or 1.0)

    def expected_here(self, name: str, family: str) -> float | None:
        """Seconds ``name`` should take on this machine: its time from this hardware, or
        from other hardware scaled by this run's pace once there is one; else None."""
        stored = self.before.get(name)
        if stored is None:
            return None
        if stored.hardware == hardware_key(family, machine()):
            return stored.seconds
        pace = self.pace(family)
        return None if pace is None else stored.seconds * pace


def format_duration(seconds: float) -> str:
    """``42 s``, ``3 min 05 s``, ``1 h 02 min``: a duration as a person reads it."""
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"
