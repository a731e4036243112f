"""What a run shows while it works: a live rich display on a terminal, plain lines elsewhere.

Plain lines (one per finished job, one per epoch of a deep model) suit CI logs and pipes;
``--quiet`` shows nothing. Mid-job events come from ``benchmarks.events`` through the
executor, whichever process or machine the job runs on.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from pipelines.events import describe_event

from .context import Job
from .job import describe_outcome
from .job_times import JobTimes, format_duration

# the ETA of a job running past its expected time: this share of its time so far again,
# and never under this many seconds
OVERRUN_SHARE = 0.1
MIN_SECONDS_LEFT = 1.0


class LineProgress:
    """One line per job event, written through ``emit`` (print by default)."""

    def __init__(self, emit: Callable[[str], None] = print) -> None:
        self.emit = emit
        self.total = 0
        self.finished_count = 0

    def begin(self, total: int, header: str) -> None:
        self.total = total
        self.emit(header)

    def expect(self, jobs: list[Job], times: JobTimes, slots: int) -> None:
        """The jobs about to run, how long each should take, and how many run at once: what
        an ETA is made of (a line display has none)."""

    def not_started(self, job: Job, why: str) -> None:
        self.emit(f"{job.name} seed {job.seed}: not started, {why}")

    def skipped(self, job: Job, number: int) -> None:
        self.emit(f"[{number}/{self.total}] {job.name} seed {job.seed}: already stored, "
                  f"skipped (--force reruns it)")

    def started(self, job: Job) -> None:
        pass

    def progressed(self, job: Job, event: dict) -> None:
        self.emit(f"    {job.name} seed {job.seed}: {describe_event(event)}")

    def finished(self, record: dict) -> None:
        self.finished_count += 1
        self.emit(f"[{self.finished_count}/{self.total}] {record['name']} seed "
                  f"{record['seed']}: {describe_outcome(record)}")

    def end(self) -> None:
        pass


class QuietProgress(LineProgress):
    def __init__(self) -> None:
        super().__init__(lambda line: None)


class LiveProgress(LineProgress):
    """A rich live panel: done / running / left, elapsed, ETA and the jobs in flight; each
    finished job is also printed above it, so the log stays on screen."""

    def __init__(self, console=None) -> None:
        from rich.console import Console
        from rich.live import Live

        self.console = console or Console()
        super().__init__(self.console.print)
        self.running: dict[tuple, float] = {}
        self.latest: dict[tuple, str] = {}  # the newest mid-job event of each running job
        self.started_at = time.monotonic()
        self.waiting: set[tuple] = set()  # (name, seed) of the jobs not started yet
        self.scored: set[tuple] = set()  # of those, the ones a twin's network will score
        self.times = JobTimes()  # how long each name took before, and this run's pace
        self.slots = 1
        self.planned_mean: float | None = None  # the known jobs' mean, for the unknown ones
        self.ran_seconds: list[float] = []  # this run's finished jobs
        self.live = Live(self._render(), console=self.console, refresh_per_second=2,
                         transient=True, get_renderable=self._render)

    def _render(self):
        from rich.console import Group
        from rich.table import Table
        from rich.text import Text

        elapsed = time.monotonic() - getattr(self, "started_at", time.monotonic())
        done = self.finished_count
        left = self.total - done - len(self.running)
        eta = self.eta()
        summary = Table.grid(padding=(0, 2))
        summary.add_row(f"[bold]{done}[/] done", f"[bold]{len(self.running)}[/] running",
                        f"[bold]{max(left, 0)}[/] left", f"elapsed {format_duration(elapsed)}",
                        f"ETA {format_duration(eta)}" if eta is not None else "ETA –")
        lines = [summary]
        for key, since in list(self.running.items()):
            pipeline, seed = key
            latest = self.latest.get(key)
            # one line per running job, cut with an ellipsis rather than wrapped
            lines.append(Text(f"  ▶ {pipeline} seed {seed}  "
                              f"{format_duration(time.monotonic() - since)}"
                              + (f"  {latest}" if latest else ""),
                              no_wrap=True, overflow="ellipsis"))
        return Group(*lines)

    def eta(self) -> float | None:
        """Seconds left: each job still to run or running is expected to take what its name
        took the last time here (else this run's mean job), at this run's pace
        (``JobTimes``: the store's times may come from another machine), shared among the
        slots. Jobs skipped as already stored count for nothing, so a resumed run's ETA does
        not start near zero and jump. A job running past its expected time is expected to
        need a tenth of its time so far again: the ETA never reads 0 s while a job runs."""
        pace = self.times.pace() or 1.0
        typical = (sum(self.ran_seconds) / len(self.ran_seconds) if self.ran_seconds
                   else None if self.planned_mean is None else self.planned_mean * pace)
        if typical is None:
            return None
        now = time.monotonic()

        def expected(key: tuple) -> float:
            if key in self.scored:  # scored with a twin's network: no training to wait for
                return 0.0
            seconds = self.times.expected(key[0])
            return typical if seconds is None else seconds

        work = sum(expected(key) for key in self.waiting)
        for key, since in self.running.items():
            elapsed = now - since
            work += max(expected(key) - elapsed, OVERRUN_SHARE * elapsed, MIN_SECONDS_LEFT)
        return work / max(1, min(self.slots, len(self.waiting) + len(self.running)))

    def expect(self, jobs: list[Job], times: JobTimes, slots: int) -> None:
        self.waiting = {(job.name, job.seed) for job in jobs}
        self.scored = {(job.name, job.seed) for job in jobs if job.twin is not None}
        self.times = times
        self.slots = max(1, slots)
        known = [times.before[job.name].seconds for job in jobs if job.name in times.before]
        self.planned_mean = sum(known) / len(known) if known else None

    def not_started(self, job: Job, why: str) -> None:
        self.waiting.discard((job.name, job.seed))
        super().not_started(job, why)

    def begin(self, total: int, header: str) -> None:
        super().begin(total, header)
        self.started_at = time.monotonic()
        self.live.start()

    def started(self, job: Job) -> None:
        self.running[(job.name, job.seed)] = time.monotonic()
        self.waiting.discard((job.name, job.seed))

    def progressed(self, job: Job, event: dict) -> None:
        key = (job.name, job.seed)
        if key in self.running:  # shown in the panel, not printed: the panel is the place
            self.latest[key] = describe_event(event)

    def finished(self, record: dict) -> None:
        key = (record["name"], record["seed"])
        since = self.running.pop(key, None)
        if since is not None and key not in self.scored:  # a training's time, not a scoring's
            self.ran_seconds.append(time.monotonic() - since)
        self.latest.pop(key, None)
        self.waiting.discard(key)
        super().finished(record)

    def end(self) -> None:
        self.live.stop()
