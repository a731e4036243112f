"""The errors every layer raises: one line that names the problem and the fix, never a
traceback (the command line prints them as such and exits with their code)."""

import errno


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


class UnsafeNameError(FashionbenchError, ValueError):
    """A name that cannot be one part of a path (pipelines/names.py): a pipeline's, a
    dataset's, a study's. A ValueError too, as registering a pipeline raises for bad input."""


def unsafe_name(what: str, name: object, problem: str) -> UnsafeNameError:
    """The error for ``name`` (a ``what``: "pipeline name", "dataset name", ...) that
    ``pipelines.names.path_part_problem`` refused for ``problem``."""
    shown = repr(name)
    shown = shown if len(shown) <= 60 else shown[:57] + "..."
    return UnsafeNameError(f"{what} {shown} {problem}: it names files under the results "
                           f"directory; use letters, digits and -_.@[]=+ instead")


class WriteError(FashionbenchError):
    """The disk refused a file (full, read-only, not ours): the machine's state, not a bad
    argument, hence exit status 1 rather than the usage errors' 2. Any layer writes files
    (the harness its results, a network its checkpoints): one error for all."""

    exit_code = 1


# the disk is full or the file too large: room is what is missing, not permission
_NO_ROOM = {errno.ENOSPC, errno.EFBIG, errno.EDQUOT}
_NOT_A_FOLDER = {errno.ENOTDIR, errno.EEXIST}


def write_error(path, error: OSError, consequence: str = "",
                kind: type[WriteError] = WriteError) -> WriteError:
    """One line for an OSError met writing ``path`` (None: the file the error names): the
    path, the system's cause, what it did not change (``consequence``) and the fix that fits
    the cause."""
    cause = error.strerror or str(error)
    fix = ("free space or choose another --results-dir" if error.errno in _NO_ROOM
           else "make it writable or choose another --results-dir")
    where = path if path is not None else error.filename or "a file"
    problem = kind(f"cannot write {where}: {cause}; "
                   + (f"{consequence}; " if consequence else "") + fix)
    if error.errno in _NOT_A_FOLDER:  # a file given where a folder goes: the argument's fault
        problem.exit_code = FashionbenchError.exit_code
    return problem
