"""What the pipeline knows of a capture between its two halves (extraction, then storing).

:mod:`tasks.pipeline` reads pending captures and prepares each one outside any transaction;
:mod:`tasks.versioning` stores a prepared batch in one. These are the values that pass
between them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from processing.dedup import Signature
from processing.extract import ExtractedArticle


@dataclass(frozen=True)
class Outcome:
    """What processing did with one capture, for summaries and tests."""

    capture_id: int
    # new_article | new_version | unchanged | not_article | skipped | already_done | error
    result: str
    article_id: int | None = None
    version: int | None = None
    note: str | None = None


@dataclass(frozen=True)
class PendingCapture:
    """The columns of a capture (and of its crawl's site) that processing reads."""

    id: int
    url: str
    canonical_url: str
    fetched_at: datetime
    kind: str
    record_type: str
    record_id: str
    refers_to_record_id: str | None
    warc_name: str
    warc_offset: int
    process_state: str
    site_id: int | None
    site: dict[str, Any]
    # A browser capture's rendered DOM record (what extraction reads), else None.
    dom_warc_name: str | None = None
    dom_warc_offset: int | None = None


@dataclass(frozen=True)
class Rejected:
    """Extraction found no article, or failed: recorded on the capture, nothing stored."""

    state: str  # skipped | error
    result: str  # not_article | error
    note: str


@dataclass(frozen=True)
class Revisit:
    """A revisit record: linked to the version its original payload became."""


@dataclass(frozen=True)
class Cleaned:
    """An extracted article, cleaned and fingerprinted, ready to be stored."""

    extracted: ExtractedArticle
    title: str
    text: str
    digest: str  # content_hash: equal means unchanged
    key: str  # matching key of title and text: the search document and the signature's input
    sig: Signature
    charset_note: str


Prepared = Rejected | Revisit | Cleaned
