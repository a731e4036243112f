"""Profiles: how much data and budget each job gets.

``smoke`` checks the wiring of the whole registry in about a minute on 2 cores (the tests use
it), ``quick`` is a laptop-CPU run, ``full`` is the papers' protocol on all the data. The
sizes used are written into every record and shown in the leaderboard.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from .errors import unknown_name


@dataclass(frozen=True)
class Profile:
    name: str
    description: str
    train_size: int | None  # cap on training images (stratified subsample); None = all
    validation_size: int | None
    test_size: int | None
    epochs: int  # upper bound on epochs for deep pipelines
    # test images scored under each corruption (a fixed stratified subset): the robustness
    # suite costs about this many images' predictions per corruption
    robustness_images: int = 2000

    def as_dict(self) -> dict:
        return asdict(self)


PROFILES: dict[str, Profile] = {
    profile.name: profile
    for profile in (
        Profile("smoke", "wiring check: tiny subsamples, a few steps; not a result",
                train_size=1000, validation_size=500, test_size=1000, epochs=1,
                robustness_images=200),
        Profile("quick", "laptop CPU budget: 10,000 training images, at most 3 epochs for a "
                "network, full validation and test, 500 images per corruption",
                # 500 corrupted images a kind (50 a class) cost a quarter of the 2,000 the
                # full profile scores: the suite was 23% of the default run's job time on
                # 2,000 (334 of 1,462 s on a 2-core Xeon); each kind's accuracy is then within
                # about 2 points (one standard error), their mean within about 0.6
                train_size=10_000, validation_size=None, test_size=None, epochs=3,
                robustness_images=500),
        Profile("full", "the papers' protocol: all the data, up to 100 epochs",
                train_size=None, validation_size=None, test_size=None, epochs=100),
    )
}
DEFAULT_PROFILE = "quick"


def get_profile(profile: str | Profile | None) -> Profile:
    if isinstance(profile, Profile):
        return profile
    name = profile or DEFAULT_PROFILE
    if name not in PROFILES:
        raise unknown_name("profile", name, list(PROFILES))
    return PROFILES[name]
