"""The errors every layer raises: one line that names the problem and the fix, never a
traceback (the command line prints them as such and exits with their code)."""


class FashionbenchError(Exception):
    """An error the CLI reports as a single line and a non-zero exit status."""

    exit_code = 2


class UnknownNameError(FashionbenchError):
    """A pipeline, recipe, dataset, split or profile name that does not exist."""


def unknown_name(kind: str, name: str, known: list[str] | tuple[str, ...]) -> UnknownNameError:
    """An error for an unknown name that suggests the closest known ones."""
    import difflib

    close = difflib.get_close_matches(name, known, n=3, cutoff=0.5)
    hint = f"did you mean {', '.join(close)}?" if close else f"known: {', '.join(sorted(known))}"
    return UnknownNameError(f"unknown {kind} {name!r}: {hint}")
