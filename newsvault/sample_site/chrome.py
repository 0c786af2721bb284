"""The sample site's shared page chrome: its name and sections, escaping and bilingual
labels, the <head>, masthead, navigation, footer, cookie banner and the boxes every HTML page
reuses (teasers, the newsletter box). Pure: str in, str out.

HTML links are root-relative, as on most news sites.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from datetime import datetime

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


def escape_text(text: str) -> str:
    """Escape a text node; quotes stay as they are so the page text equals the source."""
    return html.escape(text, quote=False)


def escape_attr(text: str) -> str:
    """Escape an attribute value."""
    return html.escape(text, quote=True)


# Short names: the templates use them in nearly every line.
_t = escape_text
_a = escape_attr


def is_arabic(lang: str) -> bool:
    return lang == "ar"


def text_direction(lang: str) -> str:
    return "rtl" if is_arabic(lang) else "ltr"


def localized(en: str, ar: str, lang: str) -> str:
    """The label in the page's language."""
    return ar if is_arabic(lang) else en


def human_date(moment: datetime, lang: str) -> str:
    months = _MONTHS_AR if is_arabic(lang) else _MONTHS_EN
    return f"{moment.day} {months[moment.month - 1]} {moment.year}"


def article_href(article: Article, campaign: str | None = None) -> str:
    """The link to an article; the tracked article gets utm_* parameters, as real
    newsletters and promo boxes add them."""
    if campaign and article.path == TRACKED_ARTICLE_PATH:
        return f"{article.path}?{_TRACKING[campaign]}"
    return article.path


def section_name(slug: str, lang: str) -> str:
    en, ar = SECTIONS[slug]
    return localized(en, ar, lang)


# Shared boilerplate ----------------------------------------------------------------------


def page_head(title: str, description: str, lang: str, extra: Iterable[str] = ()) -> str:
    feeds_title = localized(SITE_NAME, SITE_NAME_AR, lang)
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
        f'<li><a href="{_a(href)}">{_t(localized(en, ar, lang))}</a></li>' for href, en, ar in _NAV
    )
    label = localized("Main menu", "القائمة الرئيسية", lang)
    return f'<nav class="main-nav" aria-label="{_a(label)}">\n<ul>\n{items}\n</ul>\n</nav>'


def _site_header(lang: str) -> str:
    name = localized(SITE_NAME, SITE_NAME_AR, lang)
    tagline = localized(TAGLINE, TAGLINE_AR, lang)
    return (
        '<header class="site-header">\n'
        '<div class="masthead"><a class="logo" href="/">'
        f'<img src="/static/logo.svg" alt="{_a(name)}" width="220" height="40"></a>\n'
        f'<p class="tagline">{_t(tagline)}</p>\n'
        f'<a class="subscribe-button" href="/newsletter/#subscribe">'
        f"{_t(localized('Subscribe', 'اشترك', lang))}</a></div>\n"
        f"{_nav(lang)}\n"
        "</header>\n"
        '<div class="ad-slot ad-leaderboard" data-ad-unit="top-banner">'
        f"{_t(localized('Advertisement', 'إعلان', lang))}</div>"
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
    rights = localized(
        f"© 2009–2025 {SITE_NAME}. All rights reserved.",
        f"© 2009–2025 {SITE_NAME_AR}. جميع الحقوق محفوظة.",
        lang,
    )
    return (
        '<footer class="site-footer">\n'
        f'<div class="footer-col"><h2>{_t(localized("Sections", "الأقسام", lang))}</h2>'
        f"<ul>{sections}</ul></div>\n"
        f'<div class="footer-col"><h2>{_t(localized("The Ledger", "عن الموقع", lang))}</h2>'
        f"<ul>{info}</ul></div>\n"
        f'<div class="footer-col"><h2>{_t(localized("Follow us", "تابعونا", lang))}</h2>'
        f'<ul>{social}<li><a href="/feed.xml">RSS</a></li><li><a href="/atom.xml">Atom</a></li>'
        '<li><a href="/sitemap.xml">Sitemap</a></li></ul></div>\n'
        f'<p class="copyright">{_t(rights)}</p>\n'
        "</footer>"
    )


def cookie_banner(lang: str) -> str:
    text = localized(
        "We use cookies to measure our audience and remember your preferences.",
        "نستخدم ملفات تعريف الارتباط لقياس عدد الزوار وتذكر تفضيلاتك.",
        lang,
    )
    accept = localized("Accept all", "قبول الكل", lang)
    reject = localized("Reject", "رفض", lang)
    policy = localized("Cookie policy", "سياسة ملفات تعريف الارتباط", lang)
    return (
        '<div id="cookie-banner" class="cookie-banner" role="dialog" aria-live="polite">\n'
        f'<p>{_t(text)} <a href="/cookies/">{_t(policy)}</a></p>\n'
        f'<button type="button" data-consent="accept">{_t(accept)}</button>\n'
        f'<button type="button" data-consent="reject">{_t(reject)}</button>\n'
        "</div>"
    )


def closing_scripts() -> str:
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


def newsletter_box(lang: str, pick: Article | None) -> str:
    title = localized("The Morning Brief", "النشرة الصباحية", lang)
    pitch = localized(
        "Our editors' pick of the day's news, in your inbox before breakfast.",
        "اختيارات محررينا لأهم أخبار اليوم، في بريدك قبل الإفطار.",
        lang,
    )
    button = localized("Sign up", "اشترك", lang)
    pick_html = ""
    if pick is not None:
        intro = localized("In this week’s issue:", "في عدد هذا الأسبوع:", lang)
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


def teaser(article: Article, *, campaign: str | None = None, heading: str = "h2") -> str:
    lang_attr = f' lang="{article.language}" dir="{text_direction(article.language)}"'
    return (
        f'<li class="teaser"{lang_attr}>'
        f'<{heading}><a href="{_a(article_href(article, campaign))}">{_t(article.title)}</a>'
        f"</{heading}>"
        f'<p class="teaser-lead">{_t(article.lead)}</p>'
        f'<time datetime="{article.published.isoformat()}">'
        f"{human_date(article.published, article.language)}</time></li>"
    )


def document(lang: str, head: str, body_class: str, main: str) -> str:
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="{lang}" dir="{text_direction(lang)}">\n'
        f"{head}\n"
        f'<body class="{body_class}">\n'
        f"{_site_header(lang)}\n"
        f'<main id="main">\n{main}\n</main>\n'
        f"{_site_footer(lang)}\n"
        f"{cookie_banner(lang)}\n"
        f"{closing_scripts()}\n"
        "</body>\n</html>\n"
    )
