"""Fitted models kept after their jobs, outside results/, so that a metric added later (the
corruption suite, calibration) is computed by ``run_all.py --evaluate`` from the model that
made a record instead of by retraining it.

One folder per ok job under the cache root (default $FASHIONBENCH_MODEL_CACHE, else the user
cache), written by pipelines/saving.py: a joblib file, and a network's ``.keras`` file. The
record names the folder, each file's size and SHA-256 (``saved_model``). Size policy: the
cache holds at most ``cap_bytes`` (default 5 GiB, ``--model-cache-gb``); after each save the
oldest folders are removed first until it fits, so a record may name a model that is gone:
``--evaluate`` then says so and the job is rerun instead.

Trust: joblib files are pickles. Only a folder under this machine's cache root whose files
match the record's digests is loaded; a record from a merged store names another machine's
path, which is refused before anything is opened.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from pipelines.saving import PIPELINE_FILE, load_pipeline, save_pipeline

from ..errors import StoreError
from ..records.record import Record

MODEL_CACHE_ENV = "FASHIONBENCH_MODEL_CACHE"
DEFAULT_CAP_BYTES = 5 * 2**30
PARTIAL = ".partial"  # a folder being written; never loaded, removed by the next prune


def default_model_cache() -> Path:
    """$FASHIONBENCH_MODEL_CACHE, else the user cache: never under results/."""
    configured = os.environ.get(MODEL_CACHE_ENV)
    if configured:
        return Path(configured)
    import platformdirs

    return Path(platformdirs.user_cache_dir("fashionbench")) / "models"


def file_digest(path: Path) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


@dataclass(frozen=True)
class ModelCache:
    root: Path
    cap_bytes: int = DEFAULT_CAP_BYTES

    def keep(self, pipeline, record: Record) -> dict:
        """Save a fitted pipeline for ``record`` (an ok one); what the record keeps of it."""
        # every part of the folder's name comes from the record: only safe characters stay
        readable = re.sub(r"[^A-Za-z0-9_.@=-]+|^\.+", "_", "-".join(
            [str(record[key])[:60] for key in ("dataset", "profile", "name")]
            + [f"seed{record['seed']}", record["run_id"][:12]]))
        directory = self.root / readable
        partial = directory.with_name(directory.name + PARTIAL)
        shutil.rmtree(partial, ignore_errors=True)
        try:
            files = save_pipeline(pipeline, partial)
            os.replace(partial, directory)  # the whole folder or none of it
        finally:
            shutil.rmtree(partial, ignore_errors=True)
        kept = {"directory": str(directory),
                "files": {path.name: file_digest(directory / path.name) for path in files},
                "bytes": sum((directory / path.name).stat().st_size for path in files)}
        self.prune(keep=directory)
        return kept

    def load(self, saved: dict | None):
        """The pipeline a record's ``saved_model`` names, after checking it is this cache's
        and unchanged. Raises StoreError saying why it cannot be loaded."""
        if not saved or not isinstance(saved.get("files"), dict):
            raise StoreError("no saved model (trained before models were kept, or with "
                             "--no-model-cache)")
        directory = Path(str(saved.get("directory", "")))
        if not self.holds(saved):
            raise StoreError(f"its model {directory} is not in this machine's model cache "
                             f"{self.root} (a record run elsewhere); not loaded")
        for name, digest in saved["files"].items():
            path = directory / str(name)
            if not path.is_file():
                raise StoreError(f"its model {directory} is gone (removed by the cache's "
                                 f"size cap, or by hand)")
            if file_digest(path) != digest:
                raise StoreError(f"{path} has changed since its record was written; not "
                                 f"loaded")
        return load_pipeline(directory)

    def holds(self, saved: dict | None) -> bool:
        """Whether a record's ``saved_model`` names a kept model's folder of this cache, with
        the pipeline's file among its digests (not whether the files are still there and
        unchanged: ``load`` checks that). A merged record's text is untrusted: a name this
        system cannot even resolve is simply not this cache's."""
        if not isinstance(saved, dict) or not isinstance(saved.get("files"), dict) \
                or PIPELINE_FILE not in saved["files"]:
            return False
        try:
            directory = Path(str(saved.get("directory", ""))).resolve()
            return (directory.parent == self.root.resolve()
                    and not directory.name.endswith(PARTIAL))
        except (OSError, ValueError, RuntimeError):  # a null byte, a loop of links
            return False

    def prune(self, keep: Path | None = None) -> list[Path]:
        """Remove the oldest folders until the cache fits its cap; the folders removed."""
        if not self.root.is_dir():
            return []
        entries = []
        for entry in self.root.iterdir():
            if entry.is_dir():
                size = sum(f.stat().st_size for f in entry.rglob("*") if f.is_file())
                entries.append((entry.stat().st_mtime, entry, size))
        total = sum(size for _, _, size in entries)
        removed = []
        for _, entry, size in sorted(entries, key=lambda item: item[0]):
            if total <= self.cap_bytes:
                break
            if keep is not None and entry == keep:
                continue
            shutil.rmtree(entry, ignore_errors=True)
            total -= size
            removed.append(entry)
        return removed
