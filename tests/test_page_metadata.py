"""processing/page_metadata.py answers exactly what trafilatura.extract_metadata answers.

It mirrors trafilatura's function and skips the author search on pages that cannot match it;
these tests compare both on pages with and without bylines, and check that the skip's marker
words cover every literal of trafilatura's author expressions (a trafilatura upgrade that
adds one fails here, not silently in production).
"""

from __future__ import annotations

import re

import lxml.html
import pytest
import trafilatura
from trafilatura.xpaths import AUTHOR_XPATHS

from bench.corpus import article_page, generate_corpus
from bench.generated_site import render_site
from processing.page_metadata import (
    AUTHOR_MARKERS,
    PageMetadataFields,
    may_name_an_author,
    page_date,
    page_metadata,
)
from tests.pages import arabic_article_page, english_article_page, section_page

URL = "https://news.example/2021/05/story.html"

_CATEGORY_AND_TAG_LINKS = [
    '<div class="entry-meta"><a href="/category/world/">World</a></div>',
    '<div class="tags"><a href="/tag/iran/">Iran</a><a href="/tags/syria/">Syria</a></div>',
    '<footer class="entry-footer"><a href="/categories/politics/">Politics</a></footer>',
    '<p class="entry-tags"><a href="/tag/gaza/">Gaza</a></p>',
]

_BYLINES = [
    '<p class="byline">By Jane Doe</p>',
    '<a rel="author" href="/jane">Jane Doe</a>',
    '<span itemprop="author">Jane Doe</span>',
    '<div data-component="Byline">Jane Doe and John Roe</div>',
    '<span class="AuthorName">Jane Doe</span>',
    '<div id="zuozhe">Zhang San</div>',
    '<span class="journalist-name">Jane Doe</span>',
    '<span class="writer">Jane Doe</span>',
    "<author>Jane Doe</author>",
]


def _bare_page(extra: str) -> str:
    paragraphs = "".join(
        f"<p>Paragraph {n} of the story, long enough to count.</p>" for n in range(8)
    )
    return (
        "<!doctype html><html lang='en'><head><title>A story | Example News</title></head>"
        f"<body><nav><a href='/'>Home</a><a href='/world/'>World</a></nav>{extra}"
        f"<article><h1>A story</h1>{paragraphs}</article></body></html>"
    )


def _pages() -> list[str]:
    corpus = generate_corpus(40, seed=5, near_share=0.0, exact_share=0.0)
    generated = [body for path, (_, body) in render_site(6).items() if "story" in path]
    return [
        arabic_article_page(),
        english_article_page(),
        english_article_page(author=""),
        section_page(),
        *(_bare_page(byline) for byline in _BYLINES),
        *(_bare_page(links) for links in _CATEGORY_AND_TAG_LINKS),
        _bare_page("").replace(
            "</head>", '<meta property="article:section" content="World"></head>'
        ),
        _bare_page(""),
        *(article_page(doc, corpus.docs).decode() for doc in corpus.docs[:4]),
        *(body.decode() for body in generated),
    ]


@pytest.mark.parametrize("page", _pages())
def test_same_answer_as_trafilatura(page: str) -> None:
    ours = page_metadata(page, URL)
    theirs = trafilatura.extract_metadata(page, default_url=URL)
    assert ours is not None

    def fields(document: trafilatura.settings.Document) -> dict[str, object]:
        # body and commentsbody are lxml elements (compared by identity): always None here.
        return {k: v for k, v in document.as_dict().items() if k not in ("body", "commentsbody")}

    assert fields(ours) == fields(theirs)
    # The date asked for on its own (when a page's markup has none) is trafilatura's too.
    without_date = page_metadata(page, URL, with_date=False)
    assert without_date is not None and without_date.date is None
    assert fields(without_date) == {**fields(theirs), "date": None}
    assert page_date(lxml.html.fromstring(page), URL) == theirs.date
    # Each field asked for alone (what extraction's fallback does) is trafilatura's too.
    alone = PageMetadataFields(lxml.html.fromstring(page), URL)
    for name in ("title", "author", "url", "hostname", "sitename", "image"):
        assert alone.text(name) == getattr(theirs, name), name
    assert alone.categories() == theirs.categories
    assert alone.tags() == theirs.tags


@pytest.mark.parametrize("byline", _BYLINES)
def test_a_byline_is_still_found(byline: str) -> None:
    page = _bare_page(byline)
    assert may_name_an_author(trafilatura.load_html(page))
    metadata = page_metadata(page, URL)
    assert metadata is not None and metadata.author


@pytest.mark.parametrize("links", _CATEGORY_AND_TAG_LINKS)
def test_category_and_tag_links_are_still_found(links: str) -> None:
    metadata = page_metadata(_bare_page(links), URL)
    assert metadata is not None and (metadata.categories or metadata.tags)


def test_a_page_without_marker_words_skips_the_search() -> None:
    assert not may_name_an_author(trafilatura.load_html(_bare_page("")))
    # Words of the text do not count: only attributes and element names can match.
    prose = _bare_page("<p>The authorities said the writer was not the author.</p>")
    assert not may_name_an_author(trafilatura.load_html(prose))
    assert may_name_an_author(trafilatura.load_html(_bare_page('<p class="x" rel="author">')))


def test_markers_cover_every_literal_of_trafilaturas_author_expressions() -> None:
    markers = [marker.lower() for marker in AUTHOR_MARKERS]
    for expression in AUTHOR_XPATHS:
        path = expression.path
        # The attribute values a page must hold for the expression to match anything:
        needed = [
            value
            for pair in re.findall(
                r"@[\w-]+\s*=\s*'([^']*)'|(?:contains|re:test)\(@[\w-]+,\s*'([^']*)'\)", path
            )
            for value in pair
            if value
        ]
        # name='x' without @ compares a child element's text, //name selects an element:
        # both are covered by the element check (processing/page_metadata.py, _AUTHOR_ELEMENTS).
        elements = re.findall(r"(?<![@\w:-])([a-z]+)\s*=\s*'", path)
        elements += re.findall(r"//([a-z]+)\b", path)
        assert set(elements) <= {"author", "rel"}, elements
        assert needed, path
        for literal in needed:
            # A regex matches if one of its alternatives does: each must be covered.
            for alternative in literal.split("|"):
                plain = re.sub(r"\[(\w)\w*\]", r"\1", alternative).replace("-?", "").lower()
                assert any(marker in plain for marker in markers), (
                    f"trafilatura's author expression needs {alternative!r}, which no marker "
                    "covers: add one to processing/page_metadata.py"
                )
