"""HTML page builders for the decode and extraction tests.

The pages imitate real news sites: navigation with many links, a related-articles list, a
footer, inline and external scripts, JSON-LD and OpenGraph metadata. They are built in code
rather than stored as files so each test can vary one thing (the charset, a meta tag, the
selectors) without copying a whole page.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass, field
from pathlib import Path

SEED_PATH = Path(__file__).resolve().parents[1] / "newsvault" / "sample_site" / "seed_ar.txt"


@dataclass(frozen=True)
class Seed:
    """The seed article: line 1 title, line 2 lead (standfirst), lines 3.. body paragraphs."""

    title: str
    lead: str
    paragraphs: list[str]


def load_seed() -> Seed:
    lines = [line for line in SEED_PATH.read_text(encoding="utf-8").splitlines() if line.strip()]
    return Seed(title=lines[0], lead=lines[1], paragraphs=lines[2:])


def _esc(text: str) -> str:
    return html.escape(text, quote=True)


_NAV_AR = [
    "الرئيسية",
    "سياسة",
    "اقتصاد",
    "إيران",
    "الخليج",
    "العراق",
    "سوريا",
    "لبنان",
    "فلسطين",
    "تركيا",
    "رياضة",
    "ثقافة",
    "تقارير",
    "مقالات",
    "فيديو",
    "اتصل بنا",
]

_RELATED_AR = [
    "قاآني يزور بغداد لبحث التطورات الإقليمية مع قادة الفصائل",
    "الحرس الثوري يعلن عن مناورات عسكرية واسعة في الخليج",
    "طهران ترحب بالمحادثات مع الرياض وتدعو إلى حوار إقليمي شامل",
    "وزير الخارجية الإيراني يصل إلى دمشق في زيارة رسمية",
    "أسعار النفط ترتفع بعد تصاعد التوتر في المنطقة",
    "البرلمان الإيراني يناقش مشروع قانون الموازنة الجديدة",
]


@dataclass
class PageOptions:
    """Knobs for `arabic_article_page`; the defaults give the realistic seed page."""

    lang: str | None = "ar"
    charset_meta: str | None = "utf-8"
    og_title: str | None = None  # None: title + " | ميدل ايست نيوز" (a suffixed og:title)
    date_published: str = "2021-05-15T18:30:00+04:30"
    date_modified: str | None = "2021-05-15T19:05:00+04:30"
    json_ld: bool = True
    json_ld_in_graph: bool = False
    accessible_for_free: bool | None = None
    extra_body_html: str = ""
    related: list[str] = field(default_factory=lambda: list(_RELATED_AR))


def arabic_article_page(seed: Seed | None = None, options: PageOptions | None = None) -> str:
    """The seed article as an Arabic news page (rtl) with site boilerplate around it."""
    seed = seed or load_seed()
    opts = options or PageOptions()
    site = "ميدل ايست نيوز"
    url = "https://mena-news.example/ar/iran/2021/05/15/quds-force-calls"
    og_title = opts.og_title if opts.og_title is not None else f"{seed.title} | {site}"
    ld = _news_article_ld(
        headline=seed.title,
        description=seed.lead,
        url=url,
        published=opts.date_published,
        modified=opts.date_modified,
        authors=["هيئة التحرير"],
        section="إيران",
        keywords=["إيران", "فلسطين", "فيلق القدس"],
        image="https://mena-news.example/media/2021/05/qaani.jpg",
        publisher=site,
        in_graph=opts.json_ld_in_graph,
        accessible_for_free=opts.accessible_for_free,
    )
    lang_attr = f' lang="{opts.lang}"' if opts.lang else ""
    charset = f'<meta charset="{opts.charset_meta}">' if opts.charset_meta else ""
    nav = "\n".join(
        f'<li><a href="/ar/section/{i}">{_esc(n)}</a></li>' for i, n in enumerate(_NAV_AR)
    )
    related = "\n".join(
        f'<li><a href="/ar/news/{1000 + i}"><img src="/media/t{i}.jpg" alt="">'
        f"<span>{_esc(r)}</span></a></li>"
        for i, r in enumerate(opts.related)
    )
    body = "\n".join(f"<p>{_esc(p)}</p>" for p in seed.paragraphs)
    ld_block = (
        f'<script type="application/ld+json">{json.dumps(ld, ensure_ascii=False)}</script>'
        if opts.json_ld
        else ""
    )
    return f"""<!DOCTYPE html>
<html{lang_attr} dir="rtl">
<head>
{charset}
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{_esc(og_title)}</title>
<meta name="description" content="{_esc(seed.lead)}">
<meta property="og:type" content="article">
<meta property="og:title" content="{_esc(og_title)}">
<meta property="og:description" content="{_esc(seed.lead)}">
<meta property="og:url" content="{url}">
<meta property="og:image" content="https://mena-news.example/media/2021/05/qaani.jpg">
<meta property="og:site_name" content="{_esc(site)}">
<meta property="article:published_time" content="{opts.date_published}">
<meta property="article:section" content="إيران">
<meta property="article:tag" content="إيران">
<meta property="article:tag" content="فلسطين">
<link rel="canonical" href="{url}">
<link rel="stylesheet" href="/static/site.css">
{ld_block}
<script>window.dataLayer = window.dataLayer || []; function gtag(){{dataLayer.push(arguments);}}
gtag('js', new Date()); gtag('config', 'G-XXXXXX');</script>
<script src="https://cdn.example/ads.js" async></script>
</head>
<body class="single-post">
<header class="site-header">
  <a class="logo" href="/ar/">{_esc(site)}</a>
  <nav class="main-nav"><ul>
{nav}
  </ul></nav>
  <form class="search" action="/ar/search"><input name="q" placeholder="بحث"></form>
</header>
<div class="breaking">عاجل: <a href="/ar/news/999">اجتماع طارئ لمجلس الأمن بشأن غزة</a></div>
<main>
<article class="post">
  <div class="post-meta"><a href="/ar/section/3">إيران</a>
    <time datetime="{opts.date_published}">15 مايو 2021</time></div>
  <h1 class="post-title">{_esc(seed.title)}</h1>
  <p class="lead">{_esc(seed.lead)}</p>
  <figure class="featured"><img src="https://mena-news.example/media/2021/05/qaani.jpg"
    alt="إسماعيل قاآني"><figcaption>إسماعيل قاآني</figcaption></figure>
  <div class="post-content entry-content">
{body}
{opts.extra_body_html}
  </div>
  <div class="share"><a href="https://twitter.com/share">تويتر</a>
    <a href="https://facebook.com/share">فيسبوك</a> <a href="#" onclick="print()">طباعة</a></div>
  <div class="tags"><a href="/ar/tag/iran">إيران</a> <a href="/ar/tag/palestine">فلسطين</a></div>
</article>
<aside class="related"><h3>أخبار ذات صلة</h3><ul>
{related}
</ul></aside>
</main>
<footer class="site-footer">
  <ul><li><a href="/ar/about">من نحن</a></li><li><a href="/ar/privacy">سياسة الخصوصية</a></li>
  <li><a href="/ar/contact">اتصل بنا</a></li></ul>
  <p>جميع الحقوق محفوظة © 2021 {_esc(site)}</p>
</footer>
<script>document.querySelectorAll('.share a').forEach(
  function (a) {{ a.target = '_blank'; }});</script>
</body>
</html>
"""


def _news_article_ld(
    *,
    headline: str,
    description: str,
    url: str,
    published: str,
    modified: str | None,
    authors: list[str],
    section: str,
    keywords: list[str],
    image: str,
    publisher: str,
    in_graph: bool = False,
    accessible_for_free: bool | None = None,
) -> dict[str, object]:
    article: dict[str, object] = {
        "@type": "NewsArticle",
        "headline": headline,
        "description": description,
        "mainEntityOfPage": {"@type": "WebPage", "@id": url},
        "datePublished": published,
        "author": [{"@type": "Person", "name": a} for a in authors],
        "articleSection": section,
        "keywords": keywords,
        "image": {"@type": "ImageObject", "url": image},
        "publisher": {"@type": "Organization", "name": publisher},
    }
    if modified:
        article["dateModified"] = modified
    if accessible_for_free is not None:
        article["isAccessibleForFree"] = accessible_for_free
    if in_graph:
        site = {"@type": "WebSite", "name": publisher, "url": "https://mena-news.example/"}
        return {"@context": "https://schema.org", "@graph": [site, article]}
    return {"@context": "https://schema.org", **article}


ENGLISH_TITLE = "City council approves new flood defences after a decade of delays"
ENGLISH_PARAGRAPHS = [
    "The city council voted on Tuesday to approve a £40m flood defence scheme for the river "
    "district, ending a decade of delays that residents described as “a slow-motion disaster”.",
    "The scheme will raise the embankment by 1.2 metres along a four-kilometre stretch and add "
    "pumping stations at three points where storm drains meet the river.",
    "“We have waited long enough,” said Maria Okafor, who chairs the residents’ association. "
    "“Every winter we move the furniture upstairs and hope.”",
    "Council officials said construction would begin in the spring and take about three years, "
    "with the most exposed streets protected first.",
    "Opposition councillors questioned the cost, but the motion passed by 31 votes to 9 after a "
    "debate that lasted more than four hours.",
]


def english_article_page(*, og_title: str | None = None, author: str = "Jane Doe") -> str:
    """An English article with only OpenGraph/meta metadata (no JSON-LD)."""
    og = og_title or f"{ENGLISH_TITLE} - The Daily Example"
    body = "\n".join(f"<p>{_esc(p)}</p>" for p in ENGLISH_PARAGRAPHS)
    nav = "\n".join(f'<li><a href="/{s}">{s.title()}</a></li>' for s in _EN_SECTIONS)
    return f"""<!doctype html>
<html lang="en-GB">
<head><meta charset="utf-8"><title>{_esc(og)}</title>
<meta property="og:type" content="article">
<meta property="og:title" content="{_esc(og)}">
<meta property="og:site_name" content="The Daily Example">
<meta property="og:image" content="https://daily.example/img/flood.jpg">
<meta property="article:published_time" content="2023-03-07T09:15:00Z">
<meta property="article:modified_time" content="2023-03-07T11:00:00+00:00">
<meta property="article:section" content="Local">
<meta property="article:tag" content="Flooding">
<meta property="article:tag" content="Council">
<meta name="author" content="{_esc(author)}">
<link rel="canonical" href="https://daily.example/local/flood-defences">
<script>var _paq = window._paq || []; _paq.push(['trackPageView']);</script>
</head>
<body>
<nav><ul>{nav}</ul></nav>
<div id="content">
<h1>{_esc(ENGLISH_TITLE)}</h1>
<div class="byline">By {_esc(author)}</div>
<div class="story-body">
{body}
</div>
<div class="newsletter"><p>Sign up to our newsletter</p></div>
</div>
<footer><p>© The Daily Example</p></footer>
</body></html>
"""


_EN_SECTIONS = [
    "news",
    "local",
    "politics",
    "business",
    "sport",
    "culture",
    "opinion",
    "weather",
    "travel",
    "science",
]


def section_page(n_links: int = 40) -> str:
    """A section (index) page: many headline links, teaser snippets, no article."""
    items = "\n".join(
        f'<li class="teaser"><a href="/ar/news/{2000 + i}"><h3>{_esc(_RELATED_AR[i % 6])} {i}</h3>'
        f'</a><span class="date">2021-05-{(i % 28) + 1:02d}</span></li>'
        for i in range(n_links)
    )
    nav = "\n".join(
        f'<li><a href="/ar/section/{i}">{_esc(n)}</a></li>' for i, n in enumerate(_NAV_AR)
    )
    return f"""<!DOCTYPE html>
<html lang="ar" dir="rtl"><head><meta charset="utf-8"><title>إيران | ميدل ايست نيوز</title>
<meta property="og:type" content="website">
<meta property="og:title" content="إيران">
</head><body>
<nav><ul>{nav}</ul></nav>
<main><h1>إيران</h1><ul class="list">
{items}
</ul><div class="pager"><a href="?page=2">التالي</a></div></main>
<footer><p>جميع الحقوق محفوظة</p></footer>
</body></html>
"""


def big_arabic_page(target_bytes: int = 60_000) -> str:
    """The seed page padded with comments-free boilerplate (related lists, menus) to ~60 KB,
    the page size the speed floor in issue 5 names."""
    seed = load_seed()
    related = list(_RELATED_AR)
    page = arabic_article_page(seed, PageOptions(related=related))
    while len(page.encode("utf-8")) < target_bytes:
        related = related + _RELATED_AR
        page = arabic_article_page(seed, PageOptions(related=related))
    return page
