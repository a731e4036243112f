"""Fetching dataset files from their mirrors: MD5-verified, written atomically.

A file is genuine when the MD5 of its bytes, or of its decompressed content, is the official
one (the gzip wrapper of a genuine file may differ from the official download). A download
that fails the check is removed, never left behind for the next run to trust.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..errors import DataError, DownloadError

CHUNK_BYTES = 1 << 20


@dataclass(frozen=True)
class RemoteFile:
    """One official file: its name on the mirror and its official checksums."""

    name: str
    gz_md5: str
    raw_md5: str | None = None

    @property
    def raw_name(self) -> str:
        return self.name.removesuffix(".gz")


def md5_hex(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def verified_content(path: Path, remote: RemoteFile, unwrap: Callable[..., bytes]) -> bytes:
    """The decompressed content of ``path`` after checking it is the genuine file; ``unwrap``
    decompresses (idx.unwrap: bounded, so a bomb is refused, never inflated in full).

    The file's own MD5 is checked before anything is decompressed; only a gzip file that is
    not the official one (the official data compressed again) is decompressed, to check its
    content's MD5. Raises a one-line DataError naming the file, its MD5 and the official one.
    """
    path = Path(path)
    data = path.read_bytes()
    file_md5 = md5_hex(data)
    fix = "delete it and rerun to download it again, or replace it with the official file"
    if file_md5 in (remote.gz_md5, remote.raw_md5):
        return unwrap(data, source=str(path))
    content = None
    if remote.raw_md5 is not None:
        try:
            content = unwrap(data, source=str(path))
        except DataError as error:
            raise DataError(f"{error} (file MD5 {file_md5}); {fix}") from None
        if md5_hex(content) == remote.raw_md5:
            return content
    official = remote.gz_md5 + (f" (decompressed: {remote.raw_md5})" if remote.raw_md5 else "")
    decompressed = f" (decompressed {md5_hex(content)})" if content is not None else ""
    raise DataError(f"{path}: MD5 {file_md5}{decompressed} is not the official {official}; {fix}")


def download_file(remote: RemoteFile, mirrors: tuple[str, ...], directory: Path,
                  *, timeout: float = 60.0) -> Path:
    """Fetch ``remote`` from the first mirror that answers into ``directory``.

    The file is streamed into a temporary file beside its destination and renamed into
    place only after its checksum passed, so an interrupted or bad download leaves nothing.
    """
    directory = Path(directory)
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise DownloadError(f"cannot create data directory {directory}: {error.strerror}") from None
    destination = directory / remote.name
    failures: list[str] = []
    for mirror in mirrors:
        url = mirror.rstrip("/") + "/" + remote.name
        handle, temporary_name = tempfile.mkstemp(prefix=remote.name + ".", suffix=".part",
                                                  dir=directory)
        temporary = Path(temporary_name)
        try:
            with os.fdopen(handle, "wb") as sink, \
                    urllib.request.urlopen(url, timeout=timeout) as response:
                while chunk := response.read(CHUNK_BYTES):
                    sink.write(chunk)
        except (urllib.error.URLError, OSError, TimeoutError) as error:
            temporary.unlink(missing_ok=True)
            failures.append(f"{url}: {getattr(error, 'reason', error)}")
            continue
        actual = md5_hex(temporary.read_bytes())  # a mirror serves the official .gz itself
        if actual != remote.gz_md5:
            temporary.unlink(missing_ok=True)
            raise DownloadError(
                f"downloaded {url} but its MD5 {actual} is not the official {remote.gz_md5}; "
                f"the file was removed, nothing was kept"
            ) from None
        os.replace(temporary, destination)
        return destination
    raise DownloadError(
        f"could not download {remote.name} ({'; '.join(failures)}). Without network, put the "
        f"official files in {directory} (or point --data-dir / FASHIONBENCH_DATA_DIR at them), "
        f"or try --dataset digits, which needs no download"
    )
