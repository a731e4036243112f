"""The harness's own errors (data, downloads, the store), on top of pipelines.errors."""

from pipelines.errors import FashionbenchError, UnknownNameError, unknown_name

__all__ = ["DataError", "DownloadError", "FashionbenchError", "StoreError", "UnknownNameError",
           "unknown_name"]


class DataError(FashionbenchError):
    """A dataset file is missing, truncated, corrupt or not the genuine one."""


class DownloadError(DataError):
    """A dataset could not be fetched or the fetched file failed its checksum."""


class StoreError(FashionbenchError):
    """The results store cannot be read or written."""
