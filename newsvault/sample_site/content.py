"""The sample site in memory: every page's bytes and headers, for one base URL and edition.

Pure (it reads only its own package data). The server in ``server.py`` serves what
:func:`build_site` returns; tests and benchmarks can use the same :class:`SampleSite` to know
what the crawler should find.

Edition 1 is the site as first crawled. Edition 2 corrects one article
(:data:`EDITED_ARTICLE_PATH`): one sentence changes, a "Correction: ..." paragraph is added,
and its Last-Modified and ETag change. Every other page is byte-identical between editions.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from types import MappingProxyType
from urllib.parse import urlsplit

from newsvault.sample_site.article_pages import article_page
from newsvault.sample_site.articles import (
    PACKAGE_DIR,
    TRACKED_ARTICLE_PATH,
    Article,
    all_articles,
)
from newsvault.sample_site.chrome import INFO_PAGES, SECTIONS
from newsvault.sample_site.feeds import atom_feed, news_sitemap, robots_txt, rss_feed
from newsvault.sample_site.listing_pages import (
    arabic_home_page,
    home_page,
    info_page,
    not_found_page,
    section_pages,
)

EDITIONS = (1, 2)
HTML = "text/html; charset=utf-8"
# Assets never change; their date only has to be stable.
_ASSETS_MODIFIED = datetime(2024, 1, 8, 9, 0, tzinfo=UTC)

_APP_JS = """\
/* The Levant Ledger front-end: comments loader and cookie banner. */
(function () {
  var thread = document.querySelector('[data-thread]');
  if (thread) { thread.querySelector('.comments-placeholder').textContent = 'No comments yet.'; }
  if (document.cookie.indexOf('ll_consent=') !== -1) {
    var banner = document.getElementById('cookie-banner');
    if (banner) { banner.remove(); }
  }
})();
"""

_LOGO_SVG = """\
<svg xmlns="http://www.w3.org/2000/svg" width="220" height="40" viewBox="0 0 220 40">
<rect width="220" height="40" fill="#9b1c1c"/>
<text x="10" y="27" font-family="Georgia, serif" font-size="20" fill="#fff">The Levant Ledger</text>
</svg>
"""


@dataclass(frozen=True)
class Page:
    """One response of the site. ``headers`` holds Last-Modified, ETag and Cache-Control;
    the server adds Content-Type (from ``content_type``), Content-Length, Date and Vary."""

    body: bytes
    content_type: str
    headers: dict[str, str] = field(default_factory=dict)
    status: int = 200

    @property
    def etag(self) -> str | None:
        return self.headers.get("ETag")

    @property
    def last_modified(self) -> datetime | None:
        value = self.headers.get("Last-Modified")
        return parsedate_to_datetime(value) if value else None


def make_page(text: str, content_type: str, modified: datetime, status: int = 200) -> Page:
    """A page with validators derived from its content, so they are the same on every run."""
    body = text.encode("utf-8")
    digest = hashlib.sha256(body).hexdigest()[:20]
    headers = {
        "Last-Modified": format_datetime(modified.astimezone(UTC), usegmt=True),
        "ETag": f'"{digest}"',
        "Cache-Control": "public, max-age=60",
    }
    return Page(body=body, content_type=content_type, headers=headers, status=status)


@dataclass(frozen=True)
class SampleSite:
    """The whole site for one base URL and edition."""

    base_url: str
    edition: int
    pages: Mapping[str, Page]
    articles: tuple[Article, ...]
    not_found: Page

    @property
    def article_paths(self) -> list[str]:
        return [article.path for article in self.articles]

    def article(self, path: str) -> Article:
        for article in self.articles:
            if article.path == path:
                return article
        raise KeyError(path)

    def url(self, path: str) -> str:
        """The absolute URL of a site path."""
        return f"{self.base_url}{path}"

    def lookup(self, target: str) -> Page | None:
        """The page for a request target ("/path?query"). Unknown query parameters (utm_*,
        search terms) are ignored, as real news sites do, so tracked links resolve to the
        article they point at."""
        page = self.pages.get(target)
        if page is None and "?" in target:
            page = self.pages.get(urlsplit(target).path)
        return page


def build_site(base_url: str, *, edition: int = 1) -> SampleSite:
    """Build every page of the site, with absolute links in feeds and sitemaps under
    ``base_url`` (e.g. "http://127.0.0.1:8741")."""
    if edition not in EDITIONS:
        raise ValueError(f"edition must be one of {EDITIONS}, not {edition!r}")
    base = base_url.rstrip("/")
    articles = all_articles(edition)
    texts = _site_texts(articles, base)
    pages = {path: _to_page(path, text, articles) for path, text in texts.items()}
    not_found = make_page(not_found_page(), HTML, _site_updated(articles), status=404)
    return SampleSite(
        base_url=base,
        edition=edition,
        pages=MappingProxyType(pages),
        articles=tuple(articles),
        not_found=not_found,
    )


def _site_texts(articles: list[Article], base: str) -> dict[str, tuple[str, str]]:
    """Every path's (text, content type)."""
    pick = next(article for article in articles if article.path == TRACKED_ARTICLE_PATH)
    updated = _site_updated(articles)
    texts: dict[str, tuple[str, str]] = {
        "/": (home_page(articles, pick), HTML),
        "/ar/": (arabic_home_page(articles), HTML),
        "/feed.xml": (
            rss_feed(articles, base, updated),
            "application/rss+xml; charset=utf-8",
        ),
        "/atom.xml": (
            atom_feed(articles, base, updated),
            "application/atom+xml; charset=utf-8",
        ),
        "/sitemap.xml": (news_sitemap(articles, base), "application/xml; charset=utf-8"),
        "/robots.txt": (robots_txt(base), "text/plain; charset=utf-8"),
        "/static/site.css": (_read_asset("site.css"), "text/css; charset=utf-8"),
        "/static/app.js": (_APP_JS, "text/javascript; charset=utf-8"),
        "/static/logo.svg": (_LOGO_SVG, "image/svg+xml; charset=utf-8"),
    }
    for slug in SECTIONS:
        for path, text in section_pages(slug, articles).items():
            texts[path] = (text, HTML)
    for path, (title, text) in INFO_PAGES.items():
        texts[path] = (info_page(title, text), HTML)
    for article in articles:
        texts[article.path] = (article_page(article, articles, base, pick), HTML)
    return texts


def _to_page(path: str, text_and_type: tuple[str, str], articles: list[Article]) -> Page:
    text, content_type = text_and_type
    return make_page(text, content_type, _modified(path, articles))


def _modified(path: str, articles: list[Article]) -> datetime:
    """Last-Modified of a path: an article's own modification time; for assets a fixed
    date; for everything else the newest publication, which no correction changes."""
    for article in articles:
        if article.path == path:
            return article.modified
    if path.startswith("/static/"):
        return _ASSETS_MODIFIED
    return _site_updated(articles)


def _site_updated(articles: list[Article]) -> datetime:
    return max(article.published for article in articles)


def _read_asset(name: str) -> str:
    return (PACKAGE_DIR / name).read_text(encoding="utf-8")
