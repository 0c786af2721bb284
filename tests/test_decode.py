"""Charset policy of processing/decode.py, on the seed article as a real Arabic page."""

from __future__ import annotations

import html

import pytest

from processing.decode import DecodedPage, decode_html
from tests.pages import PageOptions, arabic_article_page, load_seed

SEED = load_seed()


def _page(charset_meta: str | None) -> str:
    return arabic_article_page(SEED, PageOptions(charset_meta=charset_meta))


def _assert_arabic_intact(page: DecodedPage) -> None:
    text = html.unescape(page.text)
    assert SEED.title in text
    for paragraph in SEED.paragraphs:
        assert paragraph in text
    assert not page.suspicious, page.note


def test_windows_1256_declared_in_meta_only() -> None:
    body = _page("windows-1256").encode("cp1256")
    page = decode_html(body, "text/html")
    assert (page.encoding, page.source, page.declared) == ("cp1256", "meta", "cp1256")
    _assert_arabic_intact(page)


def test_latin1_header_loses_to_windows_1256_meta() -> None:
    # The common server default: Scrapy would let this header win and produce mojibake.
    body = _page("windows-1256").encode("cp1256")
    page = decode_html(body, "text/html; charset=ISO-8859-1")
    assert (page.encoding, page.source) == ("cp1256", "meta")
    assert page.declared == "cp1252 (header), cp1256 (meta)"
    _assert_arabic_intact(page)


def test_conflicting_strong_declarations_prefer_the_one_that_decodes() -> None:
    # Header says UTF-8 (not a server default), meta says windows-1256; the bytes are cp1256,
    # which is not valid UTF-8, so the meta wins.
    body = _page("windows-1256").encode("cp1256")
    page = decode_html(body, "text/html; charset=utf-8")
    assert (page.encoding, page.source) == ("cp1256", "meta")
    _assert_arabic_intact(page)


@pytest.mark.parametrize("hint", [None, "ar"])
def test_undeclared_windows_1256_is_detected(hint: str | None) -> None:
    body = _page(None).encode("cp1256")
    page = decode_html(body, None, language_hint=hint)
    assert (page.encoding, page.source, page.declared) == ("cp1256", "detected", None)
    _assert_arabic_intact(page)


def test_undeclared_short_arabic_is_right_or_flagged_never_silent_mojibake() -> None:
    # Too little text for a confident statistical guess: whatever comes out must be either
    # the Arabic text or flagged.
    body = f'<html lang="ar"><p>{SEED.title}</p></html>'.encode("cp1256")
    page = decode_html(body, None)
    assert SEED.title in page.text or page.suspicious


def test_iso_8859_6() -> None:
    # ISO-8859-6 has no typographic quotes: such pages carry them as character references.
    body = _page("iso-8859-6").encode("iso8859-6", errors="xmlcharrefreplace")
    page = decode_html(body, "text/html")
    assert (page.encoding, page.source) == ("iso8859-6", "meta")
    _assert_arabic_intact(page)


def test_utf8_bom_wins_over_wrong_declarations() -> None:
    body = b"\xef\xbb\xbf" + _page("windows-1256").encode("utf-8")
    page = decode_html(body, "text/html; charset=iso-8859-1")
    assert (page.encoding, page.source) == ("utf-8", "bom")
    assert not page.text.startswith("\ufeff")
    _assert_arabic_intact(page)


def test_utf8_declared_as_latin1_is_fixed_with_a_note() -> None:
    body = _page(None).encode("utf-8")
    page = decode_html(body, "text/html; charset=ISO-8859-1")
    assert (page.encoding, page.source) == ("utf-8", "detected")
    assert page.note and "valid UTF-8" in page.note
    _assert_arabic_intact(page)


def test_utf8_forced_to_latin1_by_override_is_flagged() -> None:
    # An override is obeyed, but the classic "Ø§ÙÙ" mojibake is named, not stored silently.
    body = _page("utf-8").encode("utf-8")
    page = decode_html(body, "text/html", override="iso-8859-1")
    assert (page.encoding, page.source) == ("cp1252", "override")
    assert "Ø" in page.text
    assert page.suspicious
    assert page.note and "mis-decoded Arabic" in page.note


def test_windows_1256_under_lone_latin1_header_is_repaired() -> None:
    # No meta, header says ISO-8859-1, the page says lang="ar": cp1252 decodes the bytes
    # "fine" but the text is not Arabic, so the Arabic candidates are tried.
    body = _page(None).encode("cp1256")
    page = decode_html(body, "text/html; charset=ISO-8859-1")
    assert page.encoding == "cp1256"
    assert page.note and "repaired" in page.note
    _assert_arabic_intact(page)


def test_mojibake_flag_uses_the_language_hint_when_the_page_has_no_lang() -> None:
    source = arabic_article_page(SEED, PageOptions(lang=None, charset_meta=None))
    body = source.encode("utf-8")
    plain = decode_html(body, "text/html", override="latin-1")
    hinted = decode_html(body, "text/html", override="latin-1", language_hint="ar")
    # Without a language the generic check still catches it, less precisely.
    assert plain.suspicious
    assert plain.note and "undecodable" in plain.note
    assert hinted.suspicious
    assert hinted.note and hinted.note.startswith("decoded as cp1252 but text looks like mis")


def test_many_replacement_characters_are_flagged() -> None:
    body = b"<html><body><p>" + bytes(range(0x80, 0x100)) * 8 + b"</p></body></html>"
    page = decode_html(body, "text/html; charset=utf-8", override="utf-8")
    assert page.suspicious
    assert page.note and "undecodable" in page.note


def test_unknown_labels_and_empty_bodies_never_raise() -> None:
    page = decode_html(b"<p>caf\xc3\xa9</p>", "text/html; charset=x-no-such-thing", override="nope")
    assert page.text == "<p>café</p>"
    assert page.encoding == "utf-8"
    empty = decode_html(b"", None)
    assert empty.text == ""
    assert not empty.suspicious


def test_plain_english_page_is_not_flagged() -> None:
    body = '<html lang="en"><meta charset="windows-1252"><p>“Quoted” café</p></html>'.encode(
        "cp1252"
    )
    page = decode_html(body, "text/html; charset=ISO-8859-1")
    assert page.text.endswith("<p>“Quoted” café</p></html>")
    assert (page.encoding, page.source, page.suspicious) == ("cp1252", "header", False)
