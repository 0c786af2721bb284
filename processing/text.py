"""Small text and HTML helpers shared by the extraction modules (pure)."""

from __future__ import annotations

import re
import unicodedata

import lxml.html
from lxml import etree
from soupsieve import SelectorSyntaxError

_WS_RE = re.compile(r"\s+")
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# Han, kana, hangul: scripts written without spaces between words.
_CJK_CLASS = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
_CJK_RE = re.compile(f"[{_CJK_CLASS}]+")
_CJK_ANY = re.compile(f"[{_CJK_CLASS}]")
_XML_DECL_RE = re.compile(r"^\s*<\?xml[^>]*\?>", re.IGNORECASE)

# What a bad site CSS selector raises in bs4/soupsieve: it must never stop an extraction.
SELECTOR_ERRORS = (SelectorSyntaxError, ValueError, NotImplementedError)

# The options trafilatura parses with (comments and processing instructions dropped), so the
# one tree parsed here serves our metadata readers, trafilatura's extractor and its metadata.
HTML_PARSER = lxml.html.HTMLParser(
    collect_ids=False, default_doctype=False, remove_comments=True, remove_pis=True
)


def tidy(text: str) -> str:
    """Plain whitespace tidying and NFC (the page's spelling and quotes kept).

    A local twin of `vocabulary.normalize.clean_text`, so extraction has no import-time coupling to
    the normalization module."""
    return unicodedata.normalize("NFC", _WS_RE.sub(" ", text).strip())


def word_count(text: str) -> int:
    """Words as spaces separate them; in Chinese, Japanese and Korean (no spaces between
    words) every two characters count as one word, about their average word length."""
    tokens = text.split()
    cjk = sum(len(m) for m in _CJK_RE.findall(text)) if _CJK_ANY.search(text) else 0
    if not cjk:
        return len(tokens)
    spaced = sum(1 for t in tokens if not _CJK_ANY.search(t))
    return spaced + max(1, cjk // 2)


def clean_source(html: str) -> str:
    """The page without control characters and without an XML declaration (which lxml refuses
    in a str)."""
    return _XML_DECL_RE.sub("", _CONTROL_RE.sub("", html), count=1)


def parse_html(source: str) -> lxml.html.HtmlElement | None:
    """The page's lxml tree, or None when lxml cannot make one."""
    try:
        return lxml.html.document_fromstring(source, parser=HTML_PARSER)
    except (etree.ParserError, ValueError, etree.LxmlError):
        return None
