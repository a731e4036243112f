"""User-facing errors: one line that names the problem and the fix, never a traceback."""


class FashionbenchError(Exception):
    """An error the CLI reports as a single line and a non-zero exit status."""

    exit_code = 2


class DataError(FashionbenchError):
    """A dataset file is missing, truncated, corrupt or not the genuine one."""


class DownloadError(DataError):
    """A dataset could not be fetched or the fetched file failed its checksum."""


class UnknownNameError(FashionbenchError):
    """A pipeline, dataset, split or profile name that does not exist."""


class StoreError(FashionbenchError):
    """The results store cannot be read or written."""


def unknown_name(kind: str, name: str, known: list[str] | tuple[str, ...]) -> UnknownNameError:
    """An error for an unknown name that suggests the closest known ones."""
    import difflib

    close = difflib.get_close_matches(name, known, n=3, cutoff=0.5)
    hint = f"did you mean {', '.join(close)}?" if close else f"known: {', '.join(sorted(known))}"
    return UnknownNameError(f"unknown {kind} {name!r}: {hint}")
