"""URL canonicalization (pure)."""

from __future__ import annotations

import pytest

from vocabulary.canonical import (
    UnsupportedURL,
    amp_alternate,
    canonical_from_page,
    canonicalize,
    host_of,
    is_http_url,
)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("HTTP://Example.COM/a", "http://example.com/a"),
        ("http://example.com", "http://example.com/"),
        ("http://example.com:80/a", "http://example.com/a"),
        ("https://example.com:443/a", "https://example.com/a"),
        ("https://example.com:8443/a", "https://example.com:8443/a"),
        ("http://example.com:443/a", "http://example.com:443/a"),
        ("http://example.com/a#section-2", "http://example.com/a"),
        ("http://example.com/a?b=2&a=1&c=3", "http://example.com/a?a=1&b=2&c=3"),
        ("http://example.com/a?utm_source=x&utm_medium=y&id=5", "http://example.com/a?id=5"),
        ("http://example.com/a?UTM_Campaign=x&id=5", "http://example.com/a?id=5"),
        (
            "http://example.com/a?fbclid=1&gclid=2&mc_cid=3&mc_eid=4&_ga=5&ref_src=6&id=7",
            "http://example.com/a?id=7",
        ),
        ("http://example.com/a?utm_source=x", "http://example.com/a"),
        ("http://example.com/a?amp=&id=1", "http://example.com/a?amp=&id=1"),
        ("http://example.com/a/../b/./c", "http://example.com/b/c"),
        ("http://example.com/%7euser", "http://example.com/~user"),
        ("http://example.com/a%2fb", "http://example.com/a%2Fb"),
        ("http://example.com/مقال", "http://example.com/%D9%85%D9%82%D8%A7%D9%84"),
        (
            "http://example.com/%D9%85%D9%82%D8%A7%D9%84",
            "http://example.com/%D9%85%D9%82%D8%A7%D9%84",
        ),
        ("http://example.com/a b", "http://example.com/a%20b"),
        ("https://Bücher.example/", "https://xn--bcher-kva.example/"),
        ("http://مثال.إختبار/", "http://xn--mgbh0fb.xn--kgbechtv/"),
        ("http://example.com./a", "http://example.com/a"),
        ("  http://example.com/a\n", "http://example.com/a"),
        ("http://[::FFFF:7F00:1]:8080/", "http://[::ffff:7f00:1]:8080/"),
        ("http://127.0.0.1:8741/news/", "http://127.0.0.1:8741/news/"),
    ],
)
def test_canonicalize(url: str, expected: str) -> None:
    assert canonicalize(url) == expected


def test_idempotent() -> None:
    for url in ["http://Ex.com:80/a?b=1&utm_x=2&a=%7e#f", "https://bücher.de/مقال?q=ä"]:
        once = canonicalize(url)
        assert canonicalize(once) == once


def test_extra_tracking_params() -> None:
    url = "http://example.com/a?ito=rss&id=1&CMP=share"
    assert canonicalize(url, extra_tracking_params=["ito", "cmp"]) == "http://example.com/a?id=1"
    assert canonicalize(url) == "http://example.com/a?CMP=share&id=1&ito=rss"


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "data:text/html,<h1>x</h1>",
        "ftp://example.com/a",
        "javascript:alert(1)",
        "mailto:a@example.com",
        "/relative/path",
        "http://user:secret@example.com/",
        "http://user@example.com/",
        "http://",
        "http://example.com:99999/",
        "http://example.com:abc/",
    ],
)
def test_unsupported(url: str) -> None:
    with pytest.raises(UnsupportedURL):
        canonicalize(url)
    assert not is_http_url(url)


def test_host_of() -> None:
    assert host_of("HTTP://News.Example.COM:8080/a") == "news.example.com"


def test_canonical_link_declared() -> None:
    links = [("stylesheet", "/s.css"), ("Canonical", "/story/5?utm_source=x")]
    assert (
        canonical_from_page("http://example.com/story?id=5&print=1", links)
        == "http://example.com/story/5"
    )


def test_amp_page_points_to_regular_article() -> None:
    links = [("canonical", "https://example.com/news/a1")]
    assert canonical_from_page("https://example.com/amp/news/a1", links) == (
        "https://example.com/news/a1"
    )


def test_amphtml_is_not_the_canonical() -> None:
    links = [("amphtml", "/amp/a1")]
    url = "https://example.com/a1"
    assert canonical_from_page(url, links) == url
    assert amp_alternate(url, links) == "https://example.com/amp/a1"
    assert amp_alternate(url, []) is None


def test_bad_canonical_declaration_falls_back() -> None:
    url = "https://example.com/a1?utm_source=x"
    for links in ([("canonical", "")], [("canonical", "javascript:void(0)")], []):
        assert canonical_from_page(url, links) == "https://example.com/a1"
