"""Bytes + Content-Type -> text, with an explicit charset policy (pure).

Why not Scrapy's `TextResponse.text`: Scrapy lets the HTTP header win over the page's
`<meta charset>` and its fallback detector only tries ascii/utf-8/cp1252, so a windows-1256
Arabic page served with the common server default `charset=ISO-8859-1` silently becomes
cp1252 mojibake (see reliability-notes §4.5). The raw bytes stay in the WARC; this module is the
one place that turns them into text, and it says how sure it is.

Policy, first match wins:
1. a per-source override (ops know better than the server);
2. a byte order mark;
3. the Content-Type charset and the `<meta>` declaration, reconciled: a Latin-1/ASCII/cp1252
   header is usually a server default, so a different meta wins over it; any other
   disagreement goes to the declaration that decodes without errors;
4. no declaration: strict UTF-8, then charset_normalizer;
5. UTF-8 with replacement characters.
Then a sanity check: a page in an Arabic-script language must decode to mostly Arabic letters,
and a page must not be full of U+FFFD. A clear mis-decoding is repaired when one candidate
codec gives clean Arabic text; otherwise the page is flagged `suspicious` with a note.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from typing import Literal

import charset_normalizer
from w3lib.encoding import (
    html_body_declared_encoding,
    http_content_type_encoding,
    read_bom,
    resolve_encoding,
)

Source = Literal["override", "bom", "header", "meta", "detected", "default"]

# w3lib resolves latin-1, iso-8859-1, us-ascii and windows-1252 all to cp1252 (WHATWG);
# these labels are what servers send when nobody configured a charset.
_WEAK_DEFAULTS = frozenset({"cp1252", "latin-1", "iso8859-1", "ascii"})
_ARABIC_SCRIPT_LANGS = frozenset({"ar", "fa", "ur", "ps", "ku", "ckb", "sd", "ug"})
# Codecs tried, in order, to repair text that should be Arabic but is not.
_ARABIC_CANDIDATES = ("utf-8", "cp1256", "iso8859-6")
_MIN_ARABIC_SHARE = 0.5  # share of Arabic-script letters among all letters
_MAX_REPLACEMENT_SHARE = 0.01  # U+FFFD per non-space character
_SAMPLE_CHARS = 20_000  # of visible text: enough to judge the script, cheap on big pages

_LANG_RE = re.compile(
    r"""<html\b[^>]*?\blang\s*=\s*["']?\s*([A-Za-z]{2,3})"""
    r"""|<meta\b[^>]*?http-equiv\s*=\s*["']?content-language["']?[^>]*?"""
    r"""content\s*=\s*["']?\s*([A-Za-z]{2,3})""",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class DecodedPage:
    """The decoded text and how it was decoded.

    `declared` is what the header and/or meta said (codec names as w3lib resolves them, e.g.
    "cp1252" for ISO-8859-1; "cp1252 (header), cp1256 (meta)" when they disagreed).
    `suspicious` means a person should check the charset; `note` says why, or records a repair.
    """

    text: str
    encoding: str
    declared: str | None
    source: Source
    suspicious: bool = False
    note: str | None = None


def decode_html(
    body: bytes,
    content_type: str | None,
    *,
    language_hint: str | None = None,
    override: str | None = None,
) -> DecodedPage:
    """Decode an HTML response body; never raises on bad bytes or unknown labels."""
    header = http_content_type_encoding(content_type)
    meta = html_body_declared_encoding(body)
    declared = _describe_declared(header, meta)

    forced = _codec(override) if override else None
    if forced:
        # Ops chose this codec: report problems but never second-guess it.
        page = _decode(body, forced, declared, "override")
        return _check(page, body, language_hint, repair=False)

    bom_codec, bom = read_bom(body)
    if bom_codec and bom:
        page = _decode(body[len(bom) :], _codec(bom_codec) or "utf-8", declared, "bom")
        return _check(page, body, language_hint, repair=False)

    page = _from_declarations(body, header, meta, declared) or _detect(body, declared)
    return _check(page, body, language_hint, repair=True)


def _describe_declared(header: str | None, meta: str | None) -> str | None:
    if header and meta and _codec(header) != _codec(meta):
        return f"{header} (header), {meta} (meta)"
    return header or meta


def _codec(label: str | None) -> str | None:
    """Canonical Python codec name for an encoding label (WHATWG aliases applied), or None."""
    if not label:
        return None
    resolved = resolve_encoding(label)
    if not resolved:
        return None
    try:
        return codecs.lookup(resolved).name
    except LookupError:
        return None


def _strict(body: bytes, codec: str) -> str | None:
    try:
        return body.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return None


def _decode(
    body: bytes, codec: str, declared: str | None, source: Source, note: str | None = None
) -> DecodedPage:
    text = body.decode(codec, errors="replace")
    return DecodedPage(text=text, encoding=codec, declared=declared, source=source, note=note)


def _from_declarations(
    body: bytes, header: str | None, meta: str | None, declared: str | None
) -> DecodedPage | None:
    """Decode with what the header and meta say, reconciled; None when nothing is declared."""
    header_codec, meta_codec = _codec(header), _codec(meta)
    candidates: list[tuple[str, Source]] = []
    if header_codec and meta_codec and header_codec != meta_codec:
        if header_codec in _WEAK_DEFAULTS:
            candidates = [(meta_codec, "meta"), (header_codec, "header")]
        else:
            candidates = [(header_codec, "header"), (meta_codec, "meta")]
    elif header_codec:
        candidates = [(header_codec, "header")]
    elif meta_codec:
        candidates = [(meta_codec, "meta")]
    if not candidates:
        return None

    if len(candidates) == 1 and candidates[0][0] in _WEAK_DEFAULTS and not body.isascii():
        # A lone "latin-1" is most often a server default; bytes that are valid UTF-8 with
        # multi-byte sequences are almost never real cp1252 text.
        text = _strict(body, "utf-8")
        if text is not None:
            note = f"declared {candidates[0][0]} but the bytes are valid UTF-8: decoded as UTF-8"
            return DecodedPage(text, "utf-8", declared, "detected", note=note)

    for codec, source in candidates:
        text = _strict(body, codec)
        if text is not None:
            return DecodedPage(text, codec, declared, source)

    found = _detect_clean(body)
    if found is not None:
        note = f"declared {declared} does not decode these bytes: detected {found[0]}"
        return DecodedPage(found[1], found[0], declared, "detected", note=note)
    codec, source = candidates[0]
    return _decode(body, codec, declared, source)


def _detect(body: bytes, declared: str | None) -> DecodedPage:
    """Undeclared bytes: strict UTF-8, then charset_normalizer, then UTF-8 with replacement."""
    found = _detect_clean(body)
    if found is not None:
        return DecodedPage(found[1], found[0], declared, "detected")
    return _decode(body, "utf-8", declared, "default")


def _detect_clean(body: bytes) -> tuple[str, str] | None:
    """(codec, text) for a codec that decodes the bytes without errors, or None."""
    text = _strict(body, "utf-8")
    if text is not None:
        return "utf-8", text
    best = charset_normalizer.from_bytes(body).best()
    codec = _codec(best.encoding) if best is not None else None
    if codec:
        text = _strict(body, codec)
        if text is not None:
            return codec, text
    return None


def page_language(text: str, hint: str | None) -> str | None:
    """The language the caller or the page itself claims (primary subtag, lower case)."""
    if hint:
        return hint.split("-")[0].split("_")[0].lower()
    match = _LANG_RE.search(text, 0, 20_000)
    if match:
        return (match.group(1) or match.group(2)).lower()
    return None


# Plain character ranges (no Unicode-category classes) keep the counts at C speed.
_ASCII_LETTER_RE = re.compile(r"[A-Za-z]")
_ARABIC_RE = re.compile(  # Arabic-script letters, without punctuation, digits and diacritics
    r"[\u0621-\u064a\u066e-\u06d3\u06fa-\u06fc\u0750-\u077f\ufb50-\ufdff\ufe70-\ufefc]"
)
_LATIN_SUPPLEMENT_RE = re.compile(r"[\u00c0-\u00ff]")  # Ø Ù Ã ...: UTF-8 read as cp1252
_SPACE_RE = re.compile(r"\s")


def _letter_counts(text: str) -> tuple[int, int, int]:
    """(letters, Arabic-script letters, Latin-1 supplement letters such as Ø Ù Ã).

    "Letters" counts only the three groups that matter here (ASCII, Arabic, Latin-1)."""
    text = text[:_SAMPLE_CHARS]
    arabic = len(_ARABIC_RE.findall(text))
    latin_sup = len(_LATIN_SUPPLEMENT_RE.findall(text))
    return len(_ASCII_LETTER_RE.findall(text)) + arabic + latin_sup, arabic, latin_sup


def _visible_text(html: str) -> str:
    """Rough text of the page: tags, scripts and styles removed (markup is mostly ASCII and
    would drown the script counts)."""
    html = re.sub(r"(?is)<(script|style)\b.*?</\1\s*>", " ", html)
    return re.sub(r"(?s)<[^>]*>", " ", html)


def _problem(text: str, codec: str, lang: str | None) -> str | None:
    """Why this text looks mis-decoded, or None."""
    visible = _visible_text(text)
    # The specific diagnosis first: mis-decoded UTF-8 Arabic also yields U+FFFD for the bytes
    # cp1252 leaves undefined (0x81, 0x8D, 0x8F, 0x90, 0x9D).
    if lang in _ARABIC_SCRIPT_LANGS:
        letters, arabic, latin_sup = _letter_counts(visible)
        if letters >= 20 and arabic / letters < _MIN_ARABIC_SHARE and latin_sup > arabic:
            return f"decoded as {codec} but text looks like mis-decoded Arabic: check the charset"
    replacements = visible.count("\ufffd")
    if not replacements:
        return None
    non_space = len(visible) - len(_SPACE_RE.findall(visible)) or 1
    if replacements > 20 or replacements / non_space > _MAX_REPLACEMENT_SHARE:
        return f"{replacements} undecodable byte sequences with {codec}: check the charset"
    return None


def _check(page: DecodedPage, body: bytes, hint: str | None, *, repair: bool) -> DecodedPage:
    """Flag (and where one candidate is clearly right, repair) a mis-decoded page."""
    if page.encoding == "utf-8" and "\ufffd" not in page.text:
        # Bytes that decode as UTF-8 without a single error are UTF-8: mojibake comes from
        # reading them (or legacy bytes) as something else. This is the common case, and
        # the check below costs about a millisecond per page.
        return page
    lang = page_language(page.text, hint)
    problem = _problem(page.text, page.encoding, lang)
    if problem is None:
        return page
    if repair and lang in _ARABIC_SCRIPT_LANGS:
        for codec in _ARABIC_CANDIDATES:
            if codec == page.encoding:
                continue
            text = _strict(body, codec)
            if text is not None and _problem(text, codec, lang) is None:
                note = f"{problem}; repaired: decoded as {codec} instead"
                return DecodedPage(text, codec, page.declared, "detected", note=note)
    if page.declared:
        problem = f"declared {page.declared}, {problem}"
    return DecodedPage(
        page.text, page.encoding, page.declared, page.source, suspicious=True, note=problem
    )
