"""Article dates: which of the page's date strings is the published/modified one (pure).

Sources in order: the site's date selector, JSON-LD, meta tags, `<time>` in the article; then
htmldate's extensive search of markup and text (through trafilatura's metadata, which reuses the
parsed tree); then short date-like texts of the page (a `<time>`, an element whose class says
date), read in any language by `processing.date_strings`. `page_dates` runs the same search on
any page, article or not.

A date is kept three ways: the raw string, the instant in UTC (stored) and the same instant in
the page's own offset (`local`: the calendar day the page's readers saw).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import lxml.html
from bs4 import BeautifulSoup

from processing.date_strings import normalize_digits, parse_datetime, parse_local
from processing.metadata import (
    FallbackMetadata,
    MetaTags,
    json_ld_article,
    ld_text,
    selected_text,
)
from processing.text import tidy

__all__ = [
    "PageDate",
    "modified_date",
    "modified_page_date",
    "normalize_digits",
    "page_dates",
    "parse_datetime",
    "parse_local",
    "published_date",
]

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
# Visible date texts when markup and htmldate found nothing (a few, short: each may cost a
# dateparser call).
_DATE_TEXT_XPATH = (
    "//time | //*[contains(@class, 'date') or contains(@class, 'time')"
    " or contains(@id, 'date') or contains(@itemprop, 'date')]"
)
_DATE_TEXTS_TRIED = 12
_DATE_TEXT_MAX = 80


@dataclass(frozen=True)
class PageDate:
    """A date as found: `raw` string, `utc` instant, `local` (the same instant in the string's
    own offset; UTC when the string names none) and `day`, the calendar day the page's readers
    saw: local's day, or for a UTC timestamp the day the page's URL names when that is the day
    before or after (the site's own day; its offset is unknown). An unparsed string keeps raw,
    with None."""

    raw: str | None = None
    utc: datetime | None = None
    local: datetime | None = None
    day: date | None = None

    @classmethod
    def of(cls, raw: str | None, urls: Sequence[str | None] = ()) -> PageDate:
        local = parse_local(raw) if raw else None
        if local is None:
            return cls(raw)
        day = local.date()
        if raw and _UTC_STAMP_RE.search(raw):
            day = _url_day_near(day, urls) or day
        return cls(raw, local.astimezone(UTC), local, day)

    def with_raw(self, raw: str) -> PageDate:
        return PageDate(raw, self.utc, self.local, self.day)


# A time given in UTC ("...T02:18:11Z", "+00:00"): a server's clock, not the site's day.
_UTC_STAMP_RE = re.compile(r"\d:\d\d(?::\d\d(?:\.\d+)?)?\s*(?:Z|[+-]00:?00)$", re.IGNORECASE)
# /2020/02/17/, /2017/7/12/, /2020-02-17-title, /20200217/ in a path: the day a page was filed.
_URL_DAY_RE = re.compile(
    r"/((?:19|20)\d\d)([/-])(0?[1-9]|1[0-2])\2(0?[1-9]|[12]\d|3[01])(?=[/_.-]|$)"
    r"|/((?:19|20)\d\d)(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])(?=/)"
)


def url_day(urls: Sequence[str | None]) -> tuple[str, date] | None:
    """(the date segment as written, its day) of the first URL whose path names a day."""
    for url in urls:
        for match in _URL_DAY_RE.finditer(url or ""):
            groups = [g for i, g in enumerate(match.groups()) if g and i != 1]
            try:
                return match.group(0).strip("/"), date(*(int(g) for g in groups))
            except ValueError:
                continue
    return None


def _url_day_near(day: date, urls: Sequence[str | None]) -> date | None:
    """The day a URL names, when it is one day from `day` (the same instant, the site's day)."""
    found = url_day(urls)
    return found[1] if found and abs((found[1] - day).days) == 1 else None


# ---------------------------------------------------------------------------------------------
# Which date


def published_date(
    tree: lxml.html.HtmlElement,
    ld: dict[str, Any],
    meta: MetaTags,
    fallback: FallbackMetadata,
    soup: BeautifulSoup | None,
    selector: str | None,
    url: str = "",
) -> PageDate:
    """The publication date from the first source that gives a date string.

    The first string found is authoritative: if it does not parse, the result keeps the raw
    string with no value rather than a weaker guess from further down (htmldate reads dates out
    of image URLs)."""
    raws = [
        *selected_text(soup, selector),
        ld_text(ld.get("datePublished")),
        ld_text(ld.get("dateCreated")),
        meta.first(*_PUBLISHED_META),
        *[tidy(v) for v in tree.xpath("//article//time/@datetime | //time[@pubdate]/@datetime")],
    ]
    raw = next((r for r in raws if r), None) or fallback.field("date")
    if not raw:
        return _visible_date(tree)
    urls = (url, tree.xpath("string(//link[@rel='canonical']/@href)"), ld_text(ld.get("url")))
    found = PageDate.of(raw, urls)
    filed = url_day(urls) if found.day else None
    if filed and found.day and abs((filed[1] - found.day).days) > 1:
        # The URL's day is fixed when the page is filed; a metadata date days or years away
        # is a modification or a template's (htmldate also puts the URL first).
        return PageDate.of(filed[1].isoformat()).with_raw(filed[0])
    return found


def modified_date(ld: dict[str, Any], meta: MetaTags) -> datetime | None:
    """The first modification date that parses (JSON-LD, then meta tags), in UTC, or None."""
    return modified_page_date(ld, meta).utc


def modified_page_date(ld: dict[str, Any], meta: MetaTags) -> PageDate:
    """`modified_date` with its raw string and local offset kept."""
    for raw in (ld_text(ld.get("dateModified")), meta.first(*_MODIFIED_META)):
        found = PageDate.of(raw)
        if found.utc is not None:
            return found
    return PageDate()


def page_dates(
    tree: lxml.html.HtmlElement, source: str, url: str, selector: str | None = None
) -> tuple[PageDate, PageDate]:
    """(published, modified) of any page, article or not: the search `extract_article` makes,
    for pages it refuses and for callers that want only the dates."""
    meta = MetaTags.from_tree(tree)
    ld = json_ld_article(tree)
    soup = BeautifulSoup(source, "lxml") if selector else None
    fallback = FallbackMetadata(source, tree, url)
    published = published_date(tree, ld, meta, fallback, soup, selector, url)
    return published, modified_page_date(ld, meta)


def _visible_date(tree: lxml.html.HtmlElement) -> PageDate:
    """The first short date-like text of the page that parses (any language, any calendar)."""
    tried = 0
    for element in tree.xpath(_DATE_TEXT_XPATH):
        text = tidy(element.text_content() or "")
        if not text or len(text) > _DATE_TEXT_MAX:
            continue
        found = PageDate.of(text)
        if found.utc is not None:
            return found
        tried += 1
        if tried >= _DATE_TEXTS_TRIED:
            break
    return PageDate()
