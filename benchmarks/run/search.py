"""Hyper-parameter search studies: seed 003's random search, run through the ordinary runner.

A search study (``benchmarks/studies/NAME.toml`` with ``kind = "search"``) names a pipeline,
a search space and a budget per profile (trials, executions per trial, epochs per trial).
Optuna proposes the trials (``RandomSampler`` with a fixed seed, as seed 003's Keras Tuner
``RandomSearch``); each trial is an ordinary job whose overrides are its values, labelled
``PIPELINE[trial=07]``, run by any executor, stored, resumable. A trial's score is its
validation accuracy (best epoch, restored weights) averaged over its executions (seeds 0,
1, ...); the test split plays no part in the choice. Then the best trial is trained with the
profile's full protocol (``PIPELINE[tuned=trial 07]``) beside the untouched baseline
(``PIPELINE[before tuning]``), and both are scored on the test split.

The sampler is seeded and random search does not look at earlier scores, so the same study
file proposes the same trials on every run: a rerun finds them stored and goes on where it
stopped. The report (STUDY.md) lays the best trials out as the seed's Figure 9 does, with the
seed's own values beside ours.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from pathlib import Path

from ..errors import FashionbenchError
from ..records.store import ResultsStore
from ..reports.tables import markdown_table, percent, summarise
from .environment import hardware_label

TRIAL_WIDTH = 2  # trial=07: labels sort in trial order


@dataclass(frozen=True)
class Budget:
    trials: int
    executions: int
    epochs: int | None  # a trial's epochs (deep pipelines); None: the profile's own


@dataclass(frozen=True)
class Dimension:
    """One searched hyper-parameter: a choice, or a numeric range (step or log scale)."""

    name: str
    layer: str
    label: str
    choices: tuple | None = None
    low: float | None = None
    high: float | None = None
    step: float | None = None
    log: bool = False
    seed_before_tuning: object = None
    seed_trials: tuple = ()  # the seed's best trials' values, best first

    def distribution(self):
        import optuna

        if self.choices is not None:
            return optuna.distributions.CategoricalDistribution(list(self.choices))
        if isinstance(self.low, int) and isinstance(self.high, int) \
                and (self.step is None or isinstance(self.step, int)):
            return optuna.distributions.IntDistribution(self.low, self.high, log=self.log,
                                                        step=self.step or 1)
        return optuna.distributions.FloatDistribution(float(self.low), float(self.high),
                                                      log=self.log, step=self.step)

    def describe(self) -> str:
        if self.choices is not None:
            return "one of " + ", ".join(str(choice) for choice in self.choices)
        scale = ", log scale" if self.log else f", step {self.step:g}" if self.step else ""
        return f"{self.low:g} to {self.high:g}{scale}"


@dataclass(frozen=True)
class SearchStudy:
    name: str
    title: str
    seed: str
    pipeline: str
    profile: str
    split: str
    sampler_seed: int
    budgets: dict[str, Budget]
    space: tuple[Dimension, ...]
    seed_scores: tuple[float, ...] = ()  # the seed's best trials' validation accuracy (%)
    seed_before_tuning_score: float | None = None
    seed_tuned_score: float | None = None
    notes: str = ""
    kind: str = "search"

    def budget(self, profile: str) -> Budget:
        if profile not in self.budgets:
            raise FashionbenchError(
                f"study {self.name} has no budget for profile {profile!r}; it has "
                f"{', '.join(sorted(self.budgets))} (add a [budget.{profile}] table)")
        return self.budgets[profile]

    @property
    def baseline_label(self) -> str:
        return f"{self.pipeline}[before tuning]"

    def trial_label(self, number: int) -> str:
        return f"{self.pipeline}[trial={number:0{TRIAL_WIDTH}d}]"

    def tuned_label(self, number: int) -> str:
        return f"{self.pipeline}[tuned=trial {number:0{TRIAL_WIDTH}d}]"


def parse_search_study(name: str, spec: dict, path: Path) -> SearchStudy:
    try:
        budgets = {profile: Budget(int(b["trials"]), int(b.get("executions", 1)),
                                   int(b["epochs"]) if "epochs" in b else None)
                   for profile, b in spec["budget"].items()}
        space = tuple(
            Dimension(name=key, layer=d.get("layer", ""), label=d.get("label", key),
                      choices=tuple(d["choices"]) if "choices" in d else None,
                      low=d.get("low"), high=d.get("high"), step=d.get("step"),
                      log=bool(d.get("log", False)),
                      seed_before_tuning=d.get("seed_before_tuning"),
                      seed_trials=tuple(d.get("seed_trials", ())))
            for key, d in spec["space"].items())
        seed_scores = spec.get("seed_scores", {})
        return SearchStudy(
            name=name, title=spec.get("title", name), seed=str(spec.get("seed", "")),
            pipeline=spec["pipeline"], profile=spec.get("profile", "quick"),
            split=spec.get("split", "standard"), sampler_seed=int(spec.get("sampler_seed", 0)),
            budgets=budgets, space=space,
            seed_scores=tuple(seed_scores.get("trials", ())),
            seed_before_tuning_score=seed_scores.get("before_tuning"),
            seed_tuned_score=seed_scores.get("tuned"), notes=spec.get("notes", ""))
    except (KeyError, TypeError, ValueError) as error:
        raise FashionbenchError(f"{path}: a search study needs pipeline, [budget.PROFILE] "
                                f"(trials) and [space.NAME] tables ({error!r})") from None


def propose_trials(study: SearchStudy, trials: int) -> list[dict]:
    """The trials' values, in order; the same for the same study file on every run."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    sampler = optuna.samplers.RandomSampler(seed=study.sampler_seed)
    search = optuna.create_study(direction="maximize", sampler=sampler)
    distributions = {dimension.name: dimension.distribution() for dimension in study.space}
    proposals = []
    for _ in range(trials):
        trial = search.ask(distributions)
        # stepped floats come back as 0.30000000000000004; the grid value is meant
        proposals.append({key: round(value, 10) if isinstance(value, float) else value
                          for key, value in trial.params.items()})
        # random search ignores scores; a placeholder keeps the study's trials complete
        search.tell(trial, state=optuna.trial.TrialState.PRUNED)
    return proposals


@dataclass
class TrialResult:
    number: int
    params: dict
    scores: list[float]  # validation accuracy of each ok execution

    @property
    def score(self) -> float | None:
        return statistics.fmean(self.scores) if self.scores else None


def trial_results(study: SearchStudy, proposals: list[dict], store: ResultsStore,
                  latest: dict[tuple, dict] | None = None) -> list[TrialResult]:
    """Each proposed trial with the validation accuracies stored for it (``latest``: the
    store's ``latest()`` when the caller has read it already)."""
    latest = store.latest() if latest is None else latest
    ok_by_label: dict[str, list[dict]] = {}
    for record in sorted(latest.values(), key=lambda record: record["seed"]):
        if record.get("status") == "ok":
            ok_by_label.setdefault(record["name"], []).append(record)
    results = []
    for number, params in enumerate(proposals, start=1):
        label = study.trial_label(number)
        scores = []
        for record in ok_by_label.get(label, []):
            seed = record["seed"]
            stored = {k: v for k, v in record.get("overrides", {}).items() if k in params}
            if stored != params:
                raise FashionbenchError(
                    f"{store.path} holds {label} seed {seed} with other values than this "
                    f"study file proposes ({stored} vs {params}); the search space changed: "
                    f"give the study a new name, or rerun with --force")
            scores.append(record["metrics"]["validation"]["accuracy"])
        results.append(TrialResult(number, params, scores))
    return results


def best_trial(results: list[TrialResult]) -> TrialResult | None:
    scored = [result for result in results if result.score is not None]
    return max(scored, key=lambda result: (result.score, -result.number)) if scored else None


def run_search(study: SearchStudy, options, progress_factory, say=print):
    """Run the trials, then the tuned and baseline models; ``options`` is a RunOptions whose
    pipelines/variants/seeds this fills in. Returns the summaries of both phases."""
    import dataclasses

    from .runner import run

    budget = study.budget(options.profile)
    proposals = propose_trials(study, budget.trials)
    epochs = (("epochs", budget.epochs),) if budget.epochs is not None else ()
    trials = tuple((study.pipeline, tuple(sorted(params.items())) + epochs,
                    study.trial_label(number))
                   for number, params in enumerate(proposals, start=1))
    say(f"{study.name}: {budget.trials} trials x {budget.executions} executions"
        + (f", {budget.epochs} epochs each" if budget.epochs else "")
        + ", scored on validation accuracy")
    searching = run(dataclasses.replace(options, pipelines=[], variants=trials,
                                        seeds=list(range(budget.executions))),
                    progress=progress_factory())
    store = searching.store
    best = best_trial(trial_results(study, proposals, store))
    if best is None:
        raise FashionbenchError(f"no trial of {study.name} finished; see {store.path}")
    say(f"best: trial {best.number}, validation accuracy {100 * best.score:.2f}%: "
        + ", ".join(f"{key}={value}" for key, value in sorted(best.params.items())))
    final = ((study.pipeline, (), study.baseline_label),
             (study.pipeline, tuple(sorted(best.params.items())),
              study.tuned_label(best.number)))
    finishing = run(dataclasses.replace(options, pipelines=[], variants=final, seeds=[0]),
                    progress=progress_factory())
    return searching, finishing


# ---- the report ----------------------------------------------------------------------------

def _value(value) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 0.01 else f"{value:g}"
    return str(value)


def search_markdown(study: SearchStudy, store: ResultsStore) -> tuple[str, dict]:
    """STUDY.md's text and the data of its plot."""
    profile = store.location.profile
    budget = study.budgets.get(profile)
    proposals = propose_trials(study, budget.trials) if budget else []
    stored = store.latest()
    results = trial_results(study, proposals, store, stored)
    ranked = sorted([r for r in results if r.score is not None],
                    key=lambda r: (-r.score, r.number))
    shown = ranked[:5]
    latest = [r for r in stored.values() if r.get("status") == "ok"]
    rows_by_label = {row["pipeline"]: row for row in summarise(latest)}

    # Figure 9's layout: one row per tuned setting; before tuning, our best trials, the seed's
    headers = ["layer", "hyper-parameter", "searched", "before tuning"] \
        + [f"ours #{rank} (trial {r.number})" for rank, r in enumerate(shown, start=1)] \
        + [f"seed {study.seed} #{n}" for n in range(1, max(
            (len(d.seed_trials) for d in study.space), default=0) + 1)]

    def table_row(first: list[str], ours: list[str], seeds: list[str]) -> list[str]:
        return first + ours + seeds + [""] * (len(headers) - len(first) - len(ours) - len(seeds))

    rows = [table_row([dimension.layer, dimension.label, dimension.describe(),
                       _value(dimension.seed_before_tuning)],
                      [_value(r.params.get(dimension.name)) for r in shown],
                      [_value(v) for v in dimension.seed_trials])
            for dimension in study.space]
    baseline_row = rows_by_label.get(study.baseline_label)
    rows.append(table_row(
        ["", "validation accuracy %", "",
         percent(baseline_row["validation_accuracy"]) if baseline_row else "–"],
        [f"{100 * r.score:.2f}" for r in shown], [f"{s:.2f}" for s in study.seed_scores]))
    trials_table = markdown_table(rows, headers,
                             ["left", "left", "left"] + ["right"] * (len(headers) - 3))

    best = best_trial(results)
    final_rows = []
    for label, what, seed_figure in (
            (study.baseline_label, "before tuning", study.seed_before_tuning_score),
            (study.tuned_label(best.number) if best else None, "tuned", study.seed_tuned_score)):
        row = rows_by_label.get(label) if label else None
        epochs = len(row["runs"][0].get("history") or []) if row else None
        final_rows.append([what, f"`{label}`" if label else "–",
                           percent(row["validation_accuracy"]) if row else "no result",
                           percent(row["accuracy"]) if row else "no result",
                           str(epochs) if epochs else "–",
                           f"{row['fit_seconds']:,.0f}" if row else "–",
                           "–" if seed_figure is None else f"{seed_figure:.2f}"])
    final_table = markdown_table(final_rows, ["model", "stored as", "val acc %", "test acc %",
                                         "epochs", "fit s", f"seed {study.seed} val acc %"],
                            ["left", "left"] + ["right"] * 5)
    first = latest[0] if latest else None
    hardware = sorted({hardware_label(r["env"]) for r in latest})
    finished = sum(1 for r in results if r.score is not None)
    budget_text = (f"{budget.trials} trials x {budget.executions} execution(s)"
                   + (f" x {budget.epochs} epochs" if budget.epochs else "")
                   + f", Optuna RandomSampler(seed={study.sampler_seed})"
                   if budget else "no budget for this profile")
    lines = [
        f"# Study `{study.name}`: {study.title}", "",
        f"Generated from [runs.jsonl](runs.jsonl) by `python run_all.py --report-only`; run it "
        f"with `python run_all.py --study {study.name}`.", "",
        f"Profile `{profile}` ({budget_text}; {finished} of {len(results)} trials scored), "
        f"split `{study.split}`"
        + (f" (fingerprint `{first['split']['fingerprint']}`, {first['sizes']['train']:,} "
           f"training images)" if first else "")
        + (f", hardware: {'; '.join(hardware)}" if hardware else "") + ".", "",
        "A trial's score is its validation accuracy (best epoch), averaged over its "
        "executions; the test split is used only for the two models below.", "",
    ]
    if study.notes:
        lines += [study.notes, ""]
    lines += ["## The best trials (the seed's Figure 9, 10 and 11 in one table)", "",
              trials_table, "", "## Before and after tuning", "", final_table, ""]
    plot = {"trials": [(r.number, r.score, r.params.get("learning_rate")) for r in results
                       if r.score is not None],
            "seed_scores": [s / 100 for s in study.seed_scores],
            "seed_rates": next((list(d.seed_trials) for d in study.space
                                if d.name == "learning_rate"), [])}
    return "\n".join(lines), plot
