"""The article's language and text direction (pure).

The text's language comes from py3langid (its model ships in the package, about 140 languages;
loaded once per process, on first use), checked against what the page declares. Letter counts
give the script, which settles a declaration in the wrong script at no cost, and a guess when
the text is too short for the model.

`RTL_LANGUAGES` is the one list of right-to-left languages: the extractor's `<article dir>`
and the web UI's direction both come from it.
"""

from __future__ import annotations

import re
from functools import cache
from typing import TYPE_CHECKING, Any

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
    """The page's declared language unless the text contradicts it, else the text's language.

    Declarations in order: <html lang>, content-language meta, og:locale; templates keep
    lang="en" on translated pages, so each is checked against the text: a declaration in
    another script loses to the text, and so does one the model confidently contradicts on a
    text long enough to judge (close languages such as no/da or bs/hr aside; Latin and Arabic
    script only). The caller's hint
    (the site's configuration) is checked against the script only: the operator's word."""
    script, guess = script_language(text)
    detected = text_language(text, script, guess)
    declared = [
        tree.get("lang"),
        meta.first("content-language", "language", "dc.language"),
        meta.first("og:locale"),
    ]
    for candidate in declared:
        code = _primary_subtag(candidate)
        if code:
            if not _compatible(code, script) or _contradicted(code, detected, script, text):
                return detected or guess
            return code
    code = _primary_subtag(hint)
    if code:
        return code if _compatible(code, script) else detected or guess
    return detected or guess


# Codes the model gives that the archive files under a broader one.
_ALIASES = {"ary": "ar", "arz": "ar", "nb": "no", "sdh": "ku", "uzs": "uz", "gug": "gn"}
# Languages the model tells apart less surely than their writers do: a declaration among the
# same group is never overruled.
_CLOSE_GROUPS = (
    frozenset({"no", "nb", "nn", "da"}),
    frozenset({"bs", "hr", "sr", "sh", "me"}),
    frozenset({"ms", "id"}),
    frozenset({"gl", "pt"}),
    frozenset({"ca", "oc", "es"}),
    frozenset({"cs", "sk"}),
    frozenset({"af", "nl"}),
    frozenset({"lb", "de"}),
    frozenset({"be", "ru", "uk"}),
    frozenset({"mk", "bg"}),
    frozenset({"zh", "wuu", "yue"}),
    frozenset({"hi", "mr", "ne", "sa"}),
    frozenset({"fa", "tg", "prs"}),
    frozenset({"ar", "ary", "arz"}),
)
_SAMPLE_CHARS = 1200  # a few paragraphs: the model is as sure, at a third of the cost
_MIN_LETTERS_TO_GUESS = 30  # no declaration: the model's answer on a sentence or more
_MIN_LETTERS_TO_OVERRULE = 200  # a declaration loses only to a paragraph or more
_MIN_CONFIDENCE = 0.9


@cache
def _identifier() -> Any:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def load_model() -> None:
    """Load py3langid's model now (about 3 s) rather than on the first page: a worker calls
    this before forking its pool, so every child starts with it."""
    _identifier()


def detect_language(text: str) -> tuple[str | None, float]:
    """(py3langid's language for the text, its probability), or (None, 0.0) when the text has
    too few letters to say."""
    ranked = _ranked(text)
    return ranked[0] if ranked else (None, 0.0)


def _ranked(text: str) -> list[tuple[str, float]]:
    sample = text[:_SAMPLE_CHARS]
    if len(_LETTER_RE.findall(sample)) < _MIN_LETTERS_TO_GUESS:
        return []
    ranked = _identifier().rank(sample)
    return [(_ALIASES.get(code, code), float(p)) for code, p in ranked if code != "zxx"]


def text_language(text: str, script: str | None = None, guess: str | None = None) -> str | None:
    """The text's language: py3langid's when it is sure, else the letter-count guess.

    In the Arabic script the model's best Arabic-script language is taken (it tells ar, fa,
    ur, ps, ku apart by words as well as by letters)."""
    ranked = _ranked(text)
    if not ranked:
        return guess
    if script == "arabic":
        return next((c for c, _ in ranked if c in ARABIC_SCRIPT_LANGUAGES), guess)
    code, probability = ranked[0]
    return code if probability >= _MIN_CONFIDENCE else guess


def _contradicted(declared: str, detected: str | None, script: str | None, text: str) -> bool:
    """Whether a long enough text is, surely, in another language than the declared one.

    Judged in the Latin and Arabic scripts only: in another script (Hebrew, Cyrillic, CJK)
    a declaration is kept as it is."""
    if script not in {"latin", "arabic"} or detected is None or detected == declared:
        return False
    if declared not in _labels():
        return False
    if any(declared in group and detected in group for group in _CLOSE_GROUPS):
        return False
    return len(_LETTER_RE.findall(text[:_SAMPLE_CHARS])) >= _MIN_LETTERS_TO_OVERRULE


@cache
def _labels() -> frozenset[str]:
    return frozenset(_ALIASES.get(c, c) for c in _identifier().nb_classes)


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
