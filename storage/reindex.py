"""Moved: kept only so ``crawler/__main__.py`` imports until it says ``storage.recovery``.

``newsvault reindex`` is :func:`tasks.reindex.reindex`; the storage half of it is
:mod:`storage.warc_scan` (reading WARC files back into rows) and :mod:`storage.index_rows`
(writing them); crash recovery at crawl start is :mod:`storage.recovery`. Delete this module
once nothing imports it.
"""

from __future__ import annotations

from storage.recovery import recover_and_index
from storage.warc_scan import warc_paths

__all__ = ["recover_and_index", "warc_paths"]
