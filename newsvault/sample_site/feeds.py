"""The sample site's machine-readable files: the RSS and Atom feeds, the news sitemap and
robots.txt. Pure: articles and a base URL in, str out; every URL in them is absolute."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from email.utils import format_datetime
from xml.sax.saxutils import escape as xml_escape

from newsvault.sample_site.articles import Article
from newsvault.sample_site.chrome import SITE_NAME, TAGLINE, section_name


def _x(text: str) -> str:
    return xml_escape(text, {'"': "&quot;"})


def rss_feed(articles: Sequence[Article], base: str, updated: datetime) -> str:
    items = "\n".join(_rss_item(article, base) for article in articles)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom"'
        ' xmlns:dc="http://purl.org/dc/elements/1.1/">\n<channel>\n'
        f"<title>{_x(SITE_NAME)}</title>\n<link>{_x(base)}/</link>\n"
        f"<description>{_x(TAGLINE)}</description>\n<language>en</language>\n"
        f"<lastBuildDate>{format_datetime(updated)}</lastBuildDate>\n"
        f'<atom:link href="{_x(base)}/feed.xml" rel="self" type="application/rss+xml"/>\n'
        f"{items}\n</channel>\n</rss>\n"
    )


def _rss_item(article: Article, base: str) -> str:
    url = _x(f"{base}{article.path}")
    return (
        "<item>\n"
        f"<title>{_x(article.title)}</title>\n<link>{url}</link>\n"
        f'<guid isPermaLink="true">{url}</guid>\n'
        f"<pubDate>{format_datetime(article.published)}</pubDate>\n"
        f"<dc:creator>{_x(article.author)}</dc:creator>\n"
        f"<category>{_x(section_name(article.section, 'en'))}</category>\n"
        f"<description>{_x(article.lead)}</description>\n"
        "</item>"
    )


def atom_feed(articles: Sequence[Article], base: str, updated: datetime) -> str:
    entries = "\n".join(_atom_entry(article, base) for article in articles)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="en">\n'
        f"<id>{_x(base)}/</id>\n<title>{_x(SITE_NAME)}</title>\n"
        f"<subtitle>{_x(TAGLINE)}</subtitle>\n<updated>{updated.isoformat()}</updated>\n"
        f'<link rel="self" type="application/atom+xml" href="{_x(base)}/atom.xml"/>\n'
        f'<link rel="alternate" type="text/html" href="{_x(base)}/"/>\n'
        f"{entries}\n</feed>\n"
    )


def _atom_entry(article: Article, base: str) -> str:
    url = _x(f"{base}{article.path}")
    # "updated" is the publication time: the feeds stay identical between editions, so a
    # corrected article is only found by re-fetching it (issue 6's re-crawl policy).
    return (
        f'<entry xml:lang="{article.language}">\n'
        f"<id>{url}</id>\n<title>{_x(article.title)}</title>\n"
        f'<link rel="alternate" type="text/html" href="{url}"/>\n'
        f"<published>{article.published.isoformat()}</published>\n"
        f"<updated>{article.published.isoformat()}</updated>\n"
        f"<author><name>{_x(article.author)}</name></author>\n"
        f"<summary>{_x(article.lead)}</summary>\n"
        "</entry>"
    )


def news_sitemap(articles: Sequence[Article], base: str) -> str:
    urls = "\n".join(_sitemap_url(article, base) for article in articles)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'
        ' xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">\n'
        f"{urls}\n</urlset>\n"
    )


def _sitemap_url(article: Article, base: str) -> str:
    return (
        "<url>\n"
        f"<loc>{_x(base + article.path)}</loc>\n"
        "<news:news>\n"
        f"<news:publication><news:name>{_x(SITE_NAME)}</news:name>"
        f"<news:language>{article.language}</news:language></news:publication>\n"
        f"<news:publication_date>{article.published.isoformat()}</news:publication_date>\n"
        f"<news:title>{_x(article.title)}</news:title>\n"
        "</news:news>\n"
        "</url>"
    )


def robots_txt(base: str) -> str:
    return (
        f"# robots.txt for {SITE_NAME}\n"
        "User-agent: *\n"
        "Disallow: /search\n"
        "Disallow: /account/\n"
        "Allow: /\n"
        "\n"
        f"Sitemap: {base}/sitemap.xml\n"
    )
