"""README.md's generated parts, between their markers: the answer paragraph (the best of
each family, the gap, its interval, the cost, robustness) and the leaderboard excerpt, both
from the committed stores, so the README never states a number no store holds."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..records.keys import asked_precision
from ..records.layout import ResultsLayout
from ..records.record import REFIT_MARK
from ..records.store import ResultsStore
from .offered import offered
from .rows import FAMILY_ORDER, Row, correctness, summarise
from .significance import bootstrap_difference_ci
from .tables import count, markdown_table, markdown_text, number, percent

ANSWER_START = "<!-- answer:start -->"
ANSWER_END = "<!-- answer:end -->"
EXCERPT_START = "<!-- leaderboard-excerpt:start -->"
EXCERPT_END = "<!-- leaderboard-excerpt:end -->"
EXCERPT_ROWS = 10


def excerpt_markdown(results_dir: Path) -> str:
    """The top of the most complete Fashion-MNIST leaderboard (full, else quick), for README.md."""
    rows, profile = standard_rows(results_dir)
    if not rows:
        return "No Fashion-MNIST results are stored yet: run `make run`."
    ranked = list(enumerate(rows, start=1))
    shown = ranked[:EXCERPT_ROWS]
    for family in FAMILY_ORDER:  # each family's best, even when it ranks below the top
        leader = next((item for item in ranked if item[1].family == family), None)
        if leader is not None and leader not in shown:
            shown.append(leader)
    several = len({row.hardware for _, row in shown}) > 1
    table = [[rank, row.name, row.family, percent(row.accuracy),
              number(row.fit_seconds), number(row.predict_ms_per_1k),
              count(row.train_size)] + ([row.hardware] if several else [])
             for rank, row in shown]
    headers = ["rank", "pipeline", "family", "test acc %", "fit s", "predict ms/1k",
               "train images"] + (["hardware"] if several else [])
    layout = ResultsLayout(results_dir)
    link = f"results/{layout.relative(layout.store('fashion-mnist', profile).leaderboard)}"
    extra = len(shown) - min(EXCERPT_ROWS, len(rows))
    refits = any(row.name.endswith(REFIT_MARK) for _, row in shown)
    return "\n".join([
        f"Fashion-MNIST, `standard` split, profile `{profile}` (top {min(EXCERPT_ROWS, len(rows))} "
        f"of {len(rows)}" + (", then the best of each family below them" if extra else "")
        + f"; all of it in [{link}]({link})):", "",
        markdown_table(table, headers, ["right", "left", "left", "right", "right", "right", "right"]
                  + (["left"] if several else [])),
        *(["", f"`{REFIT_MARK}`: the pipeline's chosen configuration trained again on the "
               f"training and validation images together (`--refit`), the standard last step "
               f"of model selection; the other rows trained on the training images only."]
          if refits else []),
        *(["", "A mark such as `[bfloat16]`: a network trained in the arithmetic its run "
               "asked for (`--precision`), a job of its own; the other networks trained in "
               "the default, float32 on a CPU and bfloat16 on a GPU."]
          if any(asked_precision(row.name) for _, row in shown) else []),
    ])


def answer_markdown(results_dir: Path) -> str:
    """README's first paragraph, from the stores: the best classical and the best deep
    pipeline of the most complete Fashion-MNIST leaderboard, the accuracy gap with its 95%
    interval (paired bootstrap over the same test images), the fit-time ratio and the
    hardware; and, where both families were scored on the corruption suite, which degrades
    less."""
    rows, profile = standard_rows(results_dir)
    best = {family: next((row for row in rows if row.family == family), None)
            for family in FAMILY_ORDER}
    if not rows or None in best.values():
        return ("No Fashion-MNIST leaderboard with both classical and deep results is stored "
                "yet: run `make run`.")
    classical, deep = best["classical"], best["deep"]
    right = [correctness(row.runs[0]) for row in (deep, classical)]
    # a record merged from elsewhere may keep no predictions, or of other test images
    if any(found is None for found in right) or len(right[0]) != len(right[1]):
        return (f"The best deep pipeline, `{markdown_text(deep.name)}`, and the best "
                f"classical one, `{markdown_text(classical.name)}`, have no stored "
                f"predictions of the same test images to compare: run them again.")
    low, high = bootstrap_difference_ci(*right)
    gap = (deep.accuracy[0] - classical.accuracy[0]) * 100
    # the same runs as the scores compared: each row's first seed's
    seconds = [row.runs[0]["timing"]["fit_seconds"] for row in (deep, classical)]
    ratio = seconds[0] / max(seconds[1], 1e-9)
    times = [f"{number(fit, 0)} s" for fit in seconds]
    if deep.hardware == classical.hardware:
        cost = f"{times[0]} against {times[1]} on {markdown_text(deep.hardware)}"
    else:  # each time on its own machine, or a reader pairs them the wrong way round
        cost = (f"{times[0]} on {markdown_text(deep.hardware)} against {times[1]} on "
                f"{markdown_text(classical.hardware)}")
    images = len(right[0])
    text = (f"**Classical or deep, at what cost?** On Fashion-MNIST (profile `{profile}`, "
            f"standard split, {images:,} test images) the best deep pipeline, "
            f"`{markdown_text(deep.name)}`, scores {first_seed_score(deep)} and the best "
            f"classical one, `{markdown_text(classical.name)}`, "
            f"{first_seed_score(classical)}: {gap:+.2f} points for deep (95% interval "
            f"{low * 100:+.2f} to {high * 100:+.2f}, paired bootstrap over the same test "
            f"images), for {ratio:.1f}x the fit time ({cost}).")
    return text + robustness_sentence(rows)


def first_seed_score(row: Row) -> str:
    """A row's test accuracy on its first seed, the run the paired bootstrap compares, and,
    for a row of several seeds, the mean its table shows beside it."""
    first = f"{row.accuracy[0] * 100:.2f}%"
    if len(row.accuracy) < 2:
        return first
    return (f"{first} (seed {row.runs[0]['seed']}; {percent(row.accuracy)}% over its "
            f"{len(row.accuracy)} seeds)")


def standard_rows(results_dir: Path) -> tuple[list[Row], str | None]:
    """The ranked rows of the standard split of the most complete Fashion-MNIST store."""
    for profile in ("full", "quick"):
        store = ResultsStore.of(ResultsLayout(results_dir).store("fashion-mnist", profile))
        records = [record for record in offered(list(store.latest().values()), profile)
                   if record["split"]["name"] == "standard"]
        rows = summarise(records, with_statistics=False)
        if rows:
            return rows, profile
    return [], None




def robustness_sentence(rows: list[Row]) -> str:
    """Which family keeps more of its accuracy under corruption (median relative
    robustness of its scored rows), when both have scored rows."""
    medians = {}
    for family in FAMILY_ORDER:
        values = [row.relative_robustness for row in rows
                  if row.family == family and row.relative_robustness is not None]
        if values:
            medians[family] = (float(np.median(values)), len(values))
    if len(medians) < 2:
        return ""
    (better, (best, n_best)), (worse, (other, n_other)) = sorted(
        medians.items(), key=lambda item: -item[1][0])
    return (f" Under corruption (14 kinds of noise, blur, affine changes, contrast and "
            f"inversion), {better} pipelines keep a median {best * 100:.1f}% of their clean "
            f"accuracy and {worse} ones {other * 100:.1f}% ({n_best} and {n_other} rows "
            f"scored): {better} degrades less, by {(best - other) * 100:.1f} points.")
