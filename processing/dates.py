"""Article dates: which of the page's date strings is the published/modified one, and
`parse_datetime` from such a string to an aware UTC datetime (pure; never raises)."""

from __future__ import annotations

import email.utils
import re
from datetime import UTC, datetime
from typing import Any

import lxml.html
from bs4 import BeautifulSoup
from dateutil import parser as date_parser

from processing.metadata import FallbackMetadata, MetaTags, ld_text, selected_text
from processing.text import tidy

_PUBLISHED_META = (
    "article:published_time",
    "og:published_time",
    "datepublished",
    "pubdate",
    "publishdate",
    "publish-date",
    "parsely-pub-date",
    "sailthru.date",
    "dc.date.issued",
    "dcterms.created",
    "dc.date",
    "date",
)
_MODIFIED_META = ("article:modified_time", "og:updated_time", "datemodified", "dc.date.modified")

# ---------------------------------------------------------------------------------------------
# Which date


def published_date(
    tree: lxml.html.HtmlElement,
    ld: dict[str, Any],
    meta: MetaTags,
    fallback: FallbackMetadata,
    soup: BeautifulSoup | None,
    selector: str | None,
) -> tuple[str | None, datetime | None]:
    """(raw string, UTC datetime) from the first source that gives a date string.

    The first string found is authoritative: if it does not parse, the result is (raw, None)
    rather than a weaker guess from further down (htmldate reads dates out of image URLs)."""
    raws = [
        *selected_text(soup, selector),
        ld_text(ld.get("datePublished")),
        ld_text(ld.get("dateCreated")),
        meta.first(*_PUBLISHED_META),
        *[tidy(v) for v in tree.xpath("//article//time/@datetime | //time[@pubdate]/@datetime")],
    ]
    raw = next((r for r in raws if r), None) or fallback.field("date")
    return raw, parse_datetime(raw) if raw else None


def modified_date(ld: dict[str, Any], meta: MetaTags) -> datetime | None:
    """The first modification date that parses (JSON-LD, then meta tags), or None."""
    for raw in (ld_text(ld.get("dateModified")), meta.first(*_MODIFIED_META)):
        parsed = parse_datetime(raw) if raw else None
        if parsed is not None:
            return parsed
    return None


# ---------------------------------------------------------------------------------------------
# Parsing a date string

# "GMT+4", "UTC -03:00": a POSIX-style offset whose sign the parsers below get wrong.
_POSIX_OFFSET_RE = re.compile(r"\b(GMT|UTC)\s*[+-]", re.IGNORECASE)
_RFC2822_RE = re.compile(r"^([A-Za-z]{3},\s*)?\d{1,2}\s+[A-Za-z]{3}\s+\d{4}\s+\d{1,2}:\d{2}")
_DIGIT_RE = re.compile(r"\d")


def parse_datetime(raw: str) -> datetime | None:
    """A date string -> aware UTC datetime, or None. Never raises.

    A string without a zone (or a bare date) is taken as UTC: the raw string is kept beside
    it, so the assumption can be revisited."""
    value = raw.strip()
    if not value:
        return None
    parsed: datetime | None = None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        parsed = _parse_loose(value)
    if parsed is None:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except (OverflowError, ValueError):
        return None


def _parse_loose(value: str) -> datetime | None:
    """A non-ISO date string: RFC 2822 (email.utils), else whatever dateutil reads."""
    # dateutil reads "GMT+4" the POSIX way (4 hours *behind*) and email.utils mangles it:
    # refuse rather than store a wrong instant (the raw string is kept).
    if _POSIX_OFFSET_RE.search(value) or not _DIGIT_RE.search(value):
        return None
    if _RFC2822_RE.match(value):
        try:
            return email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
    try:
        return date_parser.parse(value)
    except (ValueError, OverflowError, TypeError):
        return None
