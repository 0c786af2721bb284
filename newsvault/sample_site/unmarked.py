"""A larger variant of the sample site whose articles often carry no markup (issue 15).

Many real news sites, Arabic regional ones above all, publish articles without JSON-LD or
OpenGraph, while their author, tag and section pages wear ``og:type=article`` and
``NewsArticle`` JSON-LD copied from a theme. This site is built like that, with the sample
site's own page templates (``chrome``, ``article_pages``, ``listing_pages``) and its own texts:

- ``count`` articles in English and Arabic (every third), half of them (every other one)
  with no JSON-LD, no OpenGraph, no ``article:*`` meta;
- article URLs of several shapes: dated paths with a headline slug (English, or Arabic
  percent-encoded), ``story.php?id=N``, and short codes with no telling shape at all
  (``/world/a/1rs``) that only the link graph gives away;
- author pages (``/author/NAME/``), tag pages (``/tag/NAME/``) and paginated section pages
  (``/world/?page=2``), each with article markup, linked from the home page;
- a partial RSS feed (the ten newest stories), no Atom feed, no sitemap.

Pure: the texts are the sample site's paragraphs with their words shuffled per article
(seeded by its number), so every story is distinct and the same on every run.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from math import ceil
from types import MappingProxyType
from urllib.parse import quote

from newsvault.sample_site.article_pages import (
    article_head,
    body_paragraphs,
    comments,
    related,
    share_bar,
)
from newsvault.sample_site.articles import Article, arabic_article, english_articles
from newsvault.sample_site.chrome import (
    INFO_PAGES,
    SECTIONS,
    SITE_NAME,
    TAGLINE,
    document,
    human_date,
    localized,
    page_head,
    section_name,
    teaser,
)
from newsvault.sample_site.chrome import escape_attr as _a
from newsvault.sample_site.chrome import escape_text as _t
from newsvault.sample_site.content import HTML, Page, SampleSite, make_page
from newsvault.sample_site.feeds import rss_feed
from newsvault.sample_site.listing_pages import arabic_home_page, info_page, not_found_page
from newsvault.sample_site.server import SampleSiteServer

__all__ = ["UnmarkedSite", "UnmarkedSiteServer", "build_unmarked_site"]

_AUTHORS_EN = (
    *("Maya Khoury", "Daniel Avery", "Leila Mansour", "Tom Hadley", "Nour Saleh"),
    *("Grace Okafor", "Samir Aziz", "Hannah Brooks"),
)
_AUTHORS_AR = ("سلمى حداد", "محمد علي حسن", "رنا الخطيب", "يوسف العمري")
_TAGS_EN = (
    *("elections", "climate", "energy", "markets", "diplomacy", "health", "football"),
    *("archaeology", "aviation", "startups", "water", "refugees"),
)
_TAGS_AR = ("إيران", "فلسطين", "غزة", "الاقتصاد", "الطاقة", "المناخ", "الانتخابات", "اللاجئين")
_LISTING_SIZE = 20  # stories per author or tag page
_FEED_SIZE = 10
_T0 = datetime(2025, 1, 6, 7, 0, tzinfo=UTC)
_WORD = re.compile(r"[^\W_]+")


@dataclass(frozen=True)
class UnmarkedSite:
    """The site, and what a crawl should make of it."""

    site: SampleSite
    # Paths of articles published without JSON-LD or OpenGraph.
    unmarked: frozenset[str]
    # Paths of the author, tag and section pages (every page of each), all with markup.
    listings: tuple[str, ...]

    @property
    def article_paths(self) -> list[str]:
        return self.site.article_paths


def build_unmarked_site(base_url: str, *, count: int = 60) -> UnmarkedSite:
    """Every page of a ``count``-article site served under ``base_url``."""
    base = base_url.rstrip("/")
    numbered = [(number, _article(number)) for number in range(count)]
    unmarked = frozenset(a.path for number, a in numbered if number % 2 == 1)
    articles = sorted((a for _, a in numbered), key=lambda a: a.published, reverse=True)
    texts: dict[str, str] = {}
    listings: list[str] = []
    per_section = ceil(count / len(SECTIONS) / 3) or 1  # about 3 pages a section
    groups = {
        **{f"/{slug}/": (section_name(slug, "en"), [a for a in articles if a.section == slug], per_section) for slug in SECTIONS},  # noqa: E501
        **{_author_path(name): (name, [a for a in articles if a.author == name], _LISTING_SIZE) for name in (*_AUTHORS_EN, *_AUTHORS_AR)},  # noqa: E501
        **{_tag_path(tag): (tag, [a for a in articles if tag in a.tags], _LISTING_SIZE) for tag in (*_TAGS_EN, *_TAGS_AR)},  # noqa: E501
    }  # fmt: skip
    groups = {path: group for path, group in groups.items() if group[1]}  # no empty listings
    for path, (title, listed, size) in groups.items():
        for page_path, text in _listing_pages(path, title, listed, size, base).items():
            texts[page_path] = text
            listings.append(page_path)
    for article in articles:
        texts[article.path] = _article_page(article, articles, base, article.path in unmarked)
    texts["/"] = _home_page(articles, list(groups))
    texts["/ar/"] = arabic_home_page(articles)
    for path, (title, text) in INFO_PAGES.items():
        texts[path] = info_page(title, text)
    updated = articles[0].published if articles else _T0
    pages: dict[str, Page] = {path: make_page(text, HTML, updated) for path, text in texts.items()}
    pages["/feed.xml"] = make_page(
        rss_feed(articles[:_FEED_SIZE], base, updated),
        "application/rss+xml; charset=utf-8",
        updated,
    )
    pages["/robots.txt"] = make_page(
        "User-agent: *\nDisallow: /account/\n", "text/plain; charset=utf-8", updated
    )
    site = SampleSite(
        base_url=base,
        edition=1,
        pages=MappingProxyType(pages),
        articles=tuple(articles),
        not_found=make_page(not_found_page(), HTML, updated, status=404),
    )
    return UnmarkedSite(site=site, unmarked=unmarked, listings=tuple(listings))


# Articles ----------------------------------------------------------------------------------


@cache
def _pool(language: str) -> tuple[str, ...]:
    if language == "ar":
        return arabic_article().paragraphs
    return tuple(p for a in english_articles() for p in a.paragraphs)


def _shuffled(text: str, rng: random.Random) -> str:
    words = text.split()
    rng.shuffle(words)
    return " ".join(words).rstrip(".،") + "."


def _article(number: int) -> Article:
    rng = random.Random(number)
    language = "ar" if number % 3 == 0 else "en"
    pool = _pool(language)
    chosen = rng.sample(pool, k=min(len(pool), rng.randint(5, 8)))
    paragraphs = tuple(_shuffled(paragraph, rng) for paragraph in chosen)
    words = [w for w in _WORD.findall(" ".join(chosen)) if len(w) > 3]
    title_words = rng.sample(words, k=min(len(words), 7))
    title = " ".join(title_words).capitalize()
    slug_words = "-".join(title_words[:4]).lower()
    section = list(SECTIONS)[number % len(SECTIONS)]
    published = _T0 + timedelta(hours=5 * number)
    authors, tags = (_AUTHORS_AR, _TAGS_AR) if language == "ar" else (_AUTHORS_EN, _TAGS_EN)
    prefix = "/ar" if language == "ar" else ""
    if number % 5 == 1:  # a short code: no telling shape
        path = f"{prefix}/{section}/a/{_base36(1296 + number)}"
    elif number % 7 == 3:
        path = f"/news/story.php?id={40000 + number}"
    else:
        path = f"{prefix}/{section}/{published:%Y/%m}/{quote(slug_words)}-{number}.html"
    return Article(
        path=path,
        section=section,
        language=language,
        title=title,
        lead=_shuffled(chosen[0], rng)[:160],
        paragraphs=paragraphs,
        author=authors[number % len(authors)],
        published=published,
        modified=published,
        tags=(tags[number % len(tags)], tags[(number * 7 + 3) % len(tags)]),
    )


def _base36(value: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while value:
        value, rest = divmod(value, 36)
        out = digits[rest] + out
    return out or "0"


def _author_path(name: str) -> str:
    return f"/author/{quote(name.lower().replace(' ', '-'))}/"


def _tag_path(tag: str) -> str:
    return f"/tag/{quote(tag.lower().replace(' ', '-'))}/"


def _article_page(article: Article, articles: Sequence[Article], base: str, bare: bool) -> str:
    lang = article.language
    url = f"{base}{article.path}"
    if bare:  # no JSON-LD, no OpenGraph: a canonical link is all the head says
        canonical = f'<link rel="canonical" href="{_a(url)}">'
        head = page_head(article.title, article.lead, lang, [canonical])
    else:
        head = article_head(article, base)
    by = localized("By", "بقلم", lang)
    tags = " ".join(f'<a href="{_tag_path(tag)}">{_t(tag)}</a>' for tag in article.tags)
    main = "\n".join(
        [
            f'<nav class="breadcrumbs"><a href="/">{localized("Home", "الرئيسية", lang)}</a>'
            f' › <a href="/{article.section}/">{section_name(article.section, lang)}</a></nav>',
            '<article class="story">',
            f'<h1 class="headline">{_t(article.title)}</h1>',
            f'<p class="lead">{_t(article.lead)}</p>',
            f'<div class="byline">{by} <a rel="author" href="{_author_path(article.author)}">'
            f"{_t(article.author)}</a> <time datetime="
            f'"{article.published.isoformat()}">{human_date(article.published, lang)}'
            "</time></div>",
            '<div class="story-body">',
            body_paragraphs(article),
            "</div>",
            f'<div class="story-tags">{tags}</div>',
            "</article>",
            share_bar(article, base),
            related(article, articles[:40], localized("Related", "ذات صلة", lang), "related"),
            comments(article),
        ]
    )
    return document(lang, head, f"article-page section-{article.section}", main)


# Listings ----------------------------------------------------------------------------------


def _listing_href(path: str, number: int) -> str:
    return path if number == 1 else f"{path}?page={number}"


def _listing_markup(title: str, url: str, listed: Sequence[Article], base: str) -> list[str]:
    """What a sloppy theme puts in a listing's head: og:type=article, NewsArticle JSON-LD."""
    graph = [
        {"@type": "CollectionPage", "name": title, "url": url},
        *(
            {"@type": "NewsArticle", "headline": a.title, "url": f"{base}{a.path}"}
            for a in listed[:3]
        ),
    ]
    data = json.dumps({"@context": "https://schema.org", "@graph": graph}, ensure_ascii=False)
    data = data.replace("</", "<\\/")  # "</" would close the script element early
    return [
        '<meta property="og:type" content="article">',
        f'<meta property="og:title" content="{_a(title)}">',
        f'<meta property="og:url" content="{_a(url)}">',
        f'<script type="application/ld+json">{data}</script>',
    ]


def _listing_pages(
    path: str, title: str, listed: Sequence[Article], size: int, base: str
) -> dict[str, str]:
    chunks = [listed[i : i + size] for i in range(0, len(listed), size)] or [[]]
    pages: dict[str, str] = {}
    for number, chunk in enumerate(chunks, start=1):
        href = _listing_href(path, number)
        extra = [f'<link rel="canonical" href="{_a(base + href)}">']
        extra += _listing_markup(title, base + href, chunk, base)
        nav = []
        if number < len(chunks):
            nxt = _listing_href(path, number + 1)
            extra.append(f'<link rel="next" href="{_a(nxt)}">')
            nav.append(f'<a rel="next" href="{_a(nxt)}">Older stories</a>')
        items = "\n".join(teaser(a) for a in chunk) or "<li>No stories yet.</li>"
        main = (
            f'<h1>{_t(title)}</h1>\n<ul class="section-list">\n{items}\n</ul>\n'
            f'<nav class="pagination">Page {number} of {len(chunks)} {" ".join(nav)}</nav>'
        )
        head = page_head(f"{title} | {SITE_NAME}", title, "en", extra)
        pages[href] = document("en", head, "listing-page", main)
    return pages


def _home_page(articles: Sequence[Article], listings: Sequence[str]) -> str:
    latest = "\n".join(teaser(a) for a in articles[:12])
    index = "".join(f'<li><a href="{_a(path)}">{_t(path)}</a></li>' for path in listings)
    main = (
        f"<h1>{_t(SITE_NAME)}</h1>\n"
        f'<section class="latest"><h2>Latest stories</h2><ul>\n{latest}\n</ul></section>\n'
        f'<section class="index"><h2>Sections, writers and topics</h2><ul>{index}</ul></section>'
    )
    canonical = ['<link rel="canonical" href="/">']
    head = page_head(SITE_NAME, TAGLINE, "en", canonical)
    return document("en", head, "home-page", main)


class UnmarkedSiteServer(SampleSiteServer):
    """:func:`build_unmarked_site` over HTTP on 127.0.0.1 (port 0: a free one)."""

    def __init__(self, count: int = 60, host: str = "127.0.0.1", port: int = 0) -> None:
        self.count = count
        self._unmarked: UnmarkedSite | None = None
        super().__init__(host, port)

    @property
    def layout(self) -> UnmarkedSite:
        """The site with what a crawl should make of it."""
        if self._unmarked is None:
            self._unmarked = build_unmarked_site(self.url, count=self.count)
        return self._unmarked

    def _edition_site(self, edition: int) -> SampleSite:
        return self.layout.site
