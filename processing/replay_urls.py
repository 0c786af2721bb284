"""URLs of a replayed page, pointed into the archive (pure; shared by the HTML and CSS rewriters).

A captured page names its resources by live URLs. Replay turns each into
``/web/{timestamp}{modifier}/{absolute URL}`` (pywb's and the Wayback Machine's form), so the
browser asks the archive, which answers with the capture closest in time to the page's
timestamp. The modifier tells the archive how the resource is used: ``im_`` image, ``cs_``
stylesheet, ``js_`` script, ``oe_`` other embedded bytes (fonts, media, object/embed), ``if_``
and ``fr_`` a document in an iframe or frame, ``mp_`` the page itself, and none for a link the
reader follows (the archive's memento page for that URL).

URLs are resolved the way a browser does (WHATWG URL: tabs and newlines dropped, surrounding
spaces and control characters stripped, ``\\`` read as ``/`` in http(s) URLs), so a reference
the browser would follow is rewritten, never left pointing at the live web.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache
from urllib.parse import quote, urljoin, urlsplit

__all__ = [
    "DOCUMENT_MODIFIERS",
    "MODIFIERS",
    "ArchiveLinks",
    "Context",
    "parse_srcset",
]

# The modifiers the archive serves; "" is the memento page, "id_" the bytes unchanged.
MODIFIERS: frozenset[str] = frozenset({"", "id_", "mp_", "if_", "fr_", "im_", "cs_", "js_", "oe_"})
# Modifiers whose response is a document the browser navigates to (or frames).
DOCUMENT_MODIFIERS: frozenset[str] = frozenset({"", "mp_", "if_", "fr_"})

# C0 controls and space: what the URL parser strips from both ends of an attribute value.
_C0_AND_SPACE = "".join(chr(c) for c in range(0x21))
_TAB_NEWLINE = re.compile(r"[\t\n\r]")
_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.\-]*):")
# Characters left as they are in the path: the URL's own structure (and its %-escapes); the
# rest (spaces, quotes, <, >, backslashes, non-ASCII) is percent-encoded, so a rewritten URL
# can never close the attribute, CSS string or <style> element it is written into.
_SAFE = ":/?#[]@!$&'()*+,;=%~"
_NEEDS_QUOTING = re.compile(r"[^A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]")
_SRCSET_URL = re.compile(r"[\s,]*(\S+)")
_SRCSET_DESCRIPTORS = re.compile(r"[^,(]*(?:\([^)]*\)?[^,(]*)*")
# Schemes a link may keep: they open another program, not a web page.
_APP_SCHEMES = frozenset({"mailto", "tel", "sms", "callto", "geo"})


class Context(Enum):
    """How a reference is used: decides which non-http schemes may stay as they are."""

    RESOURCE = "resource"  # loaded into the page: data: and blob: stay (they load nothing)
    DOCUMENT = "document"  # a frame's or object's document: data: dropped (unrewritten HTML)
    LINK = "link"  # followed by the reader: mailto: and friends stay, data: dropped


@dataclass(frozen=True)
class ArchiveLinks:
    """Where a page captured at ``timestamp`` finds its resources in the archive."""

    timestamp: str  # 14 digits: the page's capture time, the time every lookup aims at
    prefix: str = "/web/"  # root-relative: served from the origin that serves the page

    def to(self, absolute: str, modifier: str) -> str:
        """The archive URL of ``absolute`` (an http(s) URL) used as ``modifier``."""
        if _NEEDS_QUOTING.search(absolute):
            absolute = quote(absolute, safe=_SAFE)
        return f"{self.prefix}{self.timestamp}{modifier}/{absolute}"

    def rewrite(
        self, reference: str, base: str, modifier: str, context: Context = Context.RESOURCE
    ) -> str | None:
        """``reference`` (as written in the page) pointed into the archive.

        Returns the reference unchanged when it loads nothing from the web (a ``#fragment``,
        ``data:`` or ``blob:`` in a resource, ``mailto:`` in a link, an empty value), the archive
        URL for an http(s) URL (relative ones resolved against ``base``), and None when it must
        go: ``javascript:``, ``vbscript:``, ``file:``, ``ftp:`` and every other scheme.
        """
        cleaned = _TAB_NEWLINE.sub("", reference).strip(_C0_AND_SPACE)
        if not cleaned or cleaned.startswith("#"):
            return reference
        match = _SCHEME.match(cleaned)
        scheme = match.group(1).lower() if match else None
        if scheme is not None and scheme not in ("http", "https"):
            if context is Context.RESOURCE and scheme in ("data", "blob"):
                return reference
            if context is Context.LINK and scheme in _APP_SCHEMES:
                return reference
            if scheme == "about" and cleaned.lower() in ("about:blank", "about:srcdoc"):
                return reference
            return None
        absolute = resolve(cleaned, base)
        if absolute is None:
            return None
        return self.to(absolute, modifier)


def resolve(reference: str, base: str) -> str | None:
    """``reference`` made absolute against ``base``; None unless the result is http(s)."""
    if _SCHEME.match(reference) is None or reference[:5].lower() in ("http:", "https"):
        # Browsers read a backslash as a slash in http(s) URLs: "\\evil.example/x" is a
        # host, not a path. Python's urljoin would keep it in the path.
        reference = reference.replace("\\", "/")
    fast = _join_plain(reference, base)
    if fast is not None:
        return fast
    try:
        absolute = urljoin(base, reference)
        parts = urlsplit(absolute)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return absolute


def _join_plain(reference: str, base: str) -> str | None:
    """The common cases without urljoin (a page has thousands of URLs, urljoin takes 50 µs):
    "/path", "//host/path", "path" and "https://host/path", none with dot segments. None
    means: let urljoin do it."""
    if "./" in reference or reference.endswith(".") or reference.startswith("?"):
        return None
    parsed = _base_parts(base)
    if parsed is None:
        return None
    scheme, origin, directory = parsed
    if reference.startswith("//"):
        return f"{scheme}:{reference}" if len(reference) > 2 and reference[2] != "/" else None
    if reference.startswith("/"):
        return origin + reference
    match = _SCHEME.match(reference)
    if match is None:
        return directory + reference
    if reference[len(match.group(0)) : len(match.group(0)) + 2] == "//":
        return reference if len(reference) > len(match.group(0)) + 2 else None
    return None


@lru_cache(maxsize=64)
def _base_parts(base: str) -> tuple[str, str, str] | None:
    """(scheme, "scheme://host[:port]", the base's directory ending in "/") of an http(s) base."""
    try:
        parts = urlsplit(base)
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.netloc:
        return None
    origin = f"{scheme}://{parts.netloc}"
    path = parts.path or "/"
    return scheme, origin, origin + path[: path.rfind("/") + 1]


def parse_srcset(value: str) -> list[tuple[str, str]]:
    """A ``srcset`` as (URL, descriptors) pairs, as the HTML standard's parser splits it.

    A URL is a run of non-space characters (it may hold commas: only trailing ones end it);
    its descriptors run to the next comma outside parentheses.
    """
    candidates: list[tuple[str, str]] = []
    position, length = 0, len(value)
    while position < length:
        match = _SRCSET_URL.match(value, position)
        if match is None:
            break
        url, position = match.group(1), match.end()
        descriptors = ""
        if url.endswith(","):
            url = url.rstrip(",")
        else:
            found = _SRCSET_DESCRIPTORS.match(value, position)
            assert found is not None  # the pattern matches the empty string
            descriptors, position = found.group(0).strip(), found.end() + 1
        if url:
            candidates.append((url, descriptors))
    return candidates


def rewrite_srcset(value: str, base: str, links: ArchiveLinks, modifier: str = "im_") -> str:
    """Every candidate of a ``srcset`` pointed into the archive; dropped schemes drop out."""
    kept = []
    for url, descriptors in parse_srcset(value):
        target = links.rewrite(url, base, modifier)
        if target is None:
            continue
        kept.append(f"{target} {descriptors}".rstrip())
    return ", ".join(kept)
