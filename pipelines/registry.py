"""The pipeline registry, in timm's style: a model is one plain function with a decorator.

Three routes register pipelines: modules inside this package are discovered on first use,
installed packages declare an entry point in the ``fashionbench.pipelines`` group, and a loose
file is loaded with ``load_plugin_file`` (``--plugin FILE.py``). A plugin that fails to import
is recorded in ``plugin_failures()`` and does not stop the others.
"""

from __future__ import annotations

import fnmatch
import hashlib
import importlib
import importlib.metadata
import importlib.util
import inspect
import pkgutil
import sys
import traceback
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from .errors import FashionbenchError, UnknownNameError, unknown_name, unsafe_name
from .names import path_part_problem
from .profiles import Profile, get_profile
from .recipes import DEFAULT_RECIPE, get_recipe, split_name

ENTRY_POINT_GROUP = "fashionbench.pipelines"
FAMILIES = ("classical", "deep")
# the zoos: every module in them registers its pipelines on import (those whose names start
# with an underscore import Keras at their top, and are imported by the zoo when it builds)
ZOO_PACKAGES = ("pipelines.classical", "pipelines.deep")


@dataclass(frozen=True)
class PipelineEntry:
    name: str
    family: str
    factory: Callable[..., object]
    tags: tuple[str, ...] = ()
    source: str = ""
    description: str = ""
    # profile name -> at most this many training (validation) images for this pipeline,
    # below the profile's own cap (a CPU-sized budget); the runner subsamples, the record
    # states it. The test images are never capped: every row is scored on the same ones
    train_sizes: tuple[tuple[str, int], ...] = ()
    validation_sizes: tuple[tuple[str, int], ...] = ()
    # profile name -> why this pipeline is not offered there (no budget that fits the profile
    # says anything about it): a run of that profile leaves it out, one that names it is
    # refused, and the profile's leaderboard gives the reason instead of ranking it
    left_out_of: tuple[tuple[str, str], ...] = ()

    def left_out(self, profile: Profile | str) -> str | None:
        """Why this pipeline is not offered in ``profile``; None where it is."""
        name = profile if isinstance(profile, str) else profile.name
        return dict(self.left_out_of).get(name)

    def train_size(self, profile: Profile) -> int | None:
        """The training images this pipeline gets in ``profile`` (None: all of the split)."""
        return _smaller(profile.train_size, dict(self.train_sizes).get(profile.name))

    def validation_size(self, profile: Profile) -> int | None:
        """The validation images this pipeline is watched and scored on in ``profile``
        (None: all of the split)."""
        return _smaller(profile.validation_size, dict(self.validation_sizes).get(profile.name))


def _smaller(profile_cap: int | None, own_cap: int | None) -> int | None:
    caps = [cap for cap in (profile_cap, own_cap) if cap is not None]
    return min(caps) if caps else None


@dataclass(frozen=True)
class PluginFailure:
    source: str
    error: str


@dataclass
class _State:
    entries: dict[str, PipelineEntry] = field(default_factory=dict)
    failures: list[PluginFailure] = field(default_factory=list)
    discovered: bool = False


_STATE = _State()


class PipelineContractError(FashionbenchError):
    """A factory returned something that is not a pipeline."""


def register_pipeline(name: str, *, family: str, tags: Iterable[str] = (),
                      description: str | None = None,
                      train_sizes: Mapping[str, int] | None = None,
                      validation_sizes: Mapping[str, int] | None = None,
                      left_out_of: Mapping[str, str] | None = None):
    """Decorator: register ``factory(profile, **overrides) -> Pipeline`` under ``name``.

    ``train_sizes`` caps the training images per profile name below the profile's own cap,
    e.g. ``{"quick": 2000}``: the runner gives the pipeline a stratified subsample that size,
    and its records and the leaderboard say so. ``validation_sizes`` does the same for the
    validation images it is watched during training and scored on (a network whose inference
    is slow on a CPU); the test images are never capped. ``left_out_of`` names the profiles
    the pipeline is not offered in, each with why (``{"quick": "needs the full profile or a
    GPU"}``)."""
    if family not in FAMILIES:
        raise ValueError(f"family must be one of {FAMILIES}, not {family!r}")
    # figures and records are named after it: a plugin's "../x" must not write outside
    problem = path_part_problem(name)
    if problem is not None:
        raise unsafe_name("pipeline name", name, problem)
    caps = _caps(name, "train_sizes", train_sizes)
    validation_caps = _caps(name, "validation_sizes", validation_sizes)

    def decorate(factory: Callable[..., object]) -> Callable[..., object]:
        source = f"{factory.__module__}.{factory.__qualname__}"
        existing = _STATE.entries.get(name)
        if existing is not None and existing.source != source:
            raise ValueError(f"pipeline {name!r} is already registered by {existing.source}; "
                             f"{factory.__qualname__} in {_defined_in(factory)} cannot register "
                             f"it again: give it another name")
        doc = (factory.__doc__ or "").strip().splitlines()
        _STATE.entries[name] = PipelineEntry(
            name=name, family=family, factory=factory, tags=tuple(tags), source=source,
            description=description or (doc[0] if doc else ""), train_sizes=caps,
            validation_sizes=validation_caps,
            left_out_of=tuple(sorted((left_out_of or {}).items())),
        )
        return factory

    return decorate


def unregister_pipeline(name: str) -> None:
    """Remove ``name`` from the registry (a pipeline registered for one run only:
    pipelines/estimators.py); nothing happens when it is not there."""
    _STATE.entries.pop(name, None)


def _caps(name: str, what: str, caps: Mapping[str, int] | None) -> tuple[tuple[str, int], ...]:
    caps = tuple(sorted((caps or {}).items()))
    if any(not isinstance(cap, int) or cap < 1 for _, cap in caps):
        raise ValueError(f"{what} of {name!r} must be positive image counts: {caps}")
    return caps


def _defined_in(factory: Callable) -> str:
    try:
        return inspect.getfile(factory)
    except TypeError:
        return factory.__module__


def _record_failure(source: str, error: BaseException) -> None:
    last = traceback.extract_tb(error.__traceback__)[-1:] if error.__traceback__ else []
    where = f" ({Path(last[0].filename).name}:{last[0].lineno})" if last else ""
    _STATE.failures.append(PluginFailure(source, f"{type(error).__name__}: {error}{where}"))


def discover() -> None:
    """Import the zoos' modules and the installed entry-point plugins, once."""
    if _STATE.discovered:
        return
    _STATE.discovered = True
    for package_name in ZOO_PACKAGES:
        package = importlib.import_module(package_name)
        for module in sorted(pkgutil.walk_packages(package.__path__, prefix=f"{package_name}."),
                             key=lambda info: info.name):
            if module.name.rsplit(".", 1)[-1].startswith("_"):
                continue
            try:
                importlib.import_module(module.name)
            except Exception as error:  # a broken module must not hide the others
                _record_failure(module.name, error)
    for entry_point in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        load_entry_point(entry_point)


def load_entry_point(entry_point: importlib.metadata.EntryPoint) -> None:
    """Load one entry point: a module registers on import; a callable is called to register."""
    source = f"entry point {entry_point.name} ({entry_point.value})"
    try:
        loaded = entry_point.load()
        if callable(loaded) and not isinstance(loaded, type(sys)):
            loaded()
    except Exception as error:
        _record_failure(source, error)


def load_plugin_file(path: str | Path) -> bool:
    """Import a loose Python file so its decorated functions register; False if it failed.

    The built-in pipelines are discovered first, so that a plugin reusing one of their names
    is the one that fails (with both sources named), never the built-in module."""
    discover()
    path = Path(path)
    if not path.is_file():
        raise FashionbenchError(f"plugin file {path} does not exist; give the path to a .py file")
    digest = hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:8]
    module_name = f"fashionbench_plugin_{path.stem}_{digest}"
    if module_name in sys.modules:
        return True
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise FashionbenchError(f"plugin file {path} is not a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as error:
        del sys.modules[module_name]
        _record_failure(f"plugin file {path}", error)
        return False
    return True


def plugin_failures() -> list[PluginFailure]:
    discover()
    return list(_STATE.failures)


def pipeline_entries() -> dict[str, PipelineEntry]:
    discover()
    return dict(sorted(_STATE.entries.items()))


def list_pipelines(pattern: str | Iterable[str] = "*", *, exclude: Iterable[str] = (),
                   family: str | None = None) -> list[str]:
    """Registered names matching any of the shell-style patterns and none of ``exclude``."""
    patterns = [pattern] if isinstance(pattern, str) else list(pattern) or ["*"]
    excludes = list(exclude)
    return [
        name for name, entry in pipeline_entries().items()
        if any(fnmatch.fnmatchcase(name, p) for p in patterns)
        and not any(fnmatch.fnmatchcase(name, p) for p in excludes)
        and (family is None or entry.family == family)
    ]


def left_out(name: str, profile: Profile | str) -> str | None:
    """Why the pipeline a record or job ``name`` stands for is not offered in ``profile``
    (None where it is, or where no such pipeline is registered here)."""
    try:
        return get_entry(name).left_out(profile)
    except UnknownNameError:
        return None


def get_entry(name: str) -> PipelineEntry:
    """The registered pipeline ``name`` stands for; ``base@recipe`` names ``base``, once the
    recipe is known and ``base`` is a deep pipeline (recipes train networks)."""
    entries = pipeline_entries()
    base, recipe = split_name(name)
    if base not in entries:
        raise unknown_name("pipeline", base, list(entries))
    entry = entries[base]
    if recipe is not None:
        get_recipe(recipe)
        if entry.family != "deep":
            raise UnknownNameError(f"{name!r}: recipes train deep pipelines, and {base!r} is "
                                   f"{entry.family}; drop '@{recipe}'")
    return entry


def accepts_seed(factory: Callable[..., object]) -> bool:
    parameters = inspect.signature(factory).parameters.values()
    return any(p.name == "seed" or p.kind is p.VAR_KEYWORD for p in parameters)


def create_pipeline(name: str, profile: str | Profile | None = None, *, seed: int | None = None,
                    **overrides):
    """Build the registered pipeline ``name`` for a profile (default ``quick``).

    ``seed`` reaches factories that take a ``seed`` argument; the others are left to the
    global seeding the runner does. ``name@recipe`` builds a deep pipeline with the recipe's
    training settings, under any given as ``overrides``.
    """
    entry = get_entry(name)
    profile = get_profile(profile)
    recipe = split_name(name)[1]
    if recipe is not None:
        overrides = {**get_recipe(recipe).factory(profile), **overrides}
    if seed is not None and accepts_seed(entry.factory):
        overrides["seed"] = seed
    try:
        pipeline = entry.factory(profile, **overrides)
    except TypeError as error:
        if recipe is None:
            raise
        raise PipelineContractError(f"pipeline {entry.name!r} does not take the training "
                                    f"settings of recipe {recipe!r} ({error}); its factory "
                                    f"must accept them as keywords") from error
    missing = [method for method in ("fit", "predict", "describe")
               if not callable(getattr(pipeline, method, None))]
    if missing:
        raise PipelineContractError(
            f"pipeline {name!r}: its factory returned a {type(pipeline).__name__}, which lacks "
            f"{', '.join(missing)}; return an object with fit, predict, predict_proba, describe"
        )
    pipeline.name = name
    pipeline.family = entry.family
    if entry.family == "deep":
        pipeline.recipe = recipe or DEFAULT_RECIPE
    return pipeline
