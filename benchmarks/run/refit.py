"""Refit: the standard last step of model selection, trained on train + validation.

Everything about a pipeline is chosen on the validation split first (its settings, and for a
network the epoch count, by early stopping); the refit then trains that same configuration
once more on the training and the validation images together (60,000 for ``standard``) and
scores it on the test set, as the published Fashion-MNIST results do. There is no hold-out
left, so a refit record has no validation score and nothing is chosen from it.

A refit is stored as ``NAME[refit]``, so it never ranks as the pipeline itself: its row
carries the mark and its 60,000 training images. A classical pipeline refits with its
settings as they are, and a boosted one for the rounds its early stopping kept. A network
refits for the epochs of its validation run up to the best one, each at the learning rate
that run's schedule had reached (seed 000's plateau schedule lowers the rate when the
validation accuracy stalls, which a refit cannot observe: it replays the rates instead),
with no early stopping, and ends with its last epoch's weights. A network whose schedule
and epochs were fixed in advance (a recipe's cosine decay over its whole budget) had
nothing chosen on validation: its refit trains the same recipe on more images.
"""

from __future__ import annotations

from ..records.record import Record
from .context import Job


def refit_overrides(chosen: Record) -> tuple[tuple[str, object], ...]:
    """What a refit of ``chosen`` (an ok record of the validation run) adds to its overrides:
    what early stopping chose on the validation split (a boosted model's rounds); for a
    network, its best epoch count and the learning rate of each of those epochs; nothing
    for a pipeline whose settings are all fixed, a network trained to a fixed recipe
    included (``fixed_in_advance``)."""
    model = chosen.get("model") or {}
    if model.get("chosen_on_validation"):  # boosting rounds kept by early stopping
        return tuple(sorted(model["chosen_on_validation"].items()))
    history = chosen.get("history") or []
    if chosen.get("family") != "deep" or not history or fixed_in_advance(model):
        return ()
    best = (chosen.get("model") or {}).get("best_epoch") or len(history)
    rates = tuple(float(epoch["learning_rate"]) for epoch in history[:best])
    return (("epochs", int(best)), ("early_stopping", False), ("schedule", "steps"),
            ("learning_rates", rates))


def fixed_in_advance(model: dict) -> bool:
    """Whether a network's training was fixed before it saw a validation image: a whole
    epoch budget (no early stopping) under a schedule that does not watch validation (a
    recipe's warm-up and cosine decay). Nothing was chosen, so its refit trains the same
    recipe; replaying its per-epoch rates would lose the warm-up and spend the last epoch at
    the rate 0 its cosine reaches at the very last step."""
    params = model.get("params") or {}
    return params.get("early_stopping") is False and params.get("schedule") == "cosine"


def refit_job(job: Job, chosen: Record) -> Job:
    """The refit of ``job`` (its validation run), configured from that run's record."""
    return Job(job.pipeline, job.dataset, job.split, job.profile, job.seed,
               overrides=job.overrides + refit_overrides(chosen), label=job.label,
               refit_of=trained_run(chosen), precision=job.precision,
               temperature=((chosen.get("model") or {}).get("calibration") or {}).get(
                   "temperature"))


def trained_run(record: Record) -> str:
    """The run that trained ``record``'s model: its own, or for a record ``--evaluate``
    made (the same model, a metric added) the run it was made from, so that adding a metric
    does not make its refit look out of date."""
    return (record.get("evaluated") or {}).get("from_run") or record["run_id"]
