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
stopped. The spec and the trials are studies/trials.py; the report (STUDY.md,
reports/studies.py) lays the best trials out as the seed's Figure 9 does, with the seed's
own values beside ours.
"""

from __future__ import annotations

from collections.abc import Callable

from ..errors import FashionbenchError
from ..studies.trials import SearchStudy, best_trial, propose_trials, trial_results


def run_search(study: SearchStudy, options, run: Callable, progress_factory, say=print):
    """Run the trials, then the tuned and baseline models; ``options`` is a RunOptions whose
    pipelines/variants/seeds this fills in; ``run`` runs them (``runner.run``: the caller
    hands it over, so that a search decides what to run, never how). Returns the summaries
    of both phases."""
    import dataclasses

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
