"""Article dates: which of the page's date strings is the published/modified one (pure).

Sources in order: the site's date selector; the head's first published-date meta tag in
document order (as htmldate reads it), unless it is the modification stamp or a bare day where
JSON-LD gives a time; JSON-LD; `<time>` in the page's first article (the day its text shows
when that differs from its attribute); then htmldate's extensive search of markup and text
(through trafilatura's metadata, which reuses the parsed tree); then short date-like texts of
the page (a `<time>`, an element whose class says date), read in any language by
`processing.date_strings`. `page_dates` runs the same search on any page, article or not.
Measured on htmldate's 1,000 annotated pages (bench/RESULTS.md).

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
_PUBLISHED_SET = frozenset(_PUBLISHED_META)
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
    def of(
        cls, raw: str | None, urls: Sequence[str | None] = (), peers: Sequence[str] = ()
    ) -> PageDate:
        """`raw` parsed; for a UTC timestamp, `peers` (the page's other date strings) and
        `urls` may name the site's own day: a peer giving the same instant with the site's
        offset first, else the URL's day when it is one day off."""
        local = parse_local(raw) if raw else None
        if local is None:
            return cls(raw)
        day = local.date()
        if raw and _UTC_STAMP_RE.search(raw):
            day = _same_instant_local_day(local, peers) or _url_day_near(day, urls) or day
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


def _same_instant_local_day(instant: datetime, peers: Sequence[str]) -> date | None:
    """The day of the first peer string naming `instant` with a non-UTC offset: a page often
    gives its publication time twice, once in UTC (JSON-LD, og:) and once in its own zone."""
    for peer in peers:
        if not _OFFSET_RE.search(peer) or _UTC_STAMP_RE.search(peer):
            continue
        local = parse_local(peer)
        offset = local.utcoffset() if local else None
        if local is not None and offset and local == instant:
            return local.date()
    return None


# A numeric offset at the end of a date-time ("+02:00", "-0800"): cheap test before parsing.
_OFFSET_RE = re.compile(r"\d:\d\d(?::\d\d(?:\.\d+)?)?\s*[+-]\d\d:?\d\d$")


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
    ld_dates = [ld_text(ld.get("datePublished")), ld_text(ld.get("dateCreated"))]
    times = [tidy(v) for v in tree.xpath("//time/@datetime")]
    article_times = tree.xpath("(//article)[1]//time[@datetime] | //time[@pubdate][@datetime]")
    in_meta = _meta_published(meta)
    if in_meta and (
        _is_modification(in_meta, ld, meta, ld_dates[0]) or _coarser(in_meta, ld_dates[0])
    ):
        in_meta = None
    raws = [
        *selected_text(soup, selector),
        in_meta,
        *ld_dates,
        *(tidy(t.get("datetime", "")) for t in article_times),
    ]
    raw = next((r for r in raws if r), None)
    if raw and article_times and raw == tidy(article_times[0].get("datetime", "")):
        shown = _shown_day(article_times[0])
        if shown is not None:
            return shown
    raw = raw or fallback.field("date")
    if not raw:
        return _visible_date(tree)
    urls = (url, tree.xpath("string(//link[@rel='canonical']/@href)"), ld_text(ld.get("url")))
    peers = [p for p in (*ld_dates, *_meta_values(meta), *times) if p and p != raw]
    found = PageDate.of(raw, urls, peers)
    filed = url_day(urls) if found.day else None
    if filed and found.day and abs((filed[1] - found.day).days) > 1:
        # The URL's day is fixed when the page is filed; a metadata date days or years away
        # is a modification or a template's (htmldate also puts the URL first).
        return PageDate.of(filed[1].isoformat()).with_raw(filed[0])
    return found


def _is_modification(
    raw: str, ld: dict[str, Any], meta: MetaTags, ld_published: str | None
) -> bool:
    """True when `raw` is the page's modification stamp (to the second) and JSON-LD names an
    other publication date: CMSs rewrite a 'date' tag on every edit."""
    stamp = parse_local(raw)
    published = parse_local(ld_published) if ld_published else None
    if stamp is None or published is None:
        return False
    if abs((published - stamp).total_seconds()) < _SAME_STAMP_SECONDS:
        return False
    modified = [ld_text(ld.get("dateModified")), *(v for k in _MODIFIED_META for v in meta.all(k))]
    for other in modified:
        when = parse_local(other) if other else None
        if when is not None and abs((when - stamp).total_seconds()) < _SAME_STAMP_SECONDS:
            return True
    return False


_SAME_STAMP_SECONDS = 2
_TIME_OF_DAY_RE = re.compile(r"\d:\d\d")


def _coarser(raw: str, ld_published: str | None) -> bool:
    """True when `raw` names a day only and JSON-LD's datePublished a time as well: the
    precise statement is the publication, the bare day often a section's or an issue's."""
    return bool(
        ld_published
        and _TIME_OF_DAY_RE.search(ld_published)
        and not _TIME_OF_DAY_RE.search(raw)
        and parse_local(ld_published)
    )


def _meta_values(meta: MetaTags) -> list[str]:
    """The published-date meta values in document order (MetaTags keeps first appearance)."""
    return [
        value for key, values in meta.values.items() if key in _PUBLISHED_SET for value in values
    ]


def _meta_published(meta: MetaTags) -> str | None:
    """The first published-date meta in document order that gives a day (as htmldate reads
    the head: the page's first such tag, whatever its name; a value without a day, such as
    a bare year, is passed over); else the first value, kept raw."""
    values = _meta_values(meta)
    return next((v for v in values if parse_local(v) is not None), values[0] if values else None)


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
    fallback = FallbackMetadata(tree, url)
    published = published_date(tree, ld, meta, fallback, soup, selector, url)
    return published, modified_page_date(ld, meta)


def _shown_day(time: lxml.html.HtmlElement) -> PageDate | None:
    """The date a `<time>` shows, when its text names a different day from its datetime
    attribute: readers saw the text (the attribute is often the last edit's)."""
    text = tidy(time.text_content() or "")
    if not text or len(text) > _DATE_TEXT_MAX:
        return None
    attribute = PageDate.of(tidy(time.get("datetime", "")))
    shown = _parse_text(text)
    if shown.day is None or attribute.day is None or shown.day == attribute.day:
        return None
    if shown.day.day <= 12 and shown.day.replace(month=shown.day.day, day=shown.day.month) == (
        attribute.day
    ):
        return None  # '01/11/2023' read month first: the attribute says which order
    return shown


def _parse_text(text: str) -> PageDate:
    """A short visible text read as a date; failing that, from its first digit on (a label
    before the date: 'Publié le 29 juin 2019', 'von Autor · 31. Oktober 2023')."""
    found = PageDate.of(text)
    if found.utc is None:
        first = _FIRST_DIGIT_RE.search(text)
        if first and first.start() > 0:
            rest = PageDate.of(text[first.start() :])
            if rest.utc is not None:
                return rest.with_raw(text)
    return found


_FIRST_DIGIT_RE = re.compile(r"\d")


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
