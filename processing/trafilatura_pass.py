"""Which trafilatura document holds the page's main text (pure; trafilatura on our tree).

Its own extractor runs first alone (`fast`); the full cascade (readability/jusText comparison)
runs only when that pass looks thin or fell back to dumping the whole page.
"""

from __future__ import annotations

from typing import Any

import lxml.html
import trafilatura

from processing.recognition import MIN_WORDS
from processing.text import word_count

_THIN_SHARE = 0.5  # fast pass below this share of the page's paragraph words: try the rest
_THIN_PAGE_SHARE = 0.4  # ... or below this share of all the page's words outside links
_LONGER = 1.15  # the fallback's text wins when it is this much longer
_DUMP_WORDS = 150  # one block this long as the whole result: a page dump, not an extraction


def main_text(tree: lxml.html.HtmlElement) -> Any:
    """trafilatura's Document for the main text, or None when it finds nothing (or trips).

    Its own extractor runs first alone (`fast`): on most article pages it is right and the
    readability/jusText comparison costs about a third of the time. The fallbacks run only
    when that pass looks thin: less than an article's worth of text, or much less than the
    page's own paragraphs hold (a cheap count). Then the fuller result wins when it is
    clearly longer, so the body is never much shorter than trafilatura's own best."""
    doc = _run_trafilatura(tree, fast=True)
    words = _doc_words(doc)
    dump = _is_page_dump(doc)
    if (
        not dump
        and words >= MIN_WORDS
        and words >= _THIN_SHARE * _paragraph_words(tree)
        and words >= _THIN_PAGE_SHARE * _page_words(tree)
    ):
        return doc
    full = _run_trafilatura(tree, fast=False)
    if dump:
        # The fast pass found too little and fell back to the whole page's text; the full
        # pass (readability/jusText) finds the article itself when it finds enough.
        return full if _doc_words(full) >= MIN_WORDS else doc
    if full is None or (words >= MIN_WORDS and _doc_words(full) < _LONGER * words):
        return doc or full
    return full


def _is_page_dump(doc: Any) -> bool:
    """trafilatura's last resort (the page's whole text in one or two blocks): its own
    extraction, when it works, keeps the page's paragraphs apart."""
    body = getattr(doc, "body", None)
    if body is None or not 0 < len(body) <= 2:
        return False
    return max(word_count(" ".join(child.itertext())) for child in body) >= _DUMP_WORDS


def _paragraph_words(tree: lxml.html.HtmlElement) -> int:
    """Words in the page's <p> elements outside links: what an article's text is made of."""
    texts = tree.xpath("//body//p//text()[not(ancestor::a)]")
    return word_count(" ".join(texts))


# Text outside these is the page's own (articles written in <div>s and lists, not <p>s).
_NOT_TEXT = frozenset(
    {"a", "script", "style", "noscript", "nav", "header", "footer", "form", "select", "button"}
)


def _page_words(tree: lxml.html.HtmlElement) -> int:
    """Words of the page's body outside links, scripts, navigation and forms (a cheap walk,
    about a fifth of an XPath with ancestor tests)."""
    body = tree.find("body")
    if body is None:
        return 0
    texts: list[str] = []
    stack = [body]
    while stack:
        element = stack.pop()
        if element.text:
            texts.append(element.text)
        for child in element:
            if child.tail:
                texts.append(child.tail)
            if not (isinstance(child.tag, str) and child.tag in _NOT_TEXT):
                stack.append(child)
    return word_count(" ".join(texts))


def _run_trafilatura(tree: lxml.html.HtmlElement, *, fast: bool) -> Any:
    try:
        return trafilatura.bare_extraction(
            tree,  # it works on its own copy
            # No URL: trafilatura would resolve every link of the page (navigation included)
            # against it, about a tenth of its time; _inline resolves the body's links.
            url=None,
            fast=fast,
            include_comments=False,
            include_tables=True,
            include_formatting=True,
            include_links=True,
            # Asked for separately, only when needed (processing.metadata.FallbackMetadata).
            with_metadata=False,
            deduplicate=False,
        )
    except Exception:
        # A third-party parser on hostile input: whatever it trips on means "found nothing".
        return None


def _doc_words(doc: Any) -> int:
    body = getattr(doc, "body", None)
    return word_count(" ".join(body.itertext())) if body is not None else 0
