"""What storage needs to know of the configuration, as a structural type.

Storage sits below the configuration (``newsvault.config.Settings`` is read by front ends
and services only), so it declares the few values it reads here and is typed against that.
``Settings`` satisfies :class:`StorageConfig` as it is: callers keep passing it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol


class StorageConfig(Protocol):
    """The index database and the WARC folder, and how WARC files are written."""

    @property
    def index_url(self) -> str:
        """SQLAlchemy URL of the index database."""
        ...

    @property
    def warc_dir(self) -> Path:
        """The folder holding every WARC file (closed and ``.open``)."""
        ...

    @property
    def warc_max_size(self) -> int:
        """A WARC file is rotated once it is past this many bytes."""
        ...

    @property
    def warc_fsync_every(self) -> int:
        """The open WARC file is fsynced at least every this many records."""
        ...

    def ensure_home(self) -> None:
        """Create the WARC folder (and the data folder above it), or raise a clear error."""
        ...
