"""processing/language.py: one right-to-left list; the extractor and the web UI agree on it."""

from __future__ import annotations

import lxml.html
import pytest

from newsvault.web.render import text_direction
from processing.extract import ExtractedArticle, extract_article
from processing.language import (
    ARABIC_SCRIPT_LANGUAGES,
    RTL_LANGUAGES,
    page_direction,
    script_language,
)

# Hebrew letters: neither Arabic nor Latin script, so any declared language is kept as is.
_HEBREW_SENTENCE = "העירייה אישרה את התוכנית החדשה להגנה מפני שיטפונות בשכונות הנהר. "


def _page(lang: str) -> str:
    paragraphs = "".join(f"<p>{n} {_HEBREW_SENTENCE * 3}</p>" for n in range(4))
    return (
        f'<html lang="{lang}"><head><title>כותרת הכתבה</title>'
        '<meta property="og:type" content="article"></head>'
        f"<body><article><h1>כותרת הכתבה</h1>{paragraphs}</article></body></html>"
    )


def test_the_right_to_left_list_holds_the_arabic_script_languages_and_the_others() -> None:
    assert ARABIC_SCRIPT_LANGUAGES <= RTL_LANGUAGES
    assert {"he", "yi", "dv", "ps", "ckb", "sd", "ug", "ur", "fa", "ar", "ku"} <= RTL_LANGUAGES


@pytest.mark.parametrize("language", sorted(RTL_LANGUAGES))
def test_extractor_and_web_agree_on_every_right_to_left_language(language: str) -> None:
    bare = lxml.html.document_fromstring("<html><body><p>x</p></body></html>")
    assert page_direction(bare, language) == text_direction(language) == "rtl"
    article = extract_article(_page(language), "https://news.example/a/1")
    assert isinstance(article, ExtractedArticle)
    assert article.language == language
    assert article.html.startswith(f'<article dir="rtl" lang="{language}">')
    assert text_direction(article.language) == "rtl"


@pytest.mark.parametrize("language", ["en", "fr", "de", "ru", "tr", "zh", None])
def test_extractor_and_web_agree_on_left_to_right_languages(language: str | None) -> None:
    bare = lxml.html.document_fromstring("<html><body><p>x</p></body></html>")
    assert page_direction(bare, language) == "ltr"
    assert text_direction(language) in {"ltr", "auto"}  # auto: the web lets the browser look


def test_the_page_dir_attribute_wins_over_the_language() -> None:
    tree = lxml.html.document_fromstring('<html dir="ltr"><body><p>x</p></body></html>')
    assert page_direction(tree, "ar") == "ltr"
    tree = lxml.html.document_fromstring('<html><body dir="RTL"><p>x</p></body></html>')
    assert page_direction(tree, "en") == "rtl"


def test_web_direction_reads_the_primary_subtag() -> None:
    assert text_direction("he-IL") == text_direction("ckb_IQ") == "rtl"
    assert text_direction("en-GB") == "ltr"


def test_script_language_guesses() -> None:
    assert script_language("short") == (None, None)
    assert script_language("the cat sat on the mat and it was said " * 3) == ("latin", "en")
    assert script_language("الخارجية الإيرانية في زيارة رسمية " * 3) == ("arabic", "ar")
