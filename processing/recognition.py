"""Is this page an article, a listing, or something else? One verdict, with its reason (pure).

`input_rejection` looks at the raw text before any parsing. `recognize` weighs what the page
itself shows, markup being one signal among several and never the only one:

- the crawl route: a capture reached through an article route (a site's article pattern, a
  feed, a news sitemap) is an article unless it has no text, too little, or a paywall;
- the extracted body: its words, paragraphs and how much of it is link text (judged on the
  body, not the whole page, so a big navigation never makes an article a "link list");
- the URL's shape within its site (`vocabulary.url_shape`): author, tag, section, search and
  pagination URLs are listings when the page also links to many articles and has little prose
  of its own, even when they carry article markup;
- the links to same-site, article-shaped URLs (a page linking to many articles is a listing);
- a date and the markup (JSON-LD article types, og:type, article:published_time).

A paywall verdict needs evidence: ``isAccessibleForFree`` false or ``article:content_tier``
locked, and a short visible body. The reason strings are stored with the capture and shown by
``newsvault extract``, so they stay stable.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

import lxml.html

from processing.metadata import MetaTags
from processing.text import tidy, word_count
from vocabulary.url_shape import UrlShape, url_shape

Kind = Literal["article", "listing", "other"]

MIN_WORDS = 40  # below this, without JSON-LD saying "article", it is a teaser or a stub
_MIN_WORDS_BACKED = 15  # ... when the route, or an article URL with a date, says article
_MIN_WORDS_ARTICLE_URL = 25  # ... when the URL alone has an article's shape
_PAYWALL_MAX_WORDS = 150  # a paywalled page shows at most a teaser of about this size
_LINK_LIST_RATIO = 0.5  # share of the page's words inside links on a section/index page
_BODY_LINK_RATIO = 0.5  # share of the extracted body's words inside links on a listing
_LISTING_LINKS = 8  # article links that make a listing-shaped URL a listing
_LISTING_BODY_LINKS = 5  # ... or as many article links inside the extracted text itself
_TEASER_LINK_RATIO = 0.3  # ... or whose text is this much links (headlines of teasers)
_PROSE_WORDS = 300  # a listing-shaped URL with this much unlinked prose may be an article
_WEBSITE_MAX_WORDS = 150  # og:type website, nothing else: an info page below this size
_MAX_LINKS = 1500  # links looked at per page (cost bound on huge pages)
# Characters no text page contains in bulk: C0/C1 controls and U+FFFD (undecodable bytes).
_BINARY_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffd]")
_ARTICLE_ROUTES = frozenset({"article"})
# The crawler fetched the page as a listing: a site's declared section, a pagination link, or
# a URL shaped like an author, tag or section page. With that many links of its own, it is one.
_LISTING_ROUTES = frozenset({"section"})
_LISTING_ROUTE_LINKS = 5


@dataclass(frozen=True)
class Verdict:
    """The decision and its human-readable reason (stored with the capture)."""

    is_article: bool
    kind: Kind
    reason: str


@dataclass(frozen=True)
class BodyStats:
    """What the extracted body says: its size, its link text and where its links go."""

    words: int
    paragraphs: int
    link_words: int = 0
    hrefs: tuple[str, ...] = ()
    text: str = ""  # the body's text, to find the page's link texts in it

    @property
    def link_density(self) -> float:
        return self.link_words / self.words if self.words else 0.0


def input_rejection(html: str) -> str | None:
    """Why the decoded page cannot be an article before parsing it (empty, binary), or None."""
    if not html or not html.strip():
        return "empty page"
    if _looks_binary(html):
        return "not HTML (binary or undecodable content)"
    return None


def _looks_binary(text: str) -> bool:
    """Binary junk decoded as text: many C0 controls or replacement characters up front."""
    head = text[:4096]
    return len(_BINARY_RE.findall(head)) > max(8, len(head) // 20)


@dataclass(frozen=True)
class _Markup:
    ld_types: tuple[str, ...]
    og_type: str
    published_time: bool
    weak: bool  # <article> or itemprop=articleBody in the markup

    @property
    def strong(self) -> bool:
        return bool(self.ld_types) or self.og_type == "article" or self.published_time

    def describe(self) -> str:
        if self.ld_types:
            return f"JSON-LD {self.ld_types[0]}"
        if self.og_type == "article":
            return "og:type article"
        if self.published_time:
            return "article:published_time"
        return "<article> markup" if self.weak else "no article markup"


def recognize(
    tree: lxml.html.HtmlElement,
    ld: dict[str, Any],
    meta: MetaTags,
    body: BodyStats,
    url: str,
    *,
    route: str | None = None,
) -> Verdict:
    """Article, listing or other, with the reason. The most telling evidence comes first.

    ``route``: the capture's crawl kind ("article" for an article route or a site pattern,
    "section"/"page"/... for exploration, None when unknown, as for ``newsvault extract``)."""
    words = body.words
    markup = _markup(tree, ld, meta)
    if words == 0:
        if _link_ratio(tree) >= _LINK_LIST_RATIO:
            return Verdict(False, "listing", "link list, not an article")
        return Verdict(False, "other", "no article text found")
    if _paywalled(ld, meta) and words < _PAYWALL_MAX_WORDS:
        return Verdict(False, "other", f"paywalled ({words} words visible)")
    by_route = route in _ARTICLE_ROUTES
    shape = url_shape(url) if url else None
    dated = _has_date(tree, ld, meta)
    # A short text is still an article when everything else says so (a brief, a video page).
    article_url = shape is not None and shape.role == "article"
    if by_route or (article_url and (dated or markup.strong)):
        min_words = _MIN_WORDS_BACKED
    else:
        min_words = _MIN_WORDS_ARTICLE_URL if article_url else MIN_WORDS
    if route in _LISTING_ROUTES:
        pages = {href for href, _ in _site_links(tree, url)}
        if len(pages) >= _LISTING_ROUTE_LINKS:
            return Verdict(
                False, "listing", f"listing: crawled as a section, linking to {len(pages)} pages"
            )
    if not by_route:
        listing = _listing_reason(tree, markup, body, url, shape, min_words)
        if listing:
            return Verdict(False, "listing", listing)
    if _link_list(tree, markup, words, min_words):
        return Verdict(False, "listing", "link list, not an article")
    if words < min_words and not ld:
        return Verdict(False, "other", f"too short to be an article ({words} words)")
    if not by_route and not (markup.strong or markup.weak or dated):
        other = _other_reason(markup, body, shape, route)
        if other:
            return Verdict(False, "other", other)
    return Verdict(True, "article", _article_reason(markup, body, shape, dated, by_route))


def article_rejection(
    tree: lxml.html.HtmlElement,
    ld: dict[str, Any],
    meta: MetaTags,
    words: int,
    *,
    url: str = "",
    route: str | None = None,
) -> str | None:
    """The reason this page is not an article, or None (`recognize` on a body of `words`)."""
    verdict = recognize(tree, ld, meta, BodyStats(words, 1), url, route=route)
    return None if verdict.is_article else verdict.reason


# --- listings -----------------------------------------------------------------------------------


def _listing_reason(
    tree: lxml.html.HtmlElement,
    markup: _Markup,
    body: BodyStats,
    url: str,
    shape: UrlShape | None,
    min_words: int,
) -> str | None:
    """Why this page is a listing, or None. Markup never saves a listing-shaped page."""
    links = _site_links(tree, url)
    # Links inside the body: those trafilatura kept as links, and the page's links whose text
    # the body holds (its fallback extractors flatten links into plain text).
    anchored = [(href, text) for href, text in links if text and text in body.text]
    linked = max(body.link_words, sum(word_count(text) for _, text in anchored))
    density = min(1.0, linked / body.words) if body.words else 0.0
    if shape and shape.role == "listing" and not shape.weak:
        articles = _article_shaped(href for href, _ in links)
        if len(articles) >= _LISTING_LINKS and (
            body.words - linked < _PROSE_WORDS or density >= _TEASER_LINK_RATIO
        ):
            return f"listing: {shape.reason} linking to {len(articles)} articles"
    # Markup does not save a listing-shaped URL (above), but it does save a link roundup.
    if density >= _BODY_LINK_RATIO and not markup.strong:
        in_body = _article_shaped([*body.hrefs, *(href for href, _ in anchored)])
        if len(in_body) >= _LISTING_BODY_LINKS:
            share = round(100 * density)
            return f"listing: {share}% of the text is links, to {len(in_body)} articles"
    return None


def _link_list(tree: lxml.html.HtmlElement, markup: _Markup, words: int, min_words: int) -> bool:
    """Too little text of its own on a page made of links (whatever the route)."""
    return words < min_words and not markup.strong and _link_ratio(tree) >= _LINK_LIST_RATIO


def _site_links(tree: lxml.html.HtmlElement, url: str) -> list[tuple[str, str]]:
    """The page's same-site links (href without fragment, link text when it has two words or
    more). Relative links are same-site; absolute ones are checked against the page's host."""
    host = (urlsplit(url).hostname or "") if url else ""
    found: list[tuple[str, str]] = []
    for count, anchor in enumerate(tree.iter("a")):
        if count >= _MAX_LINKS:
            break
        href = (anchor.get("href") or "").strip().split("#", 1)[0]
        if not href or href.startswith(("javascript:", "mailto:", "tel:")):
            continue
        if "//" in href[:8]:
            try:
                if (urlsplit(href).hostname or "") != host:
                    continue
            except ValueError:
                continue
        text = tidy(anchor.text_content())
        found.append((href, text if " " in text else ""))
    return found


def _article_shaped(hrefs: Iterable[str]) -> set[str]:
    """The distinct links whose URL has an article's shape."""
    return {h for h in set(hrefs) if url_shape(h).role == "article"}


def _link_ratio(tree: lxml.html.HtmlElement) -> float:
    """Share of the visible words of <body> that sit inside links."""
    body = tree.find("body")
    if body is None:
        return 0.0
    visible = body.xpath(
        ".//text()[not(ancestor::script or ancestor::style or ancestor::noscript)]"
    )
    total = word_count(" ".join(visible))
    linked = word_count(" ".join(body.xpath(".//a//text()")))
    return linked / total if total else 0.0


# --- other pages and articles -------------------------------------------------------------------


def _other_reason(
    markup: _Markup, body: BodyStats, shape: UrlShape | None, route: str | None
) -> str | None:
    """An unmarked, undated page that is not shaped like an article: an info page or a stub."""
    if shape is not None and shape.role == "article":
        return None
    if markup.og_type == "website" and body.words < _WEBSITE_MAX_WORDS:
        return f"not an article: og:type website, {body.words} words, no date or article markup"
    if route is not None and body.words < _WEBSITE_MAX_WORDS:
        return (
            f"not an article: {body.words} words, no date or article markup, "
            f"reached through a {route} route"
        )
    return None


def _article_reason(
    markup: _Markup, body: BodyStats, shape: UrlShape | None, dated: bool, by_route: bool
) -> str:
    signals = [f"{body.words} words in {body.paragraphs} paragraphs", markup.describe()]
    if dated:
        signals.append("dated")
    if by_route:
        signals.append("reached through an article route")
    elif shape is not None and shape.role == "article":
        signals.append(f"URL: {shape.reason}")
    return "article: " + ", ".join(signals)


def _markup(tree: lxml.html.HtmlElement, ld: dict[str, Any], meta: MetaTags) -> _Markup:
    kind = ld.get("@type")
    kinds = kind if isinstance(kind, list) else [kind]
    ld_types = tuple(k.rsplit("/", 1)[-1] for k in kinds if isinstance(k, str))
    if ld and not ld_types:
        ld_types = ("Article",)
    weak = tree.find(".//article") is not None or bool(tree.xpath("//*[@itemprop='articleBody']"))
    return _Markup(
        ld_types,
        (meta.first("og:type") or "").lower(),
        bool(meta.first("article:published_time")),
        weak,
    )


def _has_date(tree: lxml.html.HtmlElement, ld: dict[str, Any], meta: MetaTags) -> bool:
    """A publication date the page states (JSON-LD, meta, <time datetime>, itemprop)."""
    if ld.get("datePublished") or meta.first("article:published_time", "datepublished"):
        return True
    return bool(tree.xpath("(//time[@datetime] | //*[@itemprop='datePublished'])[1]"))


def _paywalled(ld: dict[str, Any], meta: MetaTags) -> bool:
    """Evidence of a paywall: the page says it is not free (a metered tier is not evidence)."""
    free = ld.get("isAccessibleForFree")
    if free is False or (isinstance(free, str) and free.strip().lower() in {"false", "no"}):
        return True
    return (meta.first("article:content_tier") or "").lower() == "locked"
