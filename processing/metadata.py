"""Article metadata from the page: JSON-LD, `<meta>` tags, the markup, site selectors, and
trafilatura's own metadata (htmldate for the date) as the last resort (pure).

Each field reads its sources in order of trust: a site selector first, then JSON-LD
(`NewsArticle` and friends, also inside `@graph` and lists), then OpenGraph/meta tags, then
the fallback.
"""

from __future__ import annotations

import html as html_lib
import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin

import lxml.html
from bs4 import BeautifulSoup

from processing.page_metadata import PageMetadataFields
from processing.text import SELECTOR_ERRORS, tidy
from vocabulary.schema_org import ARTICLE_TYPES

_SITE_SEPARATORS = (" | ", " - ", " – ", " — ", " :: ", " · ", " « ", " » ")
_BYLINE_PREFIX_RE = re.compile(r"^(by|بقلم|كتب|کتب)\s*[:：]?\s+", re.IGNORECASE)

# ---------------------------------------------------------------------------------------------
# Sources


@dataclass
class MetaTags:
    """`<meta>` values by lower-cased property/name/itemprop, in document order."""

    values: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def from_tree(cls, tree: lxml.html.HtmlElement) -> MetaTags:
        meta = cls()
        for element in tree.iter("meta"):
            content = element.get("content")
            if content is None or not content.strip():
                continue
            for attr in ("property", "name", "itemprop", "http-equiv"):
                key = element.get(attr)
                if key:
                    meta.values.setdefault(key.strip().lower(), []).append(tidy(content))
        return meta

    def first(self, *keys: str) -> str | None:
        for key in keys:
            found = self.values.get(key)
            if found:
                return found[0]
        return None

    def all(self, key: str) -> list[str]:
        return list(self.values.get(key, []))


class FallbackMetadata:
    """trafilatura's metadata, each field computed on first use: the last-resort source.

    On pages with JSON-LD and OpenGraph it is rarely asked for; when it is, most pages lack
    one field or two (the site name above all), and the author, category and tag searches
    cost as much as the main text: only the fields asked for are searched."""

    def __init__(self, tree: lxml.html.HtmlElement, url: str) -> None:
        self._fields = PageMetadataFields(tree, url or None)

    def field(self, name: str) -> str | None:
        value = self._guarded(lambda: self._fields.text(name))
        return tidy(value) if isinstance(value, str) and value.strip() else None

    def strings(self, name: str) -> list[str]:
        value = self._guarded(getattr(self._fields, name)) or []
        return [tidy(v) for v in value if isinstance(v, str) and v.strip()]

    @staticmethod
    def _guarded(search: Callable[[], Any]) -> Any:
        try:
            return search()
        except Exception:  # a third-party parser on hostile input: "found nothing"
            return None


def json_ld_article(tree: lxml.html.HtmlElement) -> dict[str, Any]:
    """The first Article-like JSON-LD object on the page (also inside @graph/lists), or {}."""
    for script in tree.xpath("//script[@type='application/ld+json']"):
        raw = (script.text or "").strip()
        if raw.startswith("<!--"):
            raw = raw.removeprefix("<!--").removesuffix("-->")
        try:
            data = json.loads(raw, strict=False)
        except ValueError:
            continue
        for node in _ld_nodes(data):
            if _ld_types(node) & ARTICLE_TYPES:
                return node
    return {}


def _ld_nodes(data: Any, depth: int = 0) -> Iterator[dict[str, Any]]:
    if depth > 5:
        return
    if isinstance(data, list):
        for item in data:
            yield from _ld_nodes(item, depth + 1)
    elif isinstance(data, dict):
        yield data
        yield from _ld_nodes(data.get("@graph"), depth + 1)
        yield from _ld_nodes(data.get("mainEntity"), depth + 1)


def _ld_types(node: dict[str, Any]) -> set[str]:
    kind = node.get("@type")
    kinds = kind if isinstance(kind, list) else [kind]
    return {k.lower().rsplit("/", 1)[-1] for k in kinds if isinstance(k, str)}


def ld_text(value: Any) -> str | None:
    """A JSON-LD value as tidy text (the first of a list), or None."""
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, str) and value.strip():
        return tidy(html_lib.unescape(value))
    return None


def _ld_name(value: Any) -> str | None:
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, dict):
        return ld_text(value.get("name"))
    return ld_text(value)


def _ld_url(value: Any) -> str | None:
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, dict):
        return ld_text(value.get("url") or value.get("@id"))
    return ld_text(value)


def selected_text(soup: BeautifulSoup | None, selector: str | None) -> list[str]:
    """Texts (or datetime/content attributes) of the elements a site selector picks."""
    if soup is None or not selector:
        return []
    try:
        found = soup.select(selector)
    except SELECTOR_ERRORS:  # an invalid selector must not stop extraction
        return []
    texts = []
    for element in found:
        value = element.get("datetime") or element.get("content") or element.get_text(" ")
        if isinstance(value, str) and tidy(value):
            texts.append(tidy(value))
    return texts


# ---------------------------------------------------------------------------------------------
# Fields


def site_name(ld: dict[str, Any], meta: MetaTags, fallback: FallbackMetadata) -> str | None:
    return meta.first("og:site_name") or _ld_name(ld.get("publisher")) or fallback.field("sitename")


def title(
    tree: lxml.html.HtmlElement,
    ld: dict[str, Any],
    meta: MetaTags,
    fallback: FallbackMetadata,
    site: str | None,
    soup: BeautifulSoup | None,
    selector: str | None,
) -> str | None:
    """The headline exactly as the page shows it.

    The `<h1>` is what readers see; og:title and <title> often carry " | Site" and JSON-LD
    headlines are sometimes truncated (Google's 110-character advice), so a visible h1 wins
    and the others are fallbacks, stripped of a site-name suffix."""
    return _page_title(tree, ld, meta, site, soup, selector) or fallback.field("title")


def _page_title(
    tree: lxml.html.HtmlElement,
    ld: dict[str, Any],
    meta: MetaTags,
    site: str | None,
    soup: BeautifulSoup | None,
    selector: str | None,
) -> str | None:
    chosen = selected_text(soup, selector)
    if chosen:
        return chosen[0]
    candidates = [
        c
        for c in (
            ld_text(ld.get("headline")),
            meta.first("og:title"),
            meta.first("twitter:title"),
            tidy(tree.findtext(".//title") or ""),
        )
        if c
    ]
    h1 = _headline_h1(tree, candidates, site)
    if h1:
        return h1
    for candidate in candidates:
        return _strip_site_suffix(candidate, site)
    return None


def _headline_h1(
    tree: lxml.html.HtmlElement, candidates: list[str], site: str | None
) -> str | None:
    scoped = tree.xpath("//article//h1 | //*[@itemprop='headline'] | //main//h1")
    everywhere = tree.xpath("//h1")
    texts = [tidy(e.text_content()) for e in [*scoped, *everywhere]]
    texts = [t for t in texts if t and t != site]
    # An h1 that the metadata agrees with is surely the headline.
    for text in texts:
        for candidate in candidates:
            if candidate == text or any(candidate.startswith(text + s) for s in _SITE_SEPARATORS):
                return text
    if scoped and texts:
        return texts[0]
    return texts[0] if len(set(texts)) == 1 else None


def _strip_site_suffix(text: str, site: str | None) -> str:
    if site:
        for sep in _SITE_SEPARATORS:
            if text.endswith(sep + site):
                return text[: -len(sep + site)].strip()
            if text.startswith(site + sep):
                return text[len(site + sep) :].strip()
    return text


def authors(
    ld: dict[str, Any],
    meta: MetaTags,
    fallback: FallbackMetadata,
    soup: BeautifulSoup | None,
    selector: str | None,
) -> list[str]:
    chosen = [_BYLINE_PREFIX_RE.sub("", t) for t in selected_text(soup, selector)]
    if chosen:
        return _unique(chosen)
    value = ld.get("author")
    ld_authors = [_ld_name(a) for a in (value if isinstance(value, list) else [value])]
    found = [a for a in ld_authors if a]
    if found:
        return _unique(found)
    metas = [
        m
        for key in ("author", "article:author", "parsely-author", "sailthru.author", "dc.creator")
        for m in meta.all(key)
        if not m.startswith(("http://", "https://"))
    ]
    if metas:
        return _unique(metas)
    author = fallback.field("author")
    return _unique(a.strip() for a in author.split(";")) if author else []


def section(ld: dict[str, Any], meta: MetaTags, fallback: FallbackMetadata) -> str | None:
    value = ld_text(ld.get("articleSection")) or meta.first("article:section")
    if value:
        return tidy(value)
    categories = fallback.strings("categories")
    return categories[0] if categories else None


def tags(ld: dict[str, Any], meta: MetaTags, fallback: FallbackMetadata) -> list[str]:
    keywords = ld.get("keywords")
    if isinstance(keywords, str):
        keywords = keywords.split(",")
    if isinstance(keywords, list):
        found = [tidy(k) for k in keywords if isinstance(k, str) and k.strip()]
        if found:
            return _unique(found)
    values = meta.all("article:tag") or [
        k for v in meta.all("news_keywords") or meta.all("keywords") for k in v.split(",")
    ]
    if not values:
        values = fallback.strings("tags")
    return _unique(tidy(t) for t in values if t.strip())


def top_image(
    ld: dict[str, Any], meta: MetaTags, fallback: FallbackMetadata, url: str
) -> str | None:
    declared = (
        _ld_url(ld.get("image")),
        meta.first("og:image", "og:image:url", "og:image:secure_url", "twitter:image"),
    )
    for candidate in declared:
        absolute = _http_url(candidate, url)
        if absolute:
            return absolute
    return _http_url(fallback.field("image"), url)


def canonical_url(
    tree: lxml.html.HtmlElement, ld: dict[str, Any], meta: MetaTags, url: str
) -> str | None:
    links = tree.xpath("//link[@rel='canonical']/@href")
    for candidate in (
        tidy(links[0]) if links else None,
        meta.first("og:url"),
        _ld_url(ld.get("mainEntityOfPage")) or ld_text(ld.get("url")),
    ):
        absolute = _http_url(candidate, url)
        if absolute:
            return absolute
    return None


def _http_url(candidate: str | None, base: str) -> str | None:
    if not candidate:
        return None
    try:
        absolute = urljoin(base, candidate.strip())
    except ValueError:
        return None
    return absolute if absolute.startswith(("http://", "https://")) else None


def _unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(v for v in values if v))
