"""Reading feeds (RSS 2.0, RSS 1.0/RDF, Atom) and sitemaps: which URLs they name, and when.

Shared by the spider and the probe. Pure: bytes in, entries out.
"""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import lxml.etree
from scrapy.utils.gz import gunzip
from scrapy.utils.sitemap import Sitemap

__all__ = ["NewsSitemap", "parse_date", "parse_feed", "sitemap_entries"]


def parse_date(text: str | None) -> datetime | None:
    """A feed/sitemap date (RFC 822 or ISO 8601) as UTC-aware datetime; None if unparsable."""
    if not text:
        return None
    text = text.strip()
    try:
        value = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        try:
            value = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _local(tag: Any) -> str:
    return tag.rpartition("}")[2].lower() if isinstance(tag, str) else ""


def parse_feed(body: bytes) -> list[tuple[str, datetime | None]]:
    """(link, date) of each entry of an RSS 2.0 / RSS 1.0 (RDF) / Atom feed, tolerantly."""
    parser = lxml.etree.XMLParser(
        recover=True, resolve_entities=False, no_network=True, remove_comments=True
    )
    try:
        root = lxml.etree.fromstring(body.lstrip(), parser=parser)
    except lxml.etree.XMLSyntaxError:
        return []
    if root is None:
        return []
    entries: list[tuple[str, datetime | None]] = []
    for entry in root.iter():
        if _local(entry.tag) not in ("item", "entry"):
            continue
        link: str | None = None
        published: datetime | None = None
        updated: datetime | None = None
        for child in entry:
            name = _local(child.tag)
            if name == "link":
                href = child.get("href")
                rel = child.get("rel", "alternate")
                if href and rel == "alternate" and link is None:
                    link = href.strip()
                elif not href and child.text and child.text.strip() and link is None:
                    link = child.text.strip()
            elif name == "guid" and link is None and child.get("isPermaLink") == "true":
                link = (child.text or "").strip() or None
            elif name in ("pubdate", "published", "date", "issued") and published is None:
                published = parse_date(child.text)
            elif name in ("updated", "modified") and updated is None:
                updated = parse_date(child.text)
        if link is None and entry.get("{http://www.w3.org/1999/02/22-rdf-syntax-ns#}about"):
            link = entry.get("{http://www.w3.org/1999/02/22-rdf-syntax-ns#}about")
        if link:
            # The publication date decides "newer than N days"; an update date is a fallback.
            entries.append((link, published or updated))
    return entries


class NewsSitemap(Sitemap):
    """Scrapy's tolerant sitemap parser, also keeping Google News' news:publication_date."""

    def _process_sitemap_element(self, elem: lxml.etree._Element) -> dict[str, Any] | None:
        published = None
        for el in elem.iter():
            if _local(el.tag) == "publication_date" and el.text:
                published = el.text.strip()
                break
        entry = super()._process_sitemap_element(elem)
        if entry is not None and published:
            entry["publication_date"] = published
        return entry


def sitemap_entries(body: bytes, max_size: int) -> tuple[str, list[dict[str, Any]]]:
    """(type, entries) of a sitemap or sitemap index; gzip files are unpacked (size-capped)."""
    if body[:2] == b"\x1f\x8b":
        body = gunzip(body, max_size=max_size)
    try:
        sitemap = NewsSitemap(body.lstrip())
    except (lxml.etree.XMLSyntaxError, StopIteration):
        return "", []
    return sitemap.type, list(sitemap)
