"""What a profile offers: the records of the pipelines it runs (a pipeline left out of a
profile, such as VGG16 in quick, is not ranked there), and the registered pipelines with no
result yet, each with why. The reports' one reader of the pipelines' registry."""

from __future__ import annotations

from ..records.keys import asked_precision, job_name
from ..records.record import Record, finished_at
from .tables import cell, markdown_table


def offered(records: list[Record], profile: str) -> list[Record]:
    """The records a leaderboard of ``profile`` ranks: not those of a pipeline the profile
    does not offer (``register_pipeline(left_out_of=...)``; missing_table says why)."""
    from pipelines.registry import left_out

    return [record for record in records if left_out(record["pipeline"], profile) is None]


def missing_table(latest: list[Record], profile: str | None = None) -> str | None:
    """The registered pipelines with no ok record in any split of this store, each with why:
    the profile does not offer it, its newest failed or timed-out record, else that it has
    not been run here yet."""
    from pipelines.registry import left_out, list_pipelines

    ranked = offered(latest, profile) if profile else latest
    succeeded = {record["name"] for record in ranked if record["status"] == "ok"}
    newest_failure: dict[str, dict] = {}
    for record in sorted(latest, key=finished_at):
        if record["status"] != "ok":
            newest_failure[record["name"]] = record
    table = []
    for name in sorted(set(list_pipelines()) - succeeded):
        failure = newest_failure.get(name)
        why_not_here = left_out(name, profile) if profile else None
        stored = sum(record["name"] == name and record["status"] == "ok" for record in latest)
        if why_not_here is not None:
            reason = f"left out of this profile: {why_not_here}" + (
                f" (its {stored} stored record{'s' if stored > 1 else ''} here, from before, "
                f"{'are' if stored > 1 else 'is'} not ranked)" if stored else "")
        elif failure is None:
            reason = "not run yet in this profile" + _ranked_in_another_arithmetic(
                name, succeeded)
        else:
            reason = (f"{'timed out' if failure['status'] == 'timeout' else failure['status']}"
                      f"{_ranked_in_another_arithmetic(name, succeeded)} "
                      f"(seed {failure['seed']}, {failure.get('finished_at') or 'time unknown'}"
                      f"): " + (failure.get("error") or "")[:200])
        table.append([name, cell(reason, 400)])
    return markdown_table(table, ["pipeline", "why it is not ranked"]) if table else None


def _ranked_in_another_arithmetic(name: str, succeeded: set[str]) -> str:
    """" in its default arithmetic (ranked: `vgg16[bfloat16]`)" where the pipeline has rows
    only in an arithmetic a run asked for (keys.precision_mark)."""
    marked = sorted(other for other in succeeded if (asked := asked_precision(other))
                    and other in (job_name(name, asked), job_name(name, asked, refit=True)))
    return (f" in its default arithmetic (ranked: {', '.join(f'`{m}`' for m in marked)})"
            if marked else "")
