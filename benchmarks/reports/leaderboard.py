"""Leaderboard assembly: the markdown of one store's leaderboard, of the results index and of
README.md's excerpt, from the stored records, their rows (``benchmarks.reports.rows``) and
the tables of ``benchmarks.reports.tables``.

Everything here is a pure function of the stored records, so ``--report-only`` regenerates
the files byte for byte: no clock, no machine facts, only what the records say. Drawing and
writing files is ``benchmarks.reports.publish``'s job.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

from pipelines.profiles import PROFILES

from ..records.keys import asked_precision
from ..records.layout import ResultsLayout, figure_prefix
from ..records.record import REFIT_MARK
from ..records.store import ResultsStore
from .offered import missing_table, offered
from .robustness import calibration_markdown, robustness_markdown
from .rows import FAMILY_ORDER, Row, family_leaders, summarise
from .significance import BOOTSTRAP_RESAMPLES
from .tables import (
    RECIPE_NOTES,
    SHARED_MARK,
    TABLE_NOTES,
    TIME_TO_ACCURACY_NOTES,
    TWIN_MARK,
    failures_table,
    main_table,
    markdown_table,
    markdown_text,
    number,
    per_class_scores_table,
    per_class_table,
    percent,
    recipe_gain_table,
    reducer_matrix,
    seed_figure_notes,
    selection_table,
    time_to_accuracy_table,
)

HEADER_NOTE = ("Generated from the records in [runs.jsonl](runs.jsonl) by "
               "`python run_all.py --report-only`; do not edit by hand.")

# draws a split's figures: (rows, class names, file prefix, title) -> [(caption, path)]
FigureDrawer = Callable[[list[Row], list[str], str, str], list[tuple[str, Path]]]


def splits_in_order(latest: list[dict]) -> list[tuple[str, list[dict]]]:
    """The records by split fingerprint, the standard split first: a leaderboard's sections."""
    splits: dict[str, list[dict]] = defaultdict(list)
    for record in latest:
        splits[record["split"]["fingerprint"]].append(record)
    return sorted(splits.items(), key=lambda item: (item[1][0]["split"]["name"] != "standard",
                                                    item[1][0]["split"]["name"], item[0]))


def shows_hardware(rows: list[Row]) -> bool:
    """Whether a split's main table needs a hardware column: its rows ran on several."""
    return len({row.hardware for row in rows}) > 1


def images_and_hardware(rows: list[Row], records: list[dict]) -> str:
    """The line under a split's heading: training images used, test images scored, hardware."""
    used = sorted({row.train_size for row in rows})
    test_sizes = sorted({record["sizes"]["test"] for record in records
                         if record["status"] == "ok"})
    hardware = sorted({row.hardware for row in rows})
    return (f"Training images used: {', '.join(f'{size:,}' for size in used)}; "
            f"test images scored: {', '.join(f'{size:,}' for size in test_sizes)}. "
            f"Hardware: {'; '.join(hardware)}.")


def smaller_budgets(records: list[dict], profile) -> list[str]:
    """A line for the rows trained on fewer images than the profile gives (the quick
    profile's CPU-sized budget for the big networks): what each one had (images, epochs,
    input), so a reader never compares them unawares. Nothing when every row had the
    profile's images. Fewer epochs alone are no smaller budget: the profile's epochs are an
    upper bound that early stopping or a recipe's fixed budget stays under."""
    if profile is None:
        return []
    budgets = []
    for record in sorted(records, key=lambda record: record["name"]):
        if record["status"] != "ok":
            continue
        model = record.get("model") or {}
        epochs = (model.get("params") or {}).get("epochs")
        # per part, the images it had when fewer than the profile gives (a pipeline's own
        # cap, register_pipeline(train_sizes=..., validation_sizes=...))
        fewer = {role: record["sizes"][role] for role, profile_cap in
                 (("train", profile.train_size), ("validation", profile.validation_size))
                 if role in record["sizes"]
                 and record["sizes"][role] < min(profile_cap or math.inf,
                                                 record["split"]["sizes"].get(role, 0))}
        if not fewer:
            continue
        parts = [f"{record['sizes']['train']:,} training images"]
        if "validation" in fewer:
            parts.append(f"{fewer['validation']:,} validation images")
        if epochs is not None:
            parts.append(f"{epochs} epoch{'s' if epochs != 1 else ''}")
        if model.get("input_shape"):
            parts.append("input " + "x".join(str(size) for size in model["input_shape"]))
        budgets.append(f"`{record['name']}` ({', '.join(parts)})")
    if not budgets:
        return []
    gives = ("the whole training split" if profile.train_size is None
             else f"{profile.train_size:,}")
    return [f"Trained on fewer images than the profile gives ({gives}), a CPU-sized budget: "
            f"{'; '.join(budgets)}. Their rows rank on the same test images as every other.",
            ""]


def precision_rows(records: list[dict]) -> list[str]:
    """A line for the rows of an arithmetic asked for (``NAME[bfloat16]``): jobs of their
    own beside their pipeline's default row, whose numbers they do not stand for."""
    marked = sorted({record["name"] for record in records if asked_precision(record["name"])})
    if not marked:
        return []
    return [f"Rows marked with an arithmetic ({', '.join(f'`{name}`' for name in marked)}) "
            f"trained in the one their run asked for (`--precision`), a job of its own; the "
            f"other networks trained in the default (float32 on a CPU, bfloat16 on a GPU), as "
            f"the hardware column says.", ""]


def refit_rows(records: list[dict]) -> list[str]:
    """A line for the refit rows (``NAME[refit]``, refit.py): trained on train + validation,
    so they have more training images than their validation runs and no validation score."""
    refits = sorted({record["name"] for record in records
                     if record["status"] == "ok" and record.get("refit")})
    if not refits:
        return []
    images = sorted({record["sizes"]["train"] for record in records
                     if record["status"] == "ok" and record.get("refit")})
    return [f"Rows marked `{REFIT_MARK}` ({len(refits)}) were refitted: the configuration "
            f"their validation run chose (its settings; a boosted model's rounds; a network's "
            f"epochs and their learning rates, or the recipe itself where it fixed them in "
            f"advance) trained again on the training and "
            f"validation images together ({', '.join(f'{size:,}' for size in images)}), "
            f"then scored on the same test images. They have no validation accuracy; compare "
            f"them with each other, or with their own validation run's row.", ""]


def shared_features_rows(rows: list[Row]) -> list[str]:
    """A line for the rows whose fit loaded feature steps another job of its run computed:
    their fit time counts them at what they cost there, so it is what the pipeline alone
    would pay, and the mark says part of it was not paid again."""
    sharers = [row for row in rows if row.shared_fit_seconds]
    if not sharers:
        return []
    seconds = sum(row.shared_fit_seconds for row in sharers)
    return [f"Fit times marked {SHARED_MARK} ({len(sharers)}) include feature steps (HOG, "
            f"PCA, FLD) that another pipeline of the same run computed on the same images and "
            f"shared: they are counted at what that computation took ({number(seconds)} s "
            f"in all), so each row states what its pipeline alone would pay; the run paid "
            f"it once (`--no-shared-features` turns the sharing off).", ""]


def twin_rows(rows: list[Row]) -> list[str]:
    """A line for the rows scored with a network another row's run trained: their fit time
    is that training's, paid once for both (benchmarks/run/twins.py)."""
    twins = [row for row in rows if row.trained_elsewhere]
    if not twins:
        return []
    return [f"Fit times marked {TWIN_MARK} ({len(twins)}) are those of a network that "
            f"another row's run trained: the two differ only in test-time augmentation, so "
            f"the network was trained once and each row predicts with it in its own way "
            f"(`trained_by` in the record names the run); the time is what the row would "
            f"pay alone.", ""]


def leaderboard_markdown(store: ResultsStore, *, draw_figures: FigureDrawer | None = None) -> str:
    """The leaderboard of one store; with ``draw_figures``, each split's figures are drawn by
    it and linked."""
    every = list(store.latest().values())
    dataset = store.location.dataset
    profile_name = store.location.profile
    profile = PROFILES.get(profile_name)
    latest = offered(every, profile_name)
    lines = [f"# Leaderboard: {dataset}, profile `{profile_name}`", "", HEADER_NOTE, ""]
    if profile is not None:
        lines += [f"Profile `{profile.name}`: {profile.description}.", ""]
    for fingerprint, records in splits_in_order(latest):
        lines += split_markdown(store, fingerprint, records, profile, draw_figures)
    missing = missing_table(every, profile_name)
    if missing:
        lines += ["## Registered pipelines without a result in this profile", "",
                  "Every registered pipeline is ranked above once a run of it has succeeded; "
                  "these have not, for the reason given.", "", missing, ""]
    return "\n".join(lines).rstrip() + "\n"


def split_markdown(store: ResultsStore, fingerprint: str, records: list[dict], profile,
                   draw_figures: FigureDrawer | None) -> list[str]:
    """One split's section of a leaderboard: its heading, then its ranked rows' tables and
    figures (when any record is ok), then its failed runs."""
    split = records[0]["split"]
    lines = [
        f"## Split `{split['name']}` (fingerprint `{fingerprint}`)", "",
        split_sizes_line(split), "",
    ]
    rows = summarise(records)
    if rows:
        class_names = next(
            (record["class_names"] for record in records if record.get("class_names")),
            [str(index) for index in range(len(rows[0].per_class))])
        lines += ranked_markdown(rows, records, profile, class_names)
        if draw_figures is not None:
            title = (f"{store.location.dataset}, {store.location.profile}, "
                     f"split {split['name']}")
            drawn = draw_figures(rows, class_names, figure_prefix(split["name"], fingerprint),
                                 title)
            lines += ["### Figures", ""]
            for caption, path in drawn:
                relative = quote(path.relative_to(store.directory).as_posix(), safe="/@[]=+")
                caption = markdown_text(caption)
                lines += [f"**{caption}**", "", f"![{caption}]({relative})", ""]
        selection = selection_table(rows)
        if selection:
            lines += ["### How each pipeline's settings were chosen", "",
                      "As its newest record says (`model.hyperparameter_selection`, else "
                      "the model's notes); nothing was chosen on the test split.", "",
                      selection, ""]
    failures = [record for record in records if record["status"] != "ok"]
    if failures:
        lines += ["### Failed or timed-out runs", "", failures_table(failures), ""]
    return lines


def split_sizes_line(split: dict) -> str:
    """The split's sizes, and for the standard split the share of the training part its
    validation hold-out took (with one's own data, images no pipeline trains on)."""
    sizes = split["sizes"]
    line = (f"{sizes['train']:,} train / {sizes['validation']:,} validation / "
            f"{sizes['test']:,} test images in the split")
    if split["name"] == "standard" and sizes["train"] + sizes["validation"]:
        share = sizes["validation"] / (sizes["train"] + sizes["validation"])
        line += (f" (the validation images: a stratified {share:.0%} hold-out of the training "
                 f"part, which the pipelines tune and stop on)")
    return line + "; every row below was scored on it."


def ranked_markdown(rows: list[Row], records: list[dict], profile,
                    class_names: list[str]) -> list[str]:
    """A split's tables of its ranked rows: the notes on what they stand on, the overall and
    per-family rankings, the per-class scores and the tables only some stores need (recipe
    gain, time to accuracy, the reducer matrix)."""
    ranks = {row.name: rank for rank, row in enumerate(rows, start=1)}
    several = shows_hardware(rows)
    lines = [
        # shared with the HTML page, which escapes them its own way
        *(markdown_text(line) for line in [images_and_hardware(rows, records), ""]
          + smaller_budgets(records, profile) + refit_rows(records) + precision_rows(records)
          + shared_features_rows(rows) + twin_rows(rows)),
        TABLE_NOTES.format(resamples=BOOTSTRAP_RESAMPLES), "",
        "### Overall", "",
        main_table(rows, ranks, with_family=True, with_hardware=several), "",
        *([notes, ""] if (notes := seed_figure_notes(rows)) else []),
    ]
    for family in FAMILY_ORDER:
        family_rows = [row for row in rows if row.family == family]
        if family_rows:
            lines += [f"### {family.capitalize()} pipelines", "",
                      main_table(family_rows, ranks, with_family=False,
                                 with_hardware=several), ""]
    lines += ["### Per-class test accuracy (%)", "", per_class_table(rows, class_names), ""]
    leaders = [rows[0], *[row for row in family_leaders(rows, 1) if row is not rows[0]]]
    lines += ["### Per-class precision, recall and F1 (%): the leader and each "
              "family's best", "",
              per_class_scores_table(leaders, class_names), ""]
    lines += robustness_markdown(rows) + calibration_markdown(rows)
    recipes = recipe_gain_table(rows)
    if recipes:
        lines += ["### Recipe gain: each network under each training recipe", "",
                  RECIPE_NOTES, "", recipes, ""]
    speed = time_to_accuracy_table(rows)
    if speed:
        lines += ["### Time to accuracy", "", TIME_TO_ACCURACY_NOTES, "", speed, ""]
    matrix = reducer_matrix(rows)
    if matrix:
        lines += ["### Reducer matrix: test accuracy (%) of each classifier on each "
                  "feature step", "", "The best feature step of each classifier is in "
                  "bold.", "", matrix, ""]
    return lines


def index_markdown(results_dir: Path, stores: list[ResultsStore],
                   study_stores: list[ResultsStore] = ()) -> str:
    """results/README.md: every store's best pipeline and every study, linked."""
    layout = ResultsLayout(results_dir)
    table = []
    for store in stores:
        latest = offered(list(store.latest().values()), store.location.profile)
        rows = summarise([record for record in latest if record["split"]["name"] == "standard"]
                         or latest, with_statistics=False)
        link = layout.relative(store.location.leaderboard)
        best = rows[0] if rows else None
        table.append([
            store.location.dataset, store.location.profile,
            len({record["name"] for record in store.latest().values()}),
            best.name if best else "–",
            percent(best.accuracy) if best else "–",
            f"[{link}]({link})",
        ])
    headers = ["dataset", "profile", "pipelines", "best pipeline", "best test acc %",
               "leaderboard"]
    body = markdown_table(table, headers, ["left", "left", "right", "left", "right", "left"]) \
        if table else "No results yet."
    lines = [
        "# Results", "",
        "Every table here is generated from the stored records (`runs.jsonl`, one JSON record "
        "per job) by `python run_all.py --report-only`; never edit them by hand.", "",
        body, "",
    ]
    studies = []
    for store in study_stores:
        where = store.location
        link = layout.relative(where.study_report)
        runs = [record for record in store.latest().values() if record.get("status") == "ok"]
        studies.append([where.study, where.dataset, where.profile, len(runs), f"[{link}]({link})"])
    if studies:
        lines += ["## Studies", "",
                  markdown_table(studies, ["study", "dataset", "profile", "runs", "report"],
                            ["left", "left", "left", "right", "left"]), ""]
    return "\n".join(lines)
