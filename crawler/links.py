"""Which links a page offers, which of them are pagination, and which dates are too old.

Shared by the spider (what a crawl follows) and the probe (what ``sites validate`` reports a
crawl would follow), so both read a page the same way. Pure: no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, urljoin, urlsplit

import lxml.etree
from scrapy.http import TextResponse
from scrapy.utils.response import get_base_url

__all__ = ["age_cutoff", "page_links", "pagination_links", "too_old"]

_SKIP_WORDS = (
    "jpg jpeg png gif webp svg ico bmp tif tiff avif css js mjs json woff woff2 ttf eot otf "
    "mp3 mp4 m4a m4v webm ogg ogv wav avi mov mkv flv wmv zip gz tgz bz2 xz 7z rar tar "
    "exe dmg apk iso doc docx xls xlsx ppt pptx odt ods"
)
# Linked files that are never news pages (PDFs are kept: they are archived raw).
_SKIP_EXTENSIONS = frozenset(_SKIP_WORDS.split())
# Plain strings (smart strings would look up each href's element class: measurable here).
_HREFS = lxml.etree.XPath("//a/@href", smart_strings=False)
_NOT_PAGES = ("#", "javascript:", "mailto:", "tel:", "data:")
_PAGE_PARAM = re.compile(r"^(page|p|pg|paged|start|offset)$", re.I)


def page_links(response: TextResponse) -> list[str]:
    """Absolute URLs of the page's links, each once, files and pseudo-links left out.

    Per-link work dominates a crawl's CPU (a news page has 100-200 links, mostly the same
    navigation on every page), so this reads hrefs straight from lxml (a parsel Selector
    per href cost more than the rest) and resolves each distinct href once per page.
    """
    base = get_base_url(response)
    seen: set[str] = set()
    links: list[str] = []
    for raw in _HREFS(response.selector.root):
        href = raw.strip()
        if not href or href in seen or href.startswith(_NOT_PAGES):
            continue
        seen.add(href)
        url = href if href.startswith(("http://", "https://")) else urljoin(base, href)
        # The path's extension without urlsplit: cut the query and fragment, then look
        # after the last "/" for a ".".
        last = url.partition("?")[0].partition("#")[0].rpartition("/")[2]
        if "." in last and last.rpartition(".")[2].lower() in _SKIP_EXTENSIONS:
            continue
        links.append(url)
    return links


def pagination_links(response: TextResponse, links: Iterable[str]) -> set[str]:
    """The page's "next page" links: rel=next, and ``links`` (the page's, from
    :func:`page_links`) to the same path with a page/offset query parameter."""
    pages = {
        response.urljoin(h)
        for h in response.xpath(
            '//link[@rel="next"]/@href | //a[contains(concat(" ", @rel, " "), " next ")]/@href'
        ).getall()
    }
    here = urlsplit(response.url)
    for url in links:
        there = urlsplit(url)
        if there.path == here.path and any(_PAGE_PARAM.match(k) for k, _ in parse_qsl(there.query)):
            pages.add(url)
    return pages


def age_cutoff(max_age_days: float | None, *, now: datetime | None = None) -> datetime | None:
    """The oldest date still crawled, for a site limit of ``max_age_days`` (None: no limit)."""
    if max_age_days is None:
        return None
    return (now or datetime.now(UTC)) - timedelta(days=max_age_days)


def too_old(date: datetime | None, not_before: datetime | None) -> bool:
    """Whether a feed/sitemap ``date`` is before the cutoff; an unknown date is never too old."""
    return not_before is not None and date is not None and date < not_before
