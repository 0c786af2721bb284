"""The sample site's article pages: the newsroom's template (head with OpenGraph,
``article:*`` meta and JSON-LD, byline, tags, share bar, related stories, comments) and the
regional desk's, which the republished copy wears. Pure: articles and a base URL in, str out.

The canonical link, og:url and JSON-LD are absolute, built from the base URL.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from urllib.parse import quote

from newsvault.sample_site.articles import Article
from newsvault.sample_site.chrome import (
    SECTIONS,
    SITE_NAME,
    SITE_NAME_AR,
    closing_scripts,
    cookie_banner,
    document,
    human_date,
    is_arabic,
    localized,
    newsletter_box,
    page_head,
    section_name,
    teaser,
)
from newsvault.sample_site.chrome import escape_attr as _a
from newsvault.sample_site.chrome import escape_text as _t


def related(article: Article, articles: Sequence[Article], heading: str, css: str) -> str:
    """Up to four other stories, same language first: the "related articles" box."""
    others = [other for other in articles if other.path != article.path]
    others.sort(
        key=lambda other: (other.language != article.language, other.section != article.section)
    )
    items = "\n".join(teaser(other, campaign="related", heading="h3") for other in others[:4])
    return f'<aside class="{css}">\n<h2>{_t(heading)}</h2>\n<ul>\n{items}\n</ul>\n</aside>'


def comments(article: Article) -> str:
    heading = localized("Comments", "التعليقات", article.language)
    loading = localized("Loading comments…", "جار تحميل التعليقات…", article.language)
    return (
        f'<section id="comments" class="comments" data-thread="{_a(article.path)}">\n'
        f"<h2>{_t(heading)}</h2>\n"
        f'<div class="comments-placeholder">{_t(loading)}</div>\n'
        "<noscript>Enable JavaScript to read and post comments.</noscript>\n"
        "</section>"
    )


def _json_ld(article: Article, base: str) -> str:
    data = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": article.title,
        "description": article.lead,
        "datePublished": article.published.isoformat(),
        "dateModified": article.modified.isoformat(),
        "author": {"@type": "Person", "name": article.author},
        "publisher": {
            "@type": "Organization",
            "name": SITE_NAME,
            "logo": {"@type": "ImageObject", "url": f"{base}/static/logo.svg"},
        },
        "inLanguage": article.language,
        "articleSection": section_name(article.section, "en"),
        "keywords": list(article.tags),
        "image": f"{base}/static/logo.svg",
        "mainEntityOfPage": f"{base}{article.path}",
    }
    text = json.dumps(data, ensure_ascii=False, indent=2)
    # "</" would close the script element early.
    return '<script type="application/ld+json">\n' + text.replace("</", "<\\/") + "\n</script>"


def article_head(article: Article, base: str) -> str:
    url = f"{base}{article.path}"
    site = localized(SITE_NAME, SITE_NAME_AR, article.language)
    locale = "ar_AR" if is_arabic(article.language) else "en_GB"
    meta = [
        f'<link rel="canonical" href="{_a(url)}">',
        f'<meta name="author" content="{_a(article.author)}">',
        '<meta property="og:type" content="article">',
        f'<meta property="og:title" content="{_a(article.title)}">',
        f'<meta property="og:description" content="{_a(article.lead)}">',
        f'<meta property="og:url" content="{_a(url)}">',
        f'<meta property="og:site_name" content="{_a(site)}">',
        f'<meta property="og:image" content="{_a(base)}/static/logo.svg">',
        f'<meta property="og:locale" content="{locale}">',
        f'<meta property="article:published_time" content="{article.published.isoformat()}">',
        f'<meta property="article:modified_time" content="{article.modified.isoformat()}">',
        f'<meta property="article:section" content="{_a(section_name(article.section, "en"))}">',
        *(f'<meta property="article:tag" content="{_a(tag)}">' for tag in article.tags),
        '<meta name="twitter:card" content="summary">',
        _json_ld(article, base),
    ]
    return page_head(f"{article.title} | {site}", article.lead, article.language, meta)


def _byline(article: Article) -> str:
    lang = article.language
    by = localized("By", "بقلم", lang)
    parts = [
        f'{_t(by)} <a rel="author" href="/about/">{_t(article.author)}</a>',
        f'<time datetime="{article.published.isoformat()}">'
        f"{human_date(article.published, lang)}</time>",
    ]
    if article.modified != article.published:
        updated = localized("Updated", "آخر تحديث", lang)
        parts.append(
            f'{_t(updated)} <time class="updated" datetime="{article.modified.isoformat()}">'
            f"{human_date(article.modified, lang)}</time>"
        )
    # A div, not a p: the byline is not a paragraph of the story.
    return f'<div class="byline">{" · ".join(parts)}</div>'


def body_paragraphs(article: Article) -> str:
    return "\n".join(f"<p>{_t(paragraph)}</p>" for paragraph in article.paragraphs)


def _tags(article: Article) -> str:
    links = " ".join(f'<a href="/search?q={_a(quote(tag))}">{_t(tag)}</a>' for tag in article.tags)
    topics = localized("Topics:", "مواضيع:", article.language)
    return f'<div class="story-tags">{_t(topics)} {links}</div>'


def share_bar(article: Article, base: str) -> str:
    target = _a(f"{base}{article.path}")
    label = localized("Share", "شارك", article.language)
    return (
        f'<div class="share-bar">{_t(label)}: '
        f'<a href="https://social.example/share?u={target}" rel="nofollow">Social</a> '
        f'<a href="mailto:?subject={_a(article.title)}&amp;body={target}">Email</a></div>'
    )


def article_page(article: Article, articles: Sequence[Article], base: str, pick: Article) -> str:
    """An article page; the republished copy gets the regional desk's boilerplate."""
    if article.template == "regional":
        return _regional_article_page(article, articles, base)
    lang = article.language
    section = section_name(article.section, lang)
    main = "\n".join(
        [
            f'<nav class="breadcrumbs"><a href="/">{_t(localized("Home", "الرئيسية", lang))}</a> › '
            f'<a href="/{article.section}/">{_t(section)}</a></nav>',
            '<article class="story">',
            '<header class="story-header">',
            f'<h1 class="headline">{_t(article.title)}</h1>',
            f'<p class="lead">{_t(article.lead)}</p>',
            _byline(article),
            "</header>",
            '<div class="story-body">',
            body_paragraphs(article),
            "</div>",
            _tags(article),
            "</article>",
            share_bar(article, base),
            related(
                article, articles, localized("Related articles", "مقالات ذات صلة", lang), "related"
            ),
            newsletter_box(lang, pick),
            comments(article),
        ]
    )
    head = article_head(article, base)
    return document(lang, head, f"article-page section-{article.section}", main)


def _regional_article_page(article: Article, articles: Sequence[Article], base: str) -> str:
    """The regional desk's template: other markup, menus and boxes around the same kind of
    story, as a republisher's site would have."""
    # The republisher does not link back to the story it copied.
    others = [other for other in articles if other.title != article.title]
    menu_items = "".join(
        f'<li><a href="/{slug}/">{_t(ar)}</a></li>' for slug, (_, ar) in SECTIONS.items()
    )
    main = "\n".join(
        [
            '<div class="story-wrap">',
            f'<div class="story-meta"><a class="kicker" href="/{article.section}/">'
            f"{_t(section_name(article.section, 'ar'))}</a> "
            f'<time datetime="{article.published.isoformat()}">'
            f"{human_date(article.published, 'ar')}</time></div>",
            f'<h1 class="story-title">{_t(article.title)}</h1>',
            f'<p class="lead">{_t(article.lead)}</p>',
            f'<div class="story-author">{_t(article.author)}</div>',
            share_bar(article, base),
            '<div class="entry-content">',
            body_paragraphs(article),
            "</div>",
            related(article, others, "اقرأ أيضا", "read-also"),
            '<section class="most-read"><h2>الأكثر قراءة</h2><ol>'
            + "".join(
                f'<li><a href="{_a(other.path)}">{_t(other.title)}</a></li>' for other in others[:5]
            )
            + "</ol></section>",
            comments(article),
            "</div>",
        ]
    )
    head = article_head(article, base)
    return (
        "<!DOCTYPE html>\n"
        '<html lang="ar" dir="rtl">\n'
        f"{head}\n"
        '<body class="regional-desk">\n'
        '<div class="topbar"><span>المكتب الإقليمي</span> '
        '<a href="/ar/">النسخة العربية</a> <a href="/">English</a></div>\n'
        '<header class="regional-header">\n'
        f'<a class="brand" href="/ar/">{_t(SITE_NAME_AR)} — الشؤون الإقليمية</a>\n'
        f'<nav class="regional-menu"><ul>{menu_items}'
        '<li><a href="/newsletter/">النشرة</a></li><li><a href="/contact/">راسلونا</a></li>'
        "</ul></nav>\n</header>\n"
        f'<main id="content">\n{main}\n</main>\n'
        '<footer class="regional-footer">\n'
        '<p><a href="/about/">من نحن</a> | <a href="/privacy/">الخصوصية</a> | '
        '<a href="/terms/">شروط الاستخدام</a> | <a href="/advertise/">أعلن معنا</a> | '
        '<a href="/careers/">وظائف</a> | <a href="/feed.xml">RSS</a></p>\n'
        f"<p>© 2025 {_t(SITE_NAME_AR)}</p>\n"
        "</footer>\n"
        f"{cookie_banner('ar')}\n"
        f"{closing_scripts()}\n"
        "</body>\n</html>\n"
    )
