"""The sample site's listing pages: the home pages (English and Arabic), the paginated
section pages, the small service pages and the 404 page. Pure: articles in, str out."""

from __future__ import annotations

from collections.abc import Sequence

from newsvault.sample_site.articles import Article
from newsvault.sample_site.chrome import (
    SECTIONS,
    SITE_NAME,
    SITE_NAME_AR,
    TAGLINE,
    TAGLINE_AR,
    article_href,
    document,
    is_arabic,
    newsletter_box,
    page_head,
    section_name,
    teaser,
)
from newsvault.sample_site.chrome import escape_attr as _a
from newsvault.sample_site.chrome import escape_text as _t

SECTION_PAGE_SIZE = 2  # small, so that /world/ needs a second page


def home_page(articles: Sequence[Article], pick: Article) -> str:
    latest = "\n".join(teaser(article) for article in articles)
    sections = "".join(
        f'<li><a href="/{slug}/">{_t(en)}</a></li>' for slug, (en, _) in SECTIONS.items()
    )
    main = "\n".join(
        [
            f"<h1>{_t(SITE_NAME)}</h1>",
            '<section class="latest">\n<h2>Latest stories</h2>\n<ul>',
            latest,
            "</ul>\n</section>",
            '<section class="editors-pick"><h2>Editor’s pick</h2>'
            f'<p><a href="{_a(article_href(pick, "home"))}">{_t(pick.title)}</a></p></section>',
            f'<section class="sections-index"><h2>Sections</h2><ul>{sections}'
            '<li><a href="/ar/">عربي</a></li></ul></section>',
            newsletter_box("en", pick),
        ]
    )
    head = page_head(f"{SITE_NAME}: {TAGLINE}", TAGLINE, "en", ['<link rel="canonical" href="/">'])
    return document("en", head, "home-page", main)


def section_pages(slug: str, articles: Sequence[Article]) -> dict[str, str]:
    """The pages of one section, keyed by path and query: "/world/", "/world/?page=2", ..."""
    listed = [article for article in articles if article.section == slug]
    chunks = [
        listed[start : start + SECTION_PAGE_SIZE]
        for start in range(0, len(listed), SECTION_PAGE_SIZE)
    ] or [[]]
    pages: dict[str, str] = {}
    for number, chunk in enumerate(chunks, start=1):
        pages[_section_href(slug, number)] = _section_page(slug, chunk, number, len(chunks))
    return pages


def _section_href(slug: str, number: int) -> str:
    return f"/{slug}/" if number == 1 else f"/{slug}/?page={number}"


def _section_page(slug: str, chunk: Sequence[Article], number: int, count: int) -> str:
    name = section_name(slug, "en")
    links: list[str] = []
    extra = [f'<link rel="canonical" href="{_a(_section_href(slug, number))}">']
    if number > 1:
        prev = _section_href(slug, number - 1)
        extra.append(f'<link rel="prev" href="{_a(prev)}">')
        links.append(f'<a rel="prev" href="{_a(prev)}">Newer stories</a>')
    if number < count:
        nxt = _section_href(slug, number + 1)
        extra.append(f'<link rel="next" href="{_a(nxt)}">')
        links.append(f'<a rel="next" href="{_a(nxt)}">Older stories</a>')
    items = "\n".join(teaser(article) for article in chunk) or (
        '<li class="empty">No stories in this section yet.</li>'
    )
    main = (
        f"<h1>{_t(name)}</h1>\n"
        f'<ul class="section-list">\n{items}\n</ul>\n'
        f'<nav class="pagination">Page {number} of {count} {" ".join(links)}</nav>\n'
        f"{newsletter_box('en', None)}"
    )
    title = f"{name} | {SITE_NAME}" if number == 1 else f"{name}, page {number} | {SITE_NAME}"
    head = page_head(title, f"{name} news from {SITE_NAME}", "en", extra)
    return document("en", head, f"section-page section-{slug}", main)


def arabic_home_page(articles: Sequence[Article]) -> str:
    items = "\n".join(teaser(article) for article in articles if is_arabic(article.language))
    main = f'<h1>{_t(SITE_NAME_AR)}</h1>\n<ul class="section-list">\n{items}\n</ul>'
    head = page_head(f"{SITE_NAME_AR}: {TAGLINE_AR}", TAGLINE_AR, "ar")
    return document("ar", head, "home-page home-ar", main)


def info_page(title: str, text: str) -> str:
    main = f'<h1>{_t(title)}</h1>\n<div class="page-text"><p>{_t(text)}</p></div>'
    return document("en", page_head(f"{title} | {SITE_NAME}", text, "en"), "info-page", main)


def not_found_page() -> str:
    main = (
        "<h1>Page not found</h1>\n"
        "<p>The page you asked for does not exist or has moved. "
        'Try the <a href="/">home page</a> or <a href="/search">search</a>.</p>'
    )
    return document(
        "en", page_head(f"Page not found | {SITE_NAME}", "Not found", "en"), "error-page", main
    )
