"""What a run shows while it works: a live rich display on a terminal, plain lines elsewhere.

Plain lines (one per finished job, one per epoch of a deep model) suit CI logs and pipes;
``--quiet`` shows nothing. Mid-job events come from ``benchmarks.events`` through the
executor, whichever process or machine the job runs on.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from pipelines.events import describe_event

from .job import Job, describe_outcome


class LineProgress:
    """One line per job event, written through ``emit`` (print by default)."""

    def __init__(self, emit: Callable[[str], None] = print) -> None:
        self.emit = emit
        self.total = 0
        self.finished_count = 0

    def begin(self, total: int, header: str) -> None:
        self.total = total
        self.emit(header)

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
        self.live = Live(self._render(), console=self.console, refresh_per_second=2,
                         transient=True, get_renderable=self._render)

    def _render(self):
        from rich.console import Group
        from rich.table import Table
        from rich.text import Text

        elapsed = time.monotonic() - getattr(self, "started_at", time.monotonic())
        done = self.finished_count
        left = self.total - done - len(self.running)
        eta = elapsed / done * (self.total - done) if done else None
        summary = Table.grid(padding=(0, 2))
        summary.add_row(f"[bold]{done}[/] done", f"[bold]{len(self.running)}[/] running",
                        f"[bold]{max(left, 0)}[/] left", f"elapsed {elapsed:,.0f} s",
                        f"ETA {eta:,.0f} s" if eta is not None else "ETA –")
        lines = [summary]
        for key, since in list(self.running.items()):
            pipeline, seed = key
            latest = self.latest.get(key)
            # one line per running job, cut with an ellipsis rather than wrapped
            lines.append(Text(f"  ▶ {pipeline} seed {seed}  {time.monotonic() - since:,.0f} s"
                              + (f"  {latest}" if latest else ""),
                              no_wrap=True, overflow="ellipsis"))
        return Group(*lines)

    def begin(self, total: int, header: str) -> None:
        super().begin(total, header)
        self.started_at = time.monotonic()
        self.live.start()

    def started(self, job: Job) -> None:
        self.running[(job.name, job.seed)] = time.monotonic()

    def progressed(self, job: Job, event: dict) -> None:
        key = (job.name, job.seed)
        if key in self.running:  # shown in the panel, not printed: the panel is the place
            self.latest[key] = describe_event(event)

    def finished(self, record: dict) -> None:
        key = (record["name"], record["seed"])
        self.running.pop(key, None)
        self.latest.pop(key, None)
        super().finished(record)

    def end(self) -> None:
        self.live.stop()
