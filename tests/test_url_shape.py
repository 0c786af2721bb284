"""vocabulary/url_shape.py: what a URL's shape says, in the languages the archive meets."""

from __future__ import annotations

import pytest

from vocabulary.url_shape import url_shape


@pytest.mark.parametrize(
    "url",
    [
        "http://news.example/ar/world/2021/05/qaani-calls-palestinians.html",
        "http://news.example/news/123456",
        "http://news.example/2021/05/23/",
        "http://news.example/?p=4711",
        "http://news.example/story.php?id=1234",
        # An Arabic headline slug, percent-encoded as it comes over the wire.
        "http://news.example/%D9%82%D8%A2%D9%86%D9%8A-%D9%8A%D8%AF%D8%B9%D9%88-%D8%A7%D9%84%D9%81%D9%84%D8%B3%D8%B7%D9%8A%D9%86%D9%8A%D9%8A%D9%86",
    ],
)
def test_article_shapes(url: str) -> None:
    assert url_shape(url).role == "article"


@pytest.mark.parametrize(
    "url",
    [
        "http://news.example/",
        "http://news.example/world/",
        "http://news.example/author/jane-doe-smith",
        "http://news.example/tag/iran-nuclear-talks",
        "http://news.example/topics/climate",
        "http://news.example/section/world/?page=2",
        "http://news.example/world/page/3",
        "http://news.example/search?q=qaani",
        "http://news.example/كتاب/محمد-علي-حسن",
        "http://news.example/%D9%88%D8%B3%D9%85/%D8%A5%D9%8A%D8%B1%D8%A7%D9%86",
    ],
)
def test_listing_shapes(url: str) -> None:
    assert url_shape(url).role == "listing"


def test_a_shape_without_evidence_says_so() -> None:
    shape = url_shape("http://news.example/world/europe")
    assert shape.role is None
    assert shape.reason


def test_every_verdict_has_a_reason() -> None:
    for url in ("http://x/author/a", "http://x/news/123456", "http://x/about"):
        assert url_shape(url).reason
