"""HTML -> `ExtractedArticle` or `NotAnArticle` (pure; never raises on bad input).

The recipe, one module per step: parse (processing.text), read the page's metadata sources
(processing.metadata), take the body blocks (processing.body), decide whether it is an article
(processing.recognition), then the dates (processing.dates), the language and direction
(processing.language) and the sanitized body HTML (processing.body, processing.sanitize).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import lxml.html
from bs4 import BeautifulSoup

from processing import body, metadata
from processing.dates import modified_date, published_date
from processing.language import page_direction, page_language
from processing.recognition import input_rejection, recognize
from processing.text import clean_source, parse_html


@dataclass(frozen=True)
class Selectors:
    """Per-site CSS selectors (from the crawler's site definition); each wins where given."""

    title: str | None = None
    body: str | None = None
    author: str | None = None
    date: str | None = None


@dataclass(frozen=True)
class ExtractedArticle:
    """A cleaned article. `lead` and `notes` extend the documented contract (with defaults):
    the standfirst kept apart from the body, and remarks such as a selector that matched
    nothing."""

    title: str
    paragraphs: list[str]
    language: str | None
    authors: list[str]
    published: datetime | None
    published_raw: str | None
    modified: datetime | None
    canonical_url: str | None
    section: str | None
    tags: list[str]
    top_image: str | None
    site_name: str | None
    html: str  # sanitized (nh3) body HTML
    lead: str | None = None
    notes: tuple[str, ...] = ()
    # The calendar day the page's readers saw (`processing.dates.PageDate.day`): `published`
    # in the page's own offset; the original offset itself is `parse_local(published_raw)`.
    published_day: date | None = None
    recognition: str = ""  # why this page was taken as an article (processing.recognition)

    @property
    def text(self) -> str:
        return "\n".join(self.paragraphs)


@dataclass(frozen=True)
class NotAnArticle:
    reason: str


def extract_article(
    html: str,
    url: str,
    *,
    selectors: Selectors | None = None,
    language_hint: str | None = None,
    route: str | None = None,
) -> ExtractedArticle | NotAnArticle:
    """Extract the article from one decoded page; a `NotAnArticle` says why not.

    ``route``: how the crawler reached the page (the capture's kind: "article" for a site's
    article pattern, a feed or a news sitemap; "section", "page", ... for exploration; None
    when unknown). Recognition (processing.recognition) weighs it with the page's own signals;
    an article route wins over the URL's shape and the link graph.
    """
    rejection = input_rejection(html)
    if rejection:
        return NotAnArticle(rejection)
    source = clean_source(html)
    tree = parse_html(source)
    if tree is None:
        return NotAnArticle("no article text found (unparseable HTML)")
    try:
        return _extract(source, tree, url, selectors or Selectors(), language_hint, route)
    except Exception as exc:
        # The "never raises" boundary: hostile pages reach corners of lxml, bs4 and odd
        # JSON-LD shapes; the worker records the reason (with the error) instead of crashing.
        return NotAnArticle(f"extraction failed: {type(exc).__name__}: {exc}")


def _extract(
    source: str,
    tree: lxml.html.HtmlElement,
    url: str,
    sel: Selectors,
    hint: str | None,
    route: str | None,
) -> ExtractedArticle | NotAnArticle:
    meta = metadata.MetaTags.from_tree(tree)
    ld = metadata.json_ld_article(tree)
    fallback = metadata.FallbackMetadata(tree, url)  # last resort, computed if asked
    notes: list[str] = []
    # One bs4 parse shared by all selectors (bs4 is several times slower than lxml).
    soup = BeautifulSoup(source, "lxml") if any(vars(sel).values()) else None

    blocks = body.selector_blocks(soup, sel.body, notes) if soup and sel.body else None
    if blocks is None:
        blocks = body.trafilatura_blocks(tree, url)

    site_name = metadata.site_name(ld, meta, fallback)
    title = metadata.title(tree, ld, meta, fallback, site_name, soup, sel.title)
    blocks = body.drop_title_blocks(blocks, title)
    blocks, lead = body.split_lead(blocks, tree, ld, meta)

    verdict = recognize(tree, ld, meta, body.body_stats(blocks), url, route=route)
    if not verdict.is_article:
        return NotAnArticle(verdict.reason)
    if not title:
        return NotAnArticle("no headline found")

    blocks = body.drop_link_teasers(blocks)
    published = published_date(tree, ld, meta, fallback, soup, sel.date, url)
    paragraphs = [b.text for b in blocks]
    language = page_language(tree, meta, hint, " ".join(paragraphs[:20]))
    top_image = metadata.top_image(ld, meta, fallback, url)
    direction = page_direction(tree, language)
    return ExtractedArticle(
        title=title,
        paragraphs=paragraphs,
        language=language,
        authors=metadata.authors(ld, meta, fallback, soup, sel.author),
        published=published.utc,
        published_raw=published.raw,
        published_day=published.day,
        modified=modified_date(ld, meta),
        canonical_url=metadata.canonical_url(tree, ld, meta, url),
        section=metadata.section(ld, meta, fallback),
        tags=metadata.tags(ld, meta, fallback),
        top_image=top_image,
        site_name=site_name,
        html=body.render_body(blocks, language, direction, top_image, title, url),
        lead=lead,
        notes=tuple(notes),
        recognition=verdict.reason,
    )
