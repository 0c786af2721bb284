"""processing/extract.py: the seed comes back exactly; non-articles say why; nothing raises."""

from __future__ import annotations

import random
import re
from datetime import UTC, datetime

import pytest

from processing.dates import parse_datetime
from processing.extract import ExtractedArticle, NotAnArticle, Selectors, extract_article
from processing.sanitize import sanitize_html
from tests.pages import (
    ENGLISH_PARAGRAPHS,
    ENGLISH_TITLE,
    PageOptions,
    Seed,
    arabic_article_page,
    english_article_page,
    load_seed,
    section_page,
)

SEED = load_seed()
AR_URL = "https://mena-news.example/ar/iran/2021/05/15/quds-force-calls"
EN_URL = "https://daily.example/local/flood-defences"


def _article(
    html: str,
    url: str = AR_URL,
    *,
    selectors: Selectors | None = None,
    language_hint: str | None = None,
) -> ExtractedArticle:
    result = extract_article(html, url, selectors=selectors, language_hint=language_hint)
    assert isinstance(result, ExtractedArticle), result
    return result


def _rejected(html: str, url: str = AR_URL) -> str:
    result = extract_article(html, url)
    assert isinstance(result, NotAnArticle), result
    return result.reason


# --- the seed article ---------------------------------------------------------------------------


def test_seed_article_title_and_paragraphs_are_exact() -> None:
    article = _article(arabic_article_page(SEED))
    # og:title and <title> carry " | ميدل ايست نيوز"; the h1 (the page's headline) wins.
    assert article.title == SEED.title
    # The standfirst (seed line 2, <p class="lead">, equal to og:description) is kept apart.
    assert article.paragraphs == SEED.paragraphs
    assert article.lead == SEED.lead
    assert article.text == "\n".join(SEED.paragraphs)
    assert "“" in article.text  # typographic quotes kept as the page shows them


def test_seed_article_metadata() -> None:
    article = _article(arabic_article_page(SEED))
    assert article.language == "ar"
    assert article.published == datetime(2021, 5, 15, 14, 0, tzinfo=UTC)
    assert article.published_raw == "2021-05-15T18:30:00+04:30"
    assert article.modified == datetime(2021, 5, 15, 14, 35, tzinfo=UTC)
    assert article.authors == ["هيئة التحرير"]
    assert article.section == "إيران"
    assert article.tags == ["إيران", "فلسطين", "فيلق القدس"]
    assert article.top_image == "https://mena-news.example/media/2021/05/qaani.jpg"
    assert article.site_name == "ميدل ايست نيوز"
    assert article.canonical_url == AR_URL
    assert article.notes == ()


def test_seed_article_html_is_rtl_and_holds_every_paragraph() -> None:
    article = _article(arabic_article_page(SEED))
    assert article.html.startswith('<article dir="rtl" lang="ar">')
    assert article.html.count("<p>") == len(SEED.paragraphs)
    for paragraph in SEED.paragraphs:
        assert f"<p>{paragraph}</p>" in article.html


def test_json_ld_inside_graph_and_og_title_without_suffix() -> None:
    options = PageOptions(json_ld_in_graph=True, og_title=SEED.title)
    article = _article(arabic_article_page(SEED, options))
    assert article.title == SEED.title
    assert article.published == datetime(2021, 5, 15, 14, 0, tzinfo=UTC)
    assert article.authors == ["هيئة التحرير"]


def test_without_json_ld_opengraph_supplies_the_metadata() -> None:
    article = _article(arabic_article_page(SEED, PageOptions(json_ld=False)))
    assert article.title == SEED.title
    assert article.paragraphs == SEED.paragraphs
    assert article.published == datetime(2021, 5, 15, 14, 0, tzinfo=UTC)
    assert article.tags == ["إيران", "فلسطين"]


def test_bad_date_string_gives_none_and_keeps_the_raw_string() -> None:
    options = PageOptions(date_published="15/05/2021 nonsense", date_modified=None)
    article = _article(arabic_article_page(SEED, options))
    assert article.published is None
    assert article.published_raw == "15/05/2021 nonsense"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2021-05-15T18:30:00+04:30", datetime(2021, 5, 15, 14, 0, tzinfo=UTC)),
        ("2021-05-15T14:00:00Z", datetime(2021, 5, 15, 14, 0, tzinfo=UTC)),
        ("Sat, 15 May 2021 18:30:00 +0430", datetime(2021, 5, 15, 14, 0, tzinfo=UTC)),
        ("2021-05-15", datetime(2021, 5, 15, tzinfo=UTC)),  # no zone: taken as UTC
        ("May 15, 2021 6:30 PM GMT+4", None),  # POSIX-style offset: refused, not guessed
        ("not a date", None),
        ("", None),
        ("9999-99-99T99:99", None),
    ],
)
def test_parse_datetime(raw: str, expected: datetime | None) -> None:
    assert parse_datetime(raw) == expected


# --- language -----------------------------------------------------------------------------------


def test_declared_language_contradicting_the_script_loses_to_the_text() -> None:
    article = _article(arabic_article_page(SEED, PageOptions(lang="en")))
    assert article.language == "ar"


def test_language_from_the_text_when_nothing_is_declared() -> None:
    article = _article(arabic_article_page(SEED, PageOptions(lang=None)))
    assert article.language == "ar"
    assert article.html.startswith('<article dir="rtl" lang="ar">')


def test_language_hint_used_when_the_page_says_nothing() -> None:
    # A Persian hint on Arabic-script text is compatible, so the hint is kept.
    article = _article(arabic_article_page(SEED, PageOptions(lang=None)), language_hint="fa")
    assert article.language == "fa"


# --- an English page ----------------------------------------------------------------------------


def test_english_article() -> None:
    article = _article(english_article_page(), EN_URL)
    assert article.title == ENGLISH_TITLE  # og:title " - The Daily Example" suffix not taken
    assert article.paragraphs == ENGLISH_PARAGRAPHS
    assert article.language == "en"  # from lang="en-GB"
    assert article.authors == ["Jane Doe"]
    assert article.published == datetime(2023, 3, 7, 9, 15, tzinfo=UTC)
    assert article.modified == datetime(2023, 3, 7, 11, 0, tzinfo=UTC)
    assert article.section == "Local"
    assert article.tags == ["Flooding", "Council"]
    assert article.site_name == "The Daily Example"
    assert article.canonical_url == EN_URL
    assert article.lead is None
    assert article.html.startswith('<article dir="ltr" lang="en">')


def test_description_repeating_the_first_body_paragraph_stays_in_the_body() -> None:
    # WordPress-style excerpt: the description equals paragraph 1, which sits with the others.
    first = ENGLISH_PARAGRAPHS[0]
    page = english_article_page().replace(
        '<meta property="og:type"',
        f'<meta property="og:description" content="{first}">\n<meta property="og:type"',
    )
    article = _article(page, EN_URL)
    assert article.paragraphs == ENGLISH_PARAGRAPHS
    assert article.lead is None


# --- not articles -------------------------------------------------------------------------------


def test_section_page_is_a_listing() -> None:
    assert _rejected(section_page(), "https://mena-news.example/ar/section/3") == (
        "listing: a section page (/section/...) linking to 40 articles"
    )


def test_section_page_without_og_tags_under_an_article_url_is_still_a_listing() -> None:
    # The URL looks like an article's; the page's own text (mostly its links) decides.
    page = re.sub(r"<meta property=[^>]*>", "", section_page())
    assert re.fullmatch(r"listing: \d+% of the text is links, to 40 articles", _rejected(page))


def test_website_page_without_article_markers() -> None:
    text = " ".join(["Our newsroom publishes independent reporting every day."] * 8)
    page = (
        '<html lang="en"><head><meta property="og:type" content="website">'
        f"<title>About us</title></head><body><h1>About us</h1><p>{text}</p></body></html>"
    )
    assert _rejected(page, "https://daily.example/about") == (
        "not an article: og:type website, 56 words, no date or article markup"
    )


@pytest.mark.parametrize("page", ["", "   \n", "<html><head></head><body></body></html>"])
def test_empty_pages(page: str) -> None:
    assert _rejected(page) in {"empty page", "no article text found"}


def test_too_short_without_json_ld() -> None:
    page = (
        "<html><head><title>Brief</title></head><body><article><h1>Brief</h1>"
        "<p>Markets opened higher on Monday after a quiet weekend.</p></article></body></html>"
    )
    assert re.fullmatch(r"too short to be an article \(\d+ words\)", _rejected(page))


def test_paywalled_teaser() -> None:
    teaser = Seed(SEED.title, SEED.lead, SEED.paragraphs[:1])
    page = arabic_article_page(teaser, PageOptions(accessible_for_free=False))
    assert _rejected(page).startswith("paywalled")


def test_metered_article_with_its_full_text_is_an_article() -> None:
    page = arabic_article_page(SEED, PageOptions(accessible_for_free=False))
    assert _article(page).paragraphs == SEED.paragraphs


def test_binary_junk() -> None:
    rng = random.Random(5)
    junk = bytes(rng.randrange(256) for _ in range(20_000)).decode("latin-1")
    assert _rejected(junk) == "not HTML (binary or undecodable content)"
    assert _rejected("%PDF-1.4\n\x00\x01\x02" + "\x00" * 500) == (
        "not HTML (binary or undecodable content)"
    )
    # What decode_html gives for a JPEG body: mostly U+FFFD.
    jpeg = bytes(rng.randrange(256) for _ in range(5_000)).decode("utf-8", errors="replace")
    assert _rejected(jpeg) == "not HTML (binary or undecodable content)"


@pytest.mark.parametrize(
    "page",
    [
        "<",
        "<html",
        "<?xml version='1.0' encoding='utf-8'?><html><body><p>x</p></body></html>",
        "\x00" * 100,
        "<p>" * 10_000,
        "<div>" * 5_000 + "word " * 100,
        "<html><body><script>" + "x" * 1000,
        '<html><body><script type="application/ld+json">{"@type": [1, {}], "@graph": 7',
        "\ufeff<!doctype html><html><body>\udcff</body></html>",
    ],
)
def test_hostile_input_never_raises(page: str) -> None:
    assert isinstance(extract_article(page, "not a url"), NotAnArticle | ExtractedArticle)


# --- malformed but readable -------------------------------------------------------------------


def test_malformed_html_still_extracts() -> None:
    page = arabic_article_page(SEED)
    page = re.sub(r"</(p|li)>", "", page)  # no closing </p> or </li> anywhere
    page = page.replace("</body>\n</html>", "")  # truncated end
    page = page.replace("<h1 ", "</div></span><h1 ")  # stray end tags
    article = _article(page)
    assert article.title == SEED.title
    assert article.paragraphs[-len(SEED.paragraphs) :] == SEED.paragraphs
    # libxml2 nests the <figure> inside the unclosed lead <p>, so the lead no longer equals
    # og:description and stays in front of the body, its caption appended.
    assert article.paragraphs[0].startswith(SEED.lead)


def test_unclosed_inline_tag() -> None:
    first = SEED.paragraphs[2]
    page = arabic_article_page(SEED).replace(f"<p>{first[:20]}", f"<p><b>{first[:20]}")
    assert _article(page).paragraphs == SEED.paragraphs


# --- selectors ----------------------------------------------------------------------------------


def test_selectors_override_trafilatura() -> None:
    page = english_article_page().replace(
        '<div class="byline">By Jane Doe</div>',
        '<div class="byline">By John Roe</div><span class="when">2023-03-08 10:00:00+01:00</span>',
    )
    selectors = Selectors(title="#content h1", body="#content", author=".byline", date=".when")
    article = _article(page, EN_URL, selectors=selectors)
    # trafilatura drops the newsletter box; the site's selector says it is part of the body.
    assert article.paragraphs == [*ENGLISH_PARAGRAPHS, "Sign up to our newsletter"]
    assert article.title == ENGLISH_TITLE
    assert article.authors == ["John Roe"]
    assert article.published_raw == "2023-03-08 10:00:00+01:00"
    assert article.published == datetime(2023, 3, 8, 9, 0, tzinfo=UTC)


def test_body_selector_on_the_seed_page() -> None:
    selectors = Selectors(body="article .post-content")
    article = _article(arabic_article_page(SEED), selectors=selectors)
    assert article.paragraphs == SEED.paragraphs
    assert article.title == SEED.title


@pytest.mark.parametrize(
    ("selector", "note"), [(".no-such-box", "matched no paragraphs"), ("p[[", "is invalid")]
)
def test_selector_that_fails_falls_back_to_trafilatura_with_a_note(
    selector: str, note: str
) -> None:
    article = _article(arabic_article_page(SEED), selectors=Selectors(body=selector))
    assert article.paragraphs == SEED.paragraphs
    assert any(note in n for n in article.notes)


# --- sanitized HTML -----------------------------------------------------------------------------

HOSTILE = (
    "<p>"
    + "هذه فقرة طويلة بما يكفي لتبقى في النص المستخرج من الصفحة " * 3
    + '<a href="javascript:alert(1)">هنا</a> و<a href="/ar/x" onclick="steal()">هناك</a>'
    + ' <em onmouseover="x()">الآن</em>.<script>alert(2)</script>'
    + '<img src="x" onerror="alert(3)"><iframe src="https://evil.example/"></iframe></p>'
)


def _assert_safe(html: str) -> None:
    lowered = html.lower()
    assert "<script" not in lowered
    assert "<iframe" not in lowered
    assert "javascript:" not in lowered
    assert not re.search(r"\son[a-z]+\s*=", lowered)


def test_sanitized_html_from_trafilatura_has_no_active_content() -> None:
    article = _article(arabic_article_page(SEED, PageOptions(extra_body_html=HOSTILE)))
    _assert_safe(article.html)
    assert 'href="https://mena-news.example/ar/x"' in article.html  # made absolute
    assert 'rel="noopener noreferrer nofollow"' in article.html


def test_sanitized_html_from_selectors_has_no_active_content() -> None:
    page = arabic_article_page(SEED, PageOptions(extra_body_html=HOSTILE))
    article = _article(page, selectors=Selectors(body=".post-content"))
    _assert_safe(article.html)
    assert "<em>الآن</em>" in article.html


def test_sanitize_html_allowlist() -> None:
    cleaned = sanitize_html(
        '<p dir="rtl" lang="ar" style="color:red" class="x">نص <a href="mailto:a@b.c">بريد</a>'
        '<a href="data:text/html,x">d</a><img src="/i.png" alt="صورة" srcset="a 1x"></p>'
        "<h1>big</h1><table><tr><td>cell</td></tr></table>",
        "https://site.example/a/b",
    )
    _assert_safe(cleaned)
    assert '<p dir="rtl" lang="ar">' in cleaned
    assert 'href="mailto:a@b.c"' in cleaned
    assert "data:" not in cleaned
    assert '<img src="https://site.example/i.png" alt="صورة">' in cleaned
    assert "<h1>" not in cleaned
    assert "<table>" not in cleaned


def test_subheadings_lists_and_quotes_keep_document_order() -> None:
    extra = (
        "<h2>What happens next</h2>"
        "<p>Work starts in spring, officials said in a statement on Tuesday evening.</p>"
        "<ul><li>Phase one: the embankment</li><li>Phase two: the <em>pumping</em> stations</li>"
        "</ul><blockquote><p>“It is about time,” one resident wrote.</p></blockquote>"
    )
    page = english_article_page().replace(
        '</div>\n<div class="newsletter">', extra + '</div>\n<div class="newsletter">'
    )
    article = _article(page, EN_URL)
    assert article.paragraphs == [
        *ENGLISH_PARAGRAPHS,
        "What happens next",
        "Work starts in spring, officials said in a statement on Tuesday evening.",
        "Phase one: the embankment",
        "Phase two: the pumping stations",
        "“It is about time,” one resident wrote.",
    ]
    assert "<h2>What happens next</h2>" in article.html
    assert "<li>Phase two: the <em>pumping</em> stations</li>" in article.html
    assert "<blockquote>\n<p>“It is about time,” one resident wrote.</p>\n</blockquote>" in (
        article.html
    )


# --- body quality: tables, "read also" links, page dumps ------------------------------------


def _with_extra(extra: str) -> ExtractedArticle:
    page = english_article_page().replace(
        '</div>\n<div class="newsletter">', extra + '</div>\n<div class="newsletter">'
    )
    return _article(page, EN_URL)


def test_data_table_rows_are_body_text() -> None:
    article = _with_extra(
        "<table><tr><td>Embankment</td><td>4.2 m</td></tr>"
        "<tr><td>Pumping stations</td><td>3</td></tr></table>"
    )
    assert article.paragraphs[-2:] == ["Embankment 4.2 m", "Pumping stations 3"]


def test_a_short_paragraph_made_of_a_link_is_a_teaser_not_text() -> None:
    article = _with_extra(
        '<p><a href="/local/bridge-reopens">Read next: the old bridge reopens</a></p>'
        '<p>Details: <a href="https://www.example.org/plan">www.example.org/plan</a></p>'
    )
    assert "Read next: the old bridge reopens" not in article.paragraphs
    assert "bridge-reopens" not in article.html
    assert "Details: www.example.org/plan" in article.paragraphs  # an address written out


def test_link_teasers_still_make_a_listing() -> None:
    # recognition counts them before they leave the body
    assert _rejected(section_page()).startswith("listing: 87% of the text is links")


def test_a_page_dump_is_told_from_an_extraction() -> None:
    from types import SimpleNamespace

    from lxml import etree

    from processing.trafilatura_pass import _is_page_dump

    def doc(*paragraphs: str) -> SimpleNamespace:
        body = etree.Element("body")
        for text in paragraphs:
            etree.SubElement(body, "p").text = text
        return SimpleNamespace(body=body)

    page_text = " ".join(["menu entry, story teaser, footer link"] * 40)
    assert _is_page_dump(doc(page_text))  # trafilatura's last resort: the whole page at once
    assert not _is_page_dump(doc(*ENGLISH_PARAGRAPHS))
    assert not _is_page_dump(doc("A short note of a few words."))
    assert not _is_page_dump(None)


def test_json_output_says_why_the_page_is_an_article() -> None:
    from newsvault.output import extracted_dict
    from vocabulary.normalize import clean_text

    article = _article(arabic_article_page(SEED))
    assert article.recognition
    document = extracted_dict(article, clean_text)
    assert document["recognition"] == article.recognition
    assert document["text"].split("\n") == list(SEED.paragraphs)
