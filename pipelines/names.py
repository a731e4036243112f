"""Which names may become part of a file's path: a pipeline's (figures are named after it),
a dataset's and a profile's (a store is ``<dataset>/<profile>/``), a split's and a study's.

A name is made by a plugin, a user's data folder, a study file or a store merged from another
machine, and ends up as one part of a path under ``--results-dir``: one with ``/`` or ``..``
in it would write elsewhere. Everything the product names today stays allowed
(``mcnn@modern``, ``hog-svm[refit]``, ``mcnn[batch_size=32]``, ``pca-knn[trial=03]``,
``fashion-mnist``); what is refused is what a file system reads as more than one plain name.
Imports nothing of the project: the records' reader stands on it at the bottom of the stack
(pipelines/errors.py's ``unsafe_name`` makes the error where a name is made).
"""

from __future__ import annotations

import unicodedata

# long enough for a study's label with several settings, short enough that a figure's file
# name (prefix + kind + name + ".png") stays under the common 255-byte limit
MAX_NAME_LENGTH = 120
SEPARATORS = ("/", "\\")


def path_part_problem(name: object) -> str | None:
    """Why ``name`` may not be one part of a path, or None when it may: a non-empty string
    of at most MAX_NAME_LENGTH characters (and 4 bytes each), without a path separator, a
    control or format character (NUL, newline, a bidi override), not ``.`` nor ``..`` and
    without leading or trailing spaces."""
    if not isinstance(name, str):
        return f"is a {type(name).__name__}, not a string"
    if not name:
        return "is empty"
    if len(name) > MAX_NAME_LENGTH:
        return f"is {len(name)} characters long (at most {MAX_NAME_LENGTH})"
    if name in (".", ".."):
        return f"is {name!r}, a folder of the path itself"
    if any(separator in name for separator in SEPARATORS):
        return "contains a path separator ('/' or '\\')"
    if any(unicodedata.category(char) in ("Cc", "Cf", "Cs", "Zl", "Zp") for char in name):
        return "contains a control character (NUL, a newline, ...)"
    if name != name.strip():
        return "starts or ends with a space"
    return None

