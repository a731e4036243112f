"""The harness's own errors (data, downloads, the store), on top of pipelines.errors."""

from pipelines.errors import (
    FashionbenchError,
    UnknownNameError,
    WriteError,
    unknown_name,
    write_error,
)

__all__ = ["DataError", "DownloadError", "FashionbenchError", "StoreError", "StoreWriteError",
           "UnknownNameError", "WriteError", "unknown_name", "write_error"]


class DataError(FashionbenchError):
    """A dataset file is missing, truncated, corrupt or not the genuine one."""


class DownloadError(DataError):
    """A dataset could not be fetched or the fetched file failed its checksum."""


class StoreError(FashionbenchError):
    """The results store cannot be read or written."""


class StoreWriteError(StoreError, WriteError):
    """The disk refused the store a write (full, read-only): exit status 1, as WriteError."""
