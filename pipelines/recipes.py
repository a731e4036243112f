"""Training recipes: how a deep network is trained, named and registered beside the pipelines.

A deep pipeline is an architecture; a recipe is a complete training protocol (optimizer,
schedule, epochs, batch size, augmentation, regularisation, test-time augmentation) given as
``TrainingConfig`` settings. Any deep pipeline runs under any recipe: ``mcnn@modern`` is the
MCNN trained with the ``modern`` recipe, stored and ranked under that name; the bare name
``mcnn`` keeps meaning the ``seed`` recipe, seed 000's protocol. Registration follows the
pipelines' style::

    @register_recipe("modern")
    def modern(profile: Profile) -> dict: ...   # TrainingConfig settings for this profile

A recipe's settings go to the pipeline's factory as keyword settings, under the user's own
(``create_pipeline("mcnn@modern", epochs=3)`` still trains 3 epochs). No Keras here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .errors import unknown_name

if TYPE_CHECKING:  # types only: a recipe is handed a profile
    from .profiles import Profile

SEPARATOR = "@"
DEFAULT_RECIPE = "seed"


@dataclass(frozen=True)
class RecipeEntry:
    name: str
    factory: Callable[[Profile], dict]
    description: str
    source: str


_RECIPES: dict[str, RecipeEntry] = {}


def register_recipe(name: str, *, description: str | None = None):
    """Decorator: register ``factory(profile) -> dict of TrainingConfig settings``."""
    if SEPARATOR in name or not name:
        raise ValueError(f"a recipe name must be non-empty and without {SEPARATOR!r}: {name!r}")

    def decorate(factory: Callable[[Profile], dict]) -> Callable[[Profile], dict]:
        source = f"{factory.__module__}.{factory.__qualname__}"
        existing = _RECIPES.get(name)
        if existing is not None and existing.source != source:
            raise ValueError(f"recipe {name!r} is already registered by {existing.source}")
        doc = (factory.__doc__ or "").strip().splitlines()
        _RECIPES[name] = RecipeEntry(name, factory, description or (doc[0] if doc else ""),
                                     source)
        return factory

    return decorate


def recipe_entries() -> dict[str, RecipeEntry]:
    return dict(sorted(_RECIPES.items()))


def get_recipe(name: str) -> RecipeEntry:
    if name not in _RECIPES:
        raise unknown_name("recipe", name, list(_RECIPES))
    return _RECIPES[name]


def split_name(name: str) -> tuple[str, str | None]:
    """``"mcnn@modern"`` -> ``("mcnn", "modern")``; a bare name has no recipe."""
    pipeline, separator, recipe = name.partition(SEPARATOR)
    return pipeline, (recipe if separator else None)


def with_recipe(pipeline: str, recipe: str) -> str:
    """The name a pipeline's runs under ``recipe`` are stored as (the seed recipe's: bare)."""
    return pipeline if recipe == DEFAULT_RECIPE else f"{pipeline}{SEPARATOR}{recipe}"


@register_recipe(DEFAULT_RECIPE)
def seed(profile: Profile) -> dict:
    """Seed 000's protocol: Adam 1e-3, batch 128, early stopping and LR halving on plateau."""
    return {}  # TrainingConfig's defaults are this protocol


# The modern recipe's epoch budget per profile, fixed in advance (never stopped early on any
# split): chosen on the validation split by the modern-recipe-ablation study
MODERN_EPOCHS = {"smoke": 1, "quick": 10, "full": 30}


# What the full profile leaves out of the recipe, chosen on the validation split by the
# ablation's full-profile candidates (python run_all.py --study modern-recipe-ablation
# --profile full --only 'no random erasing or dropout' --only 'no augmentation or dropout'):
# on 48,000 images in 30 epochs the MCNN reached 93.98% validation accuracy without random
# erasing and dropout, 91.95% without any augmentation or dropout (its flip TTA then shows
# it mirror images it never trained on), and 92.82% with all of it (the mcnn@modern run of
# the full store, before this choice). Chosen on the MCNN, applied to every network.
MODERN_FULL_CHANGES = {"augment": ("translate", "flip"), "dropout": 0.0}


@register_recipe("modern")
def modern(profile: Profile) -> dict:
    """Augmentation in the compiled step, label smoothing, SGD-Nesterov with weight decay,
    warm-up then cosine decay, a fixed epoch budget, precise BN statistics, flip TTA; in the
    full profile translation and flips only, without random erasing or dropout."""
    return {
        "epochs": MODERN_EPOCHS.get(profile.name, profile.epochs),
        "batch_size": 128,
        "optimizer": "sgd", "momentum": 0.9, "nesterov": True,
        "learning_rate": 0.1, "weight_decay": 5e-4,
        "schedule": "cosine", "warmup_epochs": 2,
        "early_stopping": False,
        "label_smoothing": 0.1,
        "augment": ("translate", "flip", "erase"), "translate_pixels": 2,
        "erase_probability": 0.5,
        "dropout": 0.1,
        "recalibrate_batch_norm": 4096,
        "tta": "flip",
        **(MODERN_FULL_CHANGES if profile.name == "full" else {}),
    }


@register_recipe("modern-erasing")
def modern_erasing(profile: Profile) -> dict:
    """The modern recipe with random erasing kept in every profile and ten-view TTA (the
    image and its mirror, each also moved one pixel each way): an attempt at 95% on a CPU."""
    # Why: the full profile dropped erasing on the MCNN's evidence (above), but Zhong et al.
    # ("Random Erasing Data Augmentation", AAAI 2020; their code's README) report it taking
    # ResNet-20 on Fashion-MNIST from 4.39% to 4.02% test error, and resnet20@modern ends
    # its 30 epochs at 96.6% on its augmented batches against 94.5% on validation. Ten views
    # were chosen on the validation split (TTA_SHIFTS in pipelines/deep/keras_pipeline.py).
    return {**modern(profile), "augment": ("translate", "flip", "erase"),
            "tta": "flip-shifts"}


@register_recipe("modern-ten-views")
def modern_ten_views(profile: Profile) -> dict:
    """The modern recipe predicting from ten views (the image and its mirror, each also moved
    one pixel each way): what the validation split chose over modern-erasing."""
    # On the validation split, seed 0, resnet20 in bfloat16: modern with ten views 94.96%
    # (its cached model, rescored), modern-erasing 94.77%, modern as registered 94.73%
    return {**modern(profile), "tta": "flip-shifts"}


# The moving average's memory, 1 / (1 - momentum) steps, a sixth to an eighth of a run's. In
# the full profile 2,000: the last 5.3 of the validation run's 30 epochs of 375 steps and 4.3
# of the refit's 468, over which the cosine schedule falls from 6-9% of its peak to 0 (a tail
# averaged as in stochastic weight averaging, whose BN statistics are re-estimated after, as
# the recipe does). In the quick profile 100 of 780 steps (10 epochs of 78); in the smoke
# profile 2 of 7. Keras starts the average at the first step's weights, so a memory as long
# as the run would keep them. Fixed in advance, not tuned: one validation run decides.
EMA_MOMENTUM = {"smoke": 0.5, "quick": 0.99, "full": 0.9995}


@register_recipe("modern-ema")
def modern_ema(profile: Profile) -> dict:
    """modern-ten-views predicting with a moving average of the weights over about the last
    sixth of its steps (exponential; 0.9995 a step in full): an attempt at 95% on a CPU."""
    # Why: the average of the weights along the end of a run lies nearer the middle of the
    # basin the run is crossing than its last point (Polyak and Juditsky 1992; Izmailov et
    # al., "Averaging Weights Leads to Wider Optima", UAI 2018). The training itself is
    # modern-ten-views's, step for step, so one seed's validation runs compare the two.
    # Measured on resnet20 in bfloat16, seed 0: 94.95% against 94.96%, nothing gained (the
    # cosine schedule leaves the last epochs' weights within 0.13 points of each other), so
    # its refit was not run (docs/pipelines.md)
    return {**modern_ten_views(profile),
            "ema_momentum": EMA_MOMENTUM.get(profile.name, EMA_MOMENTUM["full"])}
