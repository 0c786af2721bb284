"""processing/recognition.py through extract_article: article, listing or other, with a reason."""

from __future__ import annotations

import json

from processing.extract import ExtractedArticle, NotAnArticle, extract_article
from tests.pages import PageOptions, Seed, arabic_article_page, load_seed

SEED = load_seed()
SITE = "https://daily.example"
PROSE = [
    "The council approved the new flood defences on Tuesday after a long debate in the town"
    " hall, where residents had gathered since the early afternoon to hear the plans.",
    "Engineers said the embankment along the river would be raised by a metre over two years,"
    " and that the pumping stations built in the seventies would finally be replaced.",
    "Opponents argued that the money would be better spent on drainage in the older streets,"
    " which flood every winter, but the vote passed with a comfortable majority.",
    "Work is due to start in the spring, once the ground has dried and the contractors have"
    " finished the surveys the environment agency asked for last year.",
]


def _page(
    body: str,
    *,
    head: str = "",
    title: str = "Council approves flood defences",
    nav_links: int = 0,
) -> str:
    nav = "".join(
        f'<li><a href="/news/2023/03/story-number-{i}-in-the-menu">Menu story number {i} of'
        " the day</a></li>"
        for i in range(nav_links)
    )
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
        f"{head}</head><body><nav><ul>{nav}</ul></nav><h1>{title}</h1>{body}"
        "<footer><p>© The Daily Example</p></footer></body></html>"
    )


def _prose() -> str:
    return "".join(f"<p>{p}</p>" for p in PROSE)


def _teasers(n: int) -> str:
    return "".join(
        f'<div class="teaser"><h3><a href="/news/2023/03/{1000 + i}/flood-story-number-{i}">'
        f"Flood story number {i} makes the headlines</a></h3><p>A short teaser for story {i}."
        "</p></div>"
        for i in range(n)
    )


def _article_ld(kind: str = "NewsArticle") -> str:
    data = {"@context": "https://schema.org", "@type": kind, "headline": "Listing"}
    return f'<script type="application/ld+json">{json.dumps(data)}</script>'


def _accepted(html: str, url: str, route: str | None = None) -> ExtractedArticle:
    result = extract_article(html, url, route=route)
    assert isinstance(result, ExtractedArticle), result
    assert result.recognition.startswith("article: ")
    return result


def _refused(html: str, url: str, route: str | None = None) -> str:
    result = extract_article(html, url, route=route)
    assert isinstance(result, NotAnArticle), result
    assert result.reason
    return result.reason


def test_unmarked_article_is_an_article() -> None:
    article = _accepted(_page(_prose()), f"{SITE}/local/council-approves-flood-defences")
    assert article.paragraphs == PROSE
    assert "no article markup" in article.recognition
    assert "headline slug" in article.recognition


def test_author_page_with_article_markup_is_a_listing() -> None:
    head = _article_ld() + '<meta property="og:type" content="article">'
    page = _page(_teasers(24), head=head, title="Jane Doe")
    reason = _refused(page, f"{SITE}/author/jane-doe")
    assert reason == "listing: an author page (/author/...) linking to 24 articles"


def test_tag_page_with_og_article_is_a_listing() -> None:
    page = _page(_teasers(12), head='<meta property="og:type" content="article">', title="Iran")
    assert _refused(page, f"{SITE}/tag/iran") == (
        "listing: a tag page (/tag/...) linking to 12 articles"
    )


def test_section_page_with_pagination_is_a_listing() -> None:
    page = _page(_teasers(20) + '<a href="/section/world/page/3">Next</a>', title="World")
    assert _refused(page, f"{SITE}/section/world/page/2").startswith(
        "listing: a section page (/section/...) linking to"
    )


def test_a_page_crawled_as_a_section_is_a_listing_whatever_its_markup() -> None:
    # A sloppy site's section front: article markup, a date, real teasers with prose, and a
    # URL whose shape says nothing; the crawler reached it as a section.
    head = _article_ld() + '<meta property="article:published_time" content="2023-03-01">'
    page = _page(_teasers(6) + _prose(), head=head, title="World")
    assert _refused(page, f"{SITE}/world/", route="section") == (
        "listing: crawled as a section, linking to 6 pages"
    )
    # The same page reached through an article route stays an article.
    _accepted(page, f"{SITE}/world/", route="article")


def test_listing_under_an_article_url_is_told_by_its_text() -> None:
    teasers = "".join(
        f'<p><a href="/news/2023/03/{1000 + i}/flood-story-number-{i}">Flood story number {i}'
        " makes the headlines</a> teaser.</p>"
        for i in range(20)
    )
    page = _page(teasers, title="Latest")
    reason = _refused(page, f"{SITE}/news/2023/03/latest-stories-of-the-day")
    assert reason.startswith("listing: ") and "of the text is links" in reason


def test_long_article_under_heavy_navigation_is_an_article() -> None:
    page = _page(_prose() * 3, nav_links=150)
    article = _accepted(page, f"{SITE}/local/council-approves-flood-defences")
    assert article.paragraphs == PROSE * 3


def test_og_type_website_on_a_real_article_is_an_article() -> None:
    head = '<meta property="og:type" content="website">'
    article = _accepted(_page(_prose(), head=head), f"{SITE}/2023/03/07/flood-defences")
    assert article.paragraphs == PROSE


def test_info_page_with_og_website_is_other() -> None:
    page = _page(
        "<p>We are a small team of reporters based in the town centre.</p>" * 6,
        head='<meta property="og:type" content="website">',
        title="About us",
    )
    assert _refused(page, f"{SITE}/about").startswith("not an article: og:type website")


def test_an_article_route_wins_over_a_listing_shaped_url() -> None:
    # A site whose article pattern matches /topics/<slug>: the crawler says it is an article.
    page = _page(_prose() + _teasers(10))
    article = _accepted(page, f"{SITE}/topics/flood-defences", route="article")
    assert "reached through an article route" in article.recognition
    assert _refused(page, f"{SITE}/topics/flood-defences").startswith("listing: a tag page")


def test_exploration_route_wants_more_than_a_short_unmarked_page() -> None:
    page = _page(f"<p>{PROSE[0]}</p><p>{PROSE[1]}</p>")
    url = f"{SITE}/services"
    assert _refused(page, url, route="page").startswith("not an article: ")


def test_paywalled_teaser_with_evidence_is_refused() -> None:
    teaser = Seed(SEED.title, SEED.lead, SEED.paragraphs[:1])
    page = arabic_article_page(teaser, PageOptions(accessible_for_free=False))
    reason = _refused(page, "https://mena-news.example/ar/iran/2021/05/15/quds-force-calls")
    assert reason.startswith("paywalled (")


def test_long_free_article_with_a_metered_tier_is_an_article() -> None:
    head = '<meta property="article:content_tier" content="metered">'
    article = _accepted(_page(_prose() * 2, head=head), f"{SITE}/local/flood-defences-approved")
    assert article.paragraphs == PROSE * 2


def test_short_teaser_with_a_metered_tier_is_not_called_paywalled() -> None:
    head = '<meta property="article:content_tier" content="metered">'
    reason = _refused(_page("<p>Short.</p>", head=head), f"{SITE}/local/flood")
    assert not reason.startswith("paywalled")


def test_seed_article_unchanged_and_explained() -> None:
    url = "https://mena-news.example/ar/iran/2021/05/15/quds-force-calls"
    for route in (None, "article", "page"):
        article = _accepted(arabic_article_page(SEED), url, route=route)
        assert article.title == SEED.title
        assert article.paragraphs == SEED.paragraphs
        assert article.lead == SEED.lead
        assert "JSON-LD NewsArticle" in article.recognition
