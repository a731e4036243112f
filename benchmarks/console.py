"""What the command line prints around a run: the note before deep jobs train on a CPU, and
the run's last lines (its time, what failed, where its report is, the top five)."""

from __future__ import annotations

from pathlib import Path

from .run.job_times import format_duration

TOP = 5


def final_summary(summaries, written: list[Path], seconds: float) -> list[str]:
    """The run's last lines: how long it took, what failed, where its report is and, for a
    leaderboard, its top five on the split this run scored."""
    from .reports.offered import offered
    from .reports.rows import summarise
    from .reports.tables import percent

    ran = [record for summary in summaries for record in summary.ran]
    failed = [record for summary in summaries for record in summary.failed]
    skipped = sum(len(summary.skipped) for summary in summaries)
    lines = [f"done in {format_duration(seconds)}: {len(ran)} ran ({len(failed)} failed), "
             f"{skipped} already stored"]
    lines += [f"  {record['status']}: {record['name']} seed {record['seed']}: "
              f"{(record.get('error') or '')[:120]}" for record in failed]
    for passed_over, what in (("not_started", "not started within --max-seconds"),
                              ("elsewhere", "left to another run on the same store")):
        jobs = [job for summary in summaries for job, _ in getattr(summary, passed_over)]
        if jobs:
            lines.append(f"{len(jobs)} {what}: "
                         + ", ".join(f"{job.name} seed {job.seed}" for job in jobs))
    store = summaries[-1].store if summaries else None
    if store is None:
        return lines
    report = next((path for path in (store.location.leaderboard, store.location.study_report)
                   if path in written), None)
    if report is not None:
        lines.append(f"report: {report}")
    scored = next((record for record in reversed(ran) if record["status"] == "ok"), None)
    if scored is not None and report == store.location.leaderboard:
        rows = summarise([record for record in offered(list(store.latest().values()),
                                                       store.location.profile)
                          if record["split"]["fingerprint"] == scored["split"]["fingerprint"]],
                         with_statistics=False)
        lines.append(f"top {min(TOP, len(rows))} of {len(rows)}: " + " · ".join(
            f"{row.name} {percent(row.accuracy)}%" for row in rows[:TOP]))
    return lines


def cpu_training_notice(names: list[str]) -> str | None:
    """One line where deep pipelines are about to train without a GPU."""
    from pipelines.hardware import gpu_names
    from pipelines.registry import get_entry

    deep = sorted({name for name in names if get_entry(name).family == "deep"})
    if not deep or gpu_names():
        return None
    # under 100 columns: a terminal that wraps it splits the README's section name
    return (f"note: {len(deep)} deep pipeline(s) train on the CPU (no GPU), slowly: see "
            f"README, 'Deep learning on a CPU'")
