"""The article's language and text direction (pure; cheap letter counts, no models).

`RTL_LANGUAGES` is the one list of right-to-left languages: the extractor's `<article dir>`
and the web UI's direction both come from it.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import lxml.html

    from processing.metadata import MetaTags

# Languages written (in the news we archive) in the Arabic script: the letter counts below
# tell them from Latin-script text.
ARABIC_SCRIPT_LANGUAGES = frozenset({"ar", "fa", "ur", "ps", "ku", "ckb", "sd", "ug"})
# Written right to left: the Arabic-script languages, Hebrew and Yiddish, Dhivehi (Thaana).
RTL_LANGUAGES = ARABIC_SCRIPT_LANGUAGES | {"he", "yi", "dv"}
# A declared language among these is wrong for a page whose text is mostly Latin letters.
_NON_LATIN_LANGUAGES = ARABIC_SCRIPT_LANGUAGES | {
    "he",
    "yi",
    "ru",
    "uk",
    "bg",
    "el",
    "zh",
    "ja",
    "ko",
    "hi",
    "th",
}
# Frequent English function words: enough to tell English from other Latin-script text.
_ENGLISH_WORDS = frozenset(
    {"the", "of", "and", "to", "in", "a", "is", "that", "for", "on", "was", "with", "as"}
    | {"by", "at", "from", "it", "he", "said", "has", "have", "are", "be"}
)
_LETTER_RE = re.compile(r"[^\W\d_]")
_ARABIC_LETTER_RE = re.compile(r"[\u0620-\u064a\u066e-\u06d3\u06d5\u06ee-\u06ff\u0750-\u077f]")
_LATIN_LETTER_RE = re.compile(r"[A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f]")


def page_language(
    tree: lxml.html.HtmlElement, meta: MetaTags, hint: str | None, text: str
) -> str | None:
    """The page's declared language unless the text's script contradicts it.

    Order: <html lang>, content-language meta, the caller's hint; each checked against the
    script of the extracted text, because templates keep lang="en" on translated pages."""
    script, guess = script_language(text)
    declared = [tree.get("lang"), meta.first("content-language", "language", "dc.language"), hint]
    for candidate in declared:
        code = _primary_subtag(candidate)
        if code:
            return code if _compatible(code, script) else guess
    return guess


def _primary_subtag(value: str | None) -> str | None:
    if not value:
        return None
    code = re.split(r"[-_,;\s]", value.strip(), maxsplit=1)[0].lower()
    return code if re.fullmatch(r"[a-z]{2,3}", code) else None


def _compatible(code: str, script: str | None) -> bool:
    if script == "arabic":
        return code in ARABIC_SCRIPT_LANGUAGES
    if script == "latin":
        return code not in _NON_LATIN_LANGUAGES
    return True


def script_language(text: str) -> tuple[str | None, str | None]:
    """(dominant script, a cheap language guess) from letter counts; (None, None) if unsure."""
    sample = text[:5000]
    # Regex counts: a Python loop over every character cost more than the rest of this step.
    letters = len(_LETTER_RE.findall(sample))
    if letters < 20:
        return None, None
    arabic = len(_ARABIC_LETTER_RE.findall(sample))
    latin = len(_LATIN_LETTER_RE.findall(sample))
    if arabic / letters > 0.5:
        return "arabic", _arabic_script_language(sample)
    if latin / letters > 0.5:
        tokens = re.findall(r"[a-z]+", sample.lower())
        english = sum(1 for t in tokens if t in _ENGLISH_WORDS)
        return "latin", "en" if tokens and english / len(tokens) > 0.08 else None
    return None, None


def _arabic_script_language(text: str) -> str:
    persian = sum(text.count(ch) for ch in "پچژگکی")
    urdu = sum(text.count(ch) for ch in "ٹڈڑںے")
    arabic_only = sum(text.count(ch) for ch in "ةيكى")
    if urdu > max(persian, arabic_only) / 4 and urdu > 3:
        return "ur"
    return "fa" if persian > arabic_only else "ar"


def language_direction(language: str | None) -> str:
    """``rtl`` for a right-to-left language code (primary subtag), else ``ltr``."""
    return "rtl" if language in RTL_LANGUAGES else "ltr"


def page_direction(tree: lxml.html.HtmlElement, language: str | None) -> str:
    """The page's own `dir` (on <html>, then <body>), else the language's direction."""
    body = tree.find("body")
    for element in (tree, body):
        value = (element.get("dir") or "").lower() if element is not None else ""
        if value in {"rtl", "ltr"}:
            return value
    return language_direction(language)
