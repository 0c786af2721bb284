"""Text normalization: the stored text and the matching key.

Two different jobs, kept apart on purpose:

- ``clean_text`` gives the text we *store and show*. It only tidies: Unicode NFC, whitespace,
  invisible junk. The page's own spelling and punctuation are kept, because archivists quote
  it and a version diff must show what the site really changed.
- ``matching_key`` gives an aggressive key for *comparing* texts (exact dedup by hash,
  near-duplicate shingles, search). Two spellings of the same story must give the same key.

Why the project owns this instead of using a library: camel-tools pulls in torch and CUDA
wheels (over 1 GB) and pyarabic is GPL, so neither is a dependency. Their documented mappings
and Lucene's ``ArabicNormalizer`` are the reference the tests check against. Pitfalls seen in
stock normalizers and avoided here:

- alef maqsura (ى) turned into alef; here it becomes yeh (ي), as in Lucene;
- hamza-on-alef (أ إ) kept apart from bare alef; here all alef forms (أ إ آ ٱ) become ا;
- tatweel (ـ) left in place; here it is removed;
- after unifying alef forms a run of alefs stays ("قاآني" -> "قااني" while "قآني" -> "قاني");
  here a run of alefs collapses to one, so both spellings give "قاني".

Everything is done with ``str.translate`` tables built once at import: this runs on every
article a worker processes.
"""

from __future__ import annotations

import hashlib
import re
import string
import unicodedata

__all__ = ["clean_text", "content_hash", "matching_key", "matching_tokens"]

# Invisible characters that only carry junk in scraped text. ZWNJ (U+200C) is NOT here: Persian
# and Urdu spelling needs it inside words. ZWJ (U+200D) is not either: emoji sequences need it.
_INVISIBLE_JUNK = (
    "\u200b"  # zero width space
    "\u2060"  # word joiner
    "\ufeff"  # byte order mark / zero width no-break space
)

# C0/C1 control characters other than tab and line breaks: never text, and PostgreSQL
# refuses NUL in text columns.
_CONTROL_CHARS = "".join(
    chr(c)
    for c in [*range(0x00, 0x20), 0x7F, *range(0x80, 0xA0)]
    if chr(c) not in "\t\n\r\x0b\x0c\x1c\x1d\x1e\x85"
)

_CLEAN_TABLE = str.maketrans("", "", _INVISIBLE_JUNK + _CONTROL_CHARS)


def clean_text(text: str) -> str:
    """The stored form of a text: NFC, tidy whitespace, spelling and punctuation kept.

    Each line is stripped and its inner whitespace runs (including no-break spaces) become
    one space; blank lines are dropped, so paragraphs are separated by exactly one newline
    (the ``"\\n".join(paragraphs)`` shape the extractor produces).
    """
    text = unicodedata.normalize("NFC", text).translate(_CLEAN_TABLE)
    lines = (" ".join(line.split()) for line in text.splitlines())
    return "\n".join(line for line in lines if line)


# --- matching key -------------------------------------------------------------------------

_ALEF = "\u0627"

# Arabic marks removed from the key: tashkeel (fathatan .. U+065F, which includes shadda, sukun
# and the combining hamza/madda marks), superscript alef, Quranic annotation marks, tatweel.
_ARABIC_MARKS = (
    "".join(chr(c) for c in range(0x064B, 0x0660))
    + "\u0670"
    + "".join(chr(c) for c in range(0x06D6, 0x06EE))
    + "\u0640"
)

# Format characters that change nothing a reader sees: bidi controls, soft hyphen, ZWJ.
_INVISIBLE_FORMAT = (
    _INVISIBLE_JUNK
    + "\u00ad"  # soft hyphen
    + "\u200d"  # zero width joiner
    + "\u200e\u200f"  # LRM, RLM
    + "".join(chr(c) for c in range(0x202A, 0x202F))  # embeddings and overrides
    + "".join(chr(c) for c in range(0x2066, 0x206A))  # isolates
    + "\u061c"  # Arabic letter mark
)

_ARABIC_LETTER_FOLDS = {
    "\u0623": _ALEF,  # أ alef with hamza above
    "\u0625": _ALEF,  # إ alef with hamza below
    "\u0622": _ALEF,  # آ alef with madda above
    "\u0671": _ALEF,  # ٱ alef wasla
    "\u0649": "\u064a",  # ى alef maqsura -> ي yeh (NOT alef)
    "\u0629": "\u0647",  # ة teh marbuta -> ه heh
    "\u06cc": "\u064a",  # ی Farsi yeh -> ي
    "\u06a9": "\u0643",  # ک keheh (Persian kaf) -> ك
    "\u0624": "\u0648",  # ؤ waw with hamza above -> و
    "\u0626": "\u064a",  # ئ yeh with hamza above -> ي
    "\u06c0": "\u0647",  # ۀ heh with yeh above (Persian ezafe) -> ه
    "\u200c": " ",  # ZWNJ separates morphemes: a space in the key, as Lucene's PersianCharFilter
}


def _build_matching_table() -> dict[int, str | None]:
    table: dict[int, str | None] = {}
    # Scanning the BMP once (about 20 ms at import) catches every punctuation mark and decimal
    # digit in the scripts news sites use; supplementary planes hold none that matter here.
    for code in range(0x10000):
        char = chr(code)
        category = unicodedata.category(char)
        if category.startswith("P"):
            table[code] = " "
        elif category == "Nd" and code >= 0x80:
            table[code] = str(unicodedata.decimal(char))
        elif category in ("Zs", "Zl", "Zp"):
            table[code] = " "
    for char in string.punctuation:  # $ + < = > ^ ` | ~ are symbols, not punctuation, in Unicode
        table[ord(char)] = " "
    for char in _ARABIC_MARKS + _INVISIBLE_FORMAT + _CONTROL_CHARS:
        table[ord(char)] = None
    for source, target in _ARABIC_LETTER_FOLDS.items():
        table[ord(source)] = target
    return table


_MATCHING_TABLE = _build_matching_table()
_ALEF_RUN = re.compile(_ALEF + "{2,}")


def matching_key(text: str) -> str:
    """Aggressive comparison key: NFKC, casefold, Arabic folding, no punctuation, one line.

    Two texts that differ only in diacritics, tatweel, alef/yeh/heh spelling variants,
    digit script, quotes and punctuation, case or whitespace get the same key. Idempotent.
    """
    text = unicodedata.normalize("NFKC", text).casefold().translate(_MATCHING_TABLE)
    # After alef forms are unified, "قاآني" reads "قااني": a run of alefs is one alef.
    text = _ALEF_RUN.sub(_ALEF, text)
    return " ".join(text.split())


def matching_tokens(text: str) -> list[str]:
    """The words of the matching key."""
    return matching_key(text).split()


def content_hash(title: str, text: str) -> str:
    """SHA-256 hex of the title's and text's matching keys: equal for the "same" content."""
    return hash_of_keys(matching_key(title), matching_key(text))


def hash_of_keys(title_key: str, text_key: str) -> str:
    """:func:`content_hash` from matching keys already computed."""
    return hashlib.sha256((title_key + "\n" + text_key).encode("utf-8")).hexdigest()


def joined_key(title_key: str, text_key: str) -> str:
    """``matching_key(title + "\n" + text)`` from the two keys already computed.

    The key never spans the line break (NFKC does not compose across it, and an alef run
    cannot cross it), so joining the keys gives the same string without a second pass.
    """
    return f"{title_key} {text_key}" if title_key and text_key else title_key or text_key
