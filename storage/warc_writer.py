"""The old import path of the WARC writer, kept so existing imports keep working.

The writer is now two modules: warc_records (records onto a file object) and warc_files
(naming, rotation, ``.open``, locks, fsync). New code imports from ``storage.warc`` or those.
"""

from __future__ import annotations

from storage.warc_files import (
    LIVE_PATHS,
    OPEN_SUFFIX,
    WARC_SUFFIX,
    WarcWriter,
    WrittenRecord,
    close_open_file,
    fsync_directory,
    pid_from_name,
)
from storage.warc_records import (
    CONFORMS_TO,
    KIND_HEADER,
    REVISIT_PROFILES,
    RevisitTarget,
    warc_date,
)

__all__ = [
    "CONFORMS_TO",
    "KIND_HEADER",
    "LIVE_PATHS",
    "OPEN_SUFFIX",
    "REVISIT_PROFILES",
    "WARC_SUFFIX",
    "RevisitTarget",
    "WarcWriter",
    "WrittenRecord",
    "close_open_file",
    "fsync_directory",
    "pid_from_name",
    "warc_date",
]
