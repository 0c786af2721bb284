"""The text of every page of the sample site: HTML pages with realistic boilerplate, the RSS
and Atom feeds, the news sitemap and robots.txt. Pure: articles and a base URL in, str out.

HTML links are root-relative, as on most news sites; the articles' canonical links, og:url,
JSON-LD, the feeds, the sitemap and robots.txt are absolute, built from the base URL.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from email.utils import format_datetime
from urllib.parse import quote
from xml.sax.saxutils import escape as xml_escape

from newsvault.sample_site.articles import TRACKED_ARTICLE_PATH, Article

SITE_NAME = "The Levant Ledger"
SITE_NAME_AR = "ذا ليفانت ليدجر"
TAGLINE = "Independent news from the Eastern Mediterranean and beyond"
TAGLINE_AR = "أخبار مستقلة من شرق المتوسط والعالم"

# slug -> (English name, Arabic name). Every section has a page, even an empty one, so that
# no navigation link of the site is broken.
SECTIONS: dict[str, tuple[str, str]] = {
    "world": ("World", "العالم"),
    "region": ("Middle East", "الشرق الأوسط"),
    "business": ("Business", "اقتصاد"),
    "science": ("Science", "علوم"),
    "technology": ("Technology", "تكنولوجيا"),
    "culture": ("Culture", "ثقافة"),
    "sport": ("Sport", "رياضة"),
    "opinion": ("Opinion", "رأي"),
}
SECTION_PAGE_SIZE = 2  # small, so that /world/ needs a second page

# path -> (title, text) of the site's small service pages.
INFO_PAGES: dict[str, tuple[str, str]] = {
    "/about/": (
        "About us",
        "The Levant Ledger is an independent, reader-funded newsroom founded in 2009. "
        "Our reporters work from six cities and publish in English and Arabic.",
    ),
    "/contact/": ("Contact", "Write to newsroom@levantledger.example or call our desk."),
    "/newsletter/": (
        "Newsletters",
        "The Morning Brief arrives at 7am every weekday with the stories you need to know.",
    ),
    "/archive/": ("Archive", "Every story we have published since 2009, by date and section."),
    "/corrections/": (
        "Corrections",
        "We correct errors promptly and say so at the end of the corrected article.",
    ),
    "/careers/": ("Careers", "We are hiring a data reporter and a night editor."),
    "/advertise/": ("Advertise", "Reach an engaged audience across the region."),
    "/privacy/": ("Privacy policy", "We collect as little about you as we can."),
    "/terms/": ("Terms of use", "By using this site you agree to these terms."),
    "/cookies/": ("Cookie policy", "We use cookies for audience measurement and preferences."),
    "/search": ("Search", "Search every story in our archive."),
}

# href, English label, Arabic label: the main navigation (20 links), as news sites have.
_NAV: tuple[tuple[str, str, str], ...] = (
    ("/", "Home", "الرئيسية"),
    *((f"/{slug}/", en, ar) for slug, (en, ar) in SECTIONS.items()),
    ("/ar/", "عربي", "عربي"),
    ("/newsletter/", "Newsletter", "النشرة البريدية"),
    ("/archive/", "Archive", "الأرشيف"),
    ("/corrections/", "Corrections", "التصحيحات"),
    ("/about/", "About", "من نحن"),
    ("/contact/", "Contact", "اتصل بنا"),
    ("/careers/", "Careers", "وظائف"),
    ("/advertise/", "Advertise", "أعلن معنا"),
    ("/search", "Search", "بحث"),
    ("/feed.xml", "RSS", "RSS"),
    ("/newsletter/#subscribe", "Subscribe", "اشترك"),
)
_SOCIAL = (
    ("https://social.example/levantledger", "Social"),
    ("https://photos.example/levantledger", "Photos"),
    ("https://video.example/@levantledger", "Video"),
    ("https://podcasts.example/levant-ledger", "Podcast"),
)
_TRACKING = {
    "home": "utm_source=homepage&utm_medium=promo&utm_campaign=editors_pick",
    "newsletter": "utm_source=newsletter&utm_medium=email&utm_campaign=morning_brief",
    "related": "utm_source=related&utm_medium=web&utm_campaign=article_footer",
}
_MONTHS_EN = (
    *("January", "February", "March", "April", "May", "June"),
    *("July", "August", "September", "October", "November", "December"),
)
_MONTHS_AR = (
    *("يناير", "فبراير", "مارس", "أبريل", "مايو", "يونيو"),
    *("يوليو", "أغسطس", "سبتمبر", "أكتوبر", "نوفمبر", "ديسمبر"),
)


# Small helpers ---------------------------------------------------------------------------


def _t(text: str) -> str:
    """Escape a text node; quotes stay as they are so the page text equals the source."""
    return html.escape(text, quote=False)


def _a(text: str) -> str:
    """Escape an attribute value."""
    return html.escape(text, quote=True)


def _ar(lang: str) -> bool:
    return lang == "ar"


def _dir(lang: str) -> str:
    return "rtl" if _ar(lang) else "ltr"


def _label(en: str, ar: str, lang: str) -> str:
    return ar if _ar(lang) else en


def human_date(moment: datetime, lang: str) -> str:
    months = _MONTHS_AR if _ar(lang) else _MONTHS_EN
    return f"{moment.day} {months[moment.month - 1]} {moment.year}"


def article_href(article: Article, campaign: str | None = None) -> str:
    """The link to an article; the tracked article gets utm_* parameters, as real
    newsletters and promo boxes add them."""
    if campaign and article.path == TRACKED_ARTICLE_PATH:
        return f"{article.path}?{_TRACKING[campaign]}"
    return article.path


def section_name(slug: str, lang: str) -> str:
    en, ar = SECTIONS[slug]
    return _label(en, ar, lang)


# Shared boilerplate ----------------------------------------------------------------------


def _head(title: str, description: str, lang: str, extra: Iterable[str] = ()) -> str:
    feeds_title = _label(SITE_NAME, SITE_NAME_AR, lang)
    lines = [
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_t(title)}</title>",
        f'<meta name="description" content="{_a(description)}">',
        '<link rel="stylesheet" href="/static/site.css">',
        '<link rel="icon" href="/static/logo.svg" type="image/svg+xml">',
        f'<link rel="alternate" type="application/rss+xml" title="{_a(feeds_title)}"'
        ' href="/feed.xml">',
        f'<link rel="alternate" type="application/atom+xml" title="{_a(feeds_title)}"'
        ' href="/atom.xml">',
        *extra,
        # An analytics snippet, inline, as nearly every news page carries one.
        "<script>window.dataLayer=window.dataLayer||[];function gtag(){dataLayer.push("
        "arguments);}gtag('js',new Date());gtag('config','LL-0000001');</script>",
        '<script src="/static/app.js" defer></script>',
        "</head>",
    ]
    return "\n".join(lines)


def _nav(lang: str) -> str:
    items = "\n".join(
        f'<li><a href="{_a(href)}">{_t(_label(en, ar, lang))}</a></li>' for href, en, ar in _NAV
    )
    label = _label("Main menu", "القائمة الرئيسية", lang)
    return f'<nav class="main-nav" aria-label="{_a(label)}">\n<ul>\n{items}\n</ul>\n</nav>'


def _site_header(lang: str) -> str:
    name = _label(SITE_NAME, SITE_NAME_AR, lang)
    tagline = _label(TAGLINE, TAGLINE_AR, lang)
    return (
        '<header class="site-header">\n'
        '<div class="masthead"><a class="logo" href="/">'
        f'<img src="/static/logo.svg" alt="{_a(name)}" width="220" height="40"></a>\n'
        f'<p class="tagline">{_t(tagline)}</p>\n'
        f'<a class="subscribe-button" href="/newsletter/#subscribe">'
        f"{_t(_label('Subscribe', 'اشترك', lang))}</a></div>\n"
        f"{_nav(lang)}\n"
        "</header>\n"
        '<div class="ad-slot ad-leaderboard" data-ad-unit="top-banner">'
        f"{_t(_label('Advertisement', 'إعلان', lang))}</div>"
    )


def _site_footer(lang: str) -> str:
    sections = "".join(
        f'<li><a href="/{slug}/">{_t(section_name(slug, lang))}</a></li>' for slug in SECTIONS
    )
    info = "".join(
        f'<li><a href="{_a(path)}">{_t(title)}</a></li>' for path, (title, _) in INFO_PAGES.items()
    )
    social = "".join(
        f'<li><a href="{_a(url)}" rel="noopener">{name}</a></li>' for url, name in _SOCIAL
    )
    rights = _label(
        f"© 2009–2025 {SITE_NAME}. All rights reserved.",
        f"© 2009–2025 {SITE_NAME_AR}. جميع الحقوق محفوظة.",
        lang,
    )
    return (
        '<footer class="site-footer">\n'
        f'<div class="footer-col"><h2>{_t(_label("Sections", "الأقسام", lang))}</h2>'
        f"<ul>{sections}</ul></div>\n"
        f'<div class="footer-col"><h2>{_t(_label("The Ledger", "عن الموقع", lang))}</h2>'
        f"<ul>{info}</ul></div>\n"
        f'<div class="footer-col"><h2>{_t(_label("Follow us", "تابعونا", lang))}</h2>'
        f'<ul>{social}<li><a href="/feed.xml">RSS</a></li><li><a href="/atom.xml">Atom</a></li>'
        '<li><a href="/sitemap.xml">Sitemap</a></li></ul></div>\n'
        f'<p class="copyright">{_t(rights)}</p>\n'
        "</footer>"
    )


def _cookie_banner(lang: str) -> str:
    text = _label(
        "We use cookies to measure our audience and remember your preferences.",
        "نستخدم ملفات تعريف الارتباط لقياس عدد الزوار وتذكر تفضيلاتك.",
        lang,
    )
    accept = _label("Accept all", "قبول الكل", lang)
    reject = _label("Reject", "رفض", lang)
    policy = _label("Cookie policy", "سياسة ملفات تعريف الارتباط", lang)
    return (
        '<div id="cookie-banner" class="cookie-banner" role="dialog" aria-live="polite">\n'
        f'<p>{_t(text)} <a href="/cookies/">{_t(policy)}</a></p>\n'
        f'<button type="button" data-consent="accept">{_t(accept)}</button>\n'
        f'<button type="button" data-consent="reject">{_t(reject)}</button>\n'
        "</div>"
    )


def _closing_scripts() -> str:
    # Inline script at the end of the body: consent handling, as sites do without a bundler.
    return (
        "<script>\n"
        "document.querySelectorAll('[data-consent]').forEach(function (b) {\n"
        "  b.addEventListener('click', function () {\n"
        "    document.cookie = 'll_consent=' + b.dataset.consent + ';path=/;max-age=31536000';\n"
        "    document.getElementById('cookie-banner').remove();\n"
        "  });\n"
        "});\n"
        "</script>"
    )


def _newsletter_box(lang: str, pick: Article | None) -> str:
    title = _label("The Morning Brief", "النشرة الصباحية", lang)
    pitch = _label(
        "Our editors' pick of the day's news, in your inbox before breakfast.",
        "اختيارات محررينا لأهم أخبار اليوم، في بريدك قبل الإفطار.",
        lang,
    )
    button = _label("Sign up", "اشترك", lang)
    pick_html = ""
    if pick is not None:
        intro = _label("In this week’s issue:", "في عدد هذا الأسبوع:", lang)
        pick_html = (
            f'<p class="newsletter-pick">{_t(intro)} '
            f'<a href="{_a(article_href(pick, "newsletter"))}">{_t(pick.title)}</a></p>\n'
        )
    return (
        '<aside class="newsletter-box" id="subscribe">\n'
        f"<h2>{_t(title)}</h2>\n<p>{_t(pitch)}</p>\n"
        '<form action="/newsletter/" method="post">'
        '<input type="email" name="email" placeholder="you@example.com" required>'
        f'<button type="submit">{_t(button)}</button></form>\n'
        f"{pick_html}"
        "</aside>"
    )


def _teaser(article: Article, *, campaign: str | None = None, heading: str = "h2") -> str:
    lang_attr = f' lang="{article.language}" dir="{_dir(article.language)}"'
    return (
        f'<li class="teaser"{lang_attr}>'
        f'<{heading}><a href="{_a(article_href(article, campaign))}">{_t(article.title)}</a>'
        f"</{heading}>"
        f'<p class="teaser-lead">{_t(article.lead)}</p>'
        f'<time datetime="{article.published.isoformat()}">'
        f"{human_date(article.published, article.language)}</time></li>"
    )


def _related(article: Article, articles: Sequence[Article], heading: str, css: str) -> str:
    """Up to four other stories, same language first: the "related articles" box."""
    others = [other for other in articles if other.path != article.path]
    others.sort(
        key=lambda other: (other.language != article.language, other.section != article.section)
    )
    items = "\n".join(_teaser(other, campaign="related", heading="h3") for other in others[:4])
    return f'<aside class="{css}">\n<h2>{_t(heading)}</h2>\n<ul>\n{items}\n</ul>\n</aside>'


def _comments(article: Article) -> str:
    heading = _label("Comments", "التعليقات", article.language)
    loading = _label("Loading comments…", "جار تحميل التعليقات…", article.language)
    return (
        f'<section id="comments" class="comments" data-thread="{_a(article.path)}">\n'
        f"<h2>{_t(heading)}</h2>\n"
        f'<div class="comments-placeholder">{_t(loading)}</div>\n'
        "<noscript>Enable JavaScript to read and post comments.</noscript>\n"
        "</section>"
    )


def _document(lang: str, head: str, body_class: str, main: str) -> str:
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="{lang}" dir="{_dir(lang)}">\n'
        f"{head}\n"
        f'<body class="{body_class}">\n'
        f"{_site_header(lang)}\n"
        f'<main id="main">\n{main}\n</main>\n'
        f"{_site_footer(lang)}\n"
        f"{_cookie_banner(lang)}\n"
        f"{_closing_scripts()}\n"
        "</body>\n</html>\n"
    )


# Article pages ---------------------------------------------------------------------------


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


def _article_head(article: Article, base: str) -> str:
    url = f"{base}{article.path}"
    site = _label(SITE_NAME, SITE_NAME_AR, article.language)
    meta = [
        f'<link rel="canonical" href="{_a(url)}">',
        f'<meta name="author" content="{_a(article.author)}">',
        '<meta property="og:type" content="article">',
        f'<meta property="og:title" content="{_a(article.title)}">',
        f'<meta property="og:description" content="{_a(article.lead)}">',
        f'<meta property="og:url" content="{_a(url)}">',
        f'<meta property="og:site_name" content="{_a(site)}">',
        f'<meta property="og:image" content="{_a(base)}/static/logo.svg">',
        f'<meta property="og:locale" content="{"ar_AR" if _ar(article.language) else "en_GB"}">',
        f'<meta property="article:published_time" content="{article.published.isoformat()}">',
        f'<meta property="article:modified_time" content="{article.modified.isoformat()}">',
        f'<meta property="article:section" content="{_a(section_name(article.section, "en"))}">',
        *(f'<meta property="article:tag" content="{_a(tag)}">' for tag in article.tags),
        '<meta name="twitter:card" content="summary">',
        _json_ld(article, base),
    ]
    return _head(f"{article.title} | {site}", article.lead, article.language, meta)


def _byline(article: Article) -> str:
    lang = article.language
    by = _label("By", "بقلم", lang)
    parts = [
        f'{_t(by)} <a rel="author" href="/about/">{_t(article.author)}</a>',
        f'<time datetime="{article.published.isoformat()}">'
        f"{human_date(article.published, lang)}</time>",
    ]
    if article.modified != article.published:
        updated = _label("Updated", "آخر تحديث", lang)
        parts.append(
            f'{_t(updated)} <time class="updated" datetime="{article.modified.isoformat()}">'
            f"{human_date(article.modified, lang)}</time>"
        )
    # A div, not a p: the byline is not a paragraph of the story.
    return f'<div class="byline">{" · ".join(parts)}</div>'


def _body_paragraphs(article: Article) -> str:
    return "\n".join(f"<p>{_t(paragraph)}</p>" for paragraph in article.paragraphs)


def _tags(article: Article) -> str:
    links = " ".join(f'<a href="/search?q={_a(quote(tag))}">{_t(tag)}</a>' for tag in article.tags)
    topics = _label("Topics:", "مواضيع:", article.language)
    return f'<div class="story-tags">{_t(topics)} {links}</div>'


def _share_bar(article: Article, base: str) -> str:
    target = _a(f"{base}{article.path}")
    label = _label("Share", "شارك", article.language)
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
            f'<nav class="breadcrumbs"><a href="/">{_t(_label("Home", "الرئيسية", lang))}</a> › '
            f'<a href="/{article.section}/">{_t(section)}</a></nav>',
            '<article class="story">',
            '<header class="story-header">',
            f'<h1 class="headline">{_t(article.title)}</h1>',
            f'<p class="lead">{_t(article.lead)}</p>',
            _byline(article),
            "</header>",
            '<div class="story-body">',
            _body_paragraphs(article),
            "</div>",
            _tags(article),
            "</article>",
            _share_bar(article, base),
            _related(
                article, articles, _label("Related articles", "مقالات ذات صلة", lang), "related"
            ),
            _newsletter_box(lang, pick),
            _comments(article),
        ]
    )
    head = _article_head(article, base)
    return _document(lang, head, f"article-page section-{article.section}", main)


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
            _share_bar(article, base),
            '<div class="entry-content">',
            _body_paragraphs(article),
            "</div>",
            _related(article, others, "اقرأ أيضا", "read-also"),
            '<section class="most-read"><h2>الأكثر قراءة</h2><ol>'
            + "".join(
                f'<li><a href="{_a(other.path)}">{_t(other.title)}</a></li>' for other in others[:5]
            )
            + "</ol></section>",
            _comments(article),
            "</div>",
        ]
    )
    head = _article_head(article, base)
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
        f"{_cookie_banner('ar')}\n"
        f"{_closing_scripts()}\n"
        "</body>\n</html>\n"
    )


# Listing pages ---------------------------------------------------------------------------


def home_page(articles: Sequence[Article], pick: Article) -> str:
    latest = "\n".join(_teaser(article) for article in articles)
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
            _newsletter_box("en", pick),
        ]
    )
    head = _head(f"{SITE_NAME}: {TAGLINE}", TAGLINE, "en", ['<link rel="canonical" href="/">'])
    return _document("en", head, "home-page", main)


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
    items = "\n".join(_teaser(article) for article in chunk) or (
        '<li class="empty">No stories in this section yet.</li>'
    )
    main = (
        f"<h1>{_t(name)}</h1>\n"
        f'<ul class="section-list">\n{items}\n</ul>\n'
        f'<nav class="pagination">Page {number} of {count} {" ".join(links)}</nav>\n'
        f"{_newsletter_box('en', None)}"
    )
    title = f"{name} | {SITE_NAME}" if number == 1 else f"{name}, page {number} | {SITE_NAME}"
    head = _head(title, f"{name} news from {SITE_NAME}", "en", extra)
    return _document("en", head, f"section-page section-{slug}", main)


def arabic_home_page(articles: Sequence[Article]) -> str:
    items = "\n".join(_teaser(article) for article in articles if _ar(article.language))
    main = f'<h1>{_t(SITE_NAME_AR)}</h1>\n<ul class="section-list">\n{items}\n</ul>'
    head = _head(f"{SITE_NAME_AR}: {TAGLINE_AR}", TAGLINE_AR, "ar")
    return _document("ar", head, "home-page home-ar", main)


def info_page(title: str, text: str) -> str:
    main = f'<h1>{_t(title)}</h1>\n<div class="page-text"><p>{_t(text)}</p></div>'
    return _document("en", _head(f"{title} | {SITE_NAME}", text, "en"), "info-page", main)


def not_found_page() -> str:
    main = (
        "<h1>Page not found</h1>\n"
        "<p>The page you asked for does not exist or has moved. "
        'Try the <a href="/">home page</a> or <a href="/search">search</a>.</p>'
    )
    return _document(
        "en", _head(f"Page not found | {SITE_NAME}", "Not found", "en"), "error-page", main
    )


# Feeds, sitemap, robots ------------------------------------------------------------------


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
