"""A search study's spec and trials: its space and budgets, the trials Optuna proposes
(seeded, so every run proposes the same ones), and their stored scores.

How a search runs is run/search.py; its report, reports/studies.py."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import FashionbenchError

if TYPE_CHECKING:  # types only: trials are read from a store the caller opened
    from ..records.store import ResultsStore

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
