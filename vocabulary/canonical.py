"""URL canonicalization: one spelling per resource, so each article is fetched once per crawl.

Pure functions, no I/O. The canonical form is also the URL we request: dropping tracking
parameters and sorting the query never changes what a news server returns, and requesting the
canonical spelling keeps the archive's URL index free of ``?utm_source=`` variants.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import unquote_plus, urljoin, urlsplit, urlunsplit

from w3lib.url import canonicalize_url

__all__ = [
    "DEFAULT_TRACKING_PARAMS",
    "UnsupportedURL",
    "canonical_from_page",
    "canonicalize",
    "host_of",
    "is_http_url",
]

# Exact parameter names (compared case-insensitively) that only identify a campaign or a click.
DEFAULT_TRACKING_PARAMS: frozenset[str] = frozenset(
    {
        "fbclid",
        "gclid",
        "dclid",
        "msclkid",
        "mc_cid",
        "mc_eid",
        "_ga",
        "_gl",
        "ref_src",
        "igshid",
        "yclid",
    }
)
# Prefixes: every utm_* parameter (utm_source, utm_medium, utm_campaign, utm_term, ...).
_TRACKING_PREFIXES: tuple[str, ...] = ("utm_",)
_DEFAULT_PORTS = {"http": 80, "https": 443}
_CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f]")


class UnsupportedURL(ValueError):
    """The URL cannot be crawled: not http(s), credentials in it, no host, or malformed."""


def _is_tracking(name: str, extra: frozenset[str]) -> bool:
    key = unquote_plus(name).strip().lower()
    return key in DEFAULT_TRACKING_PARAMS or key in extra or key.startswith(_TRACKING_PREFIXES)


def _strip_tracking(query: str, extra: frozenset[str]) -> str:
    # Work on the raw "k=v" pieces so the remaining values keep their exact bytes/encoding;
    # w3lib sorts and re-encodes them afterwards.
    kept = [
        part for part in query.split("&") if part and not _is_tracking(part.split("=", 1)[0], extra)
    ]
    return "&".join(kept)


def canonicalize(url: str, *, extra_tracking_params: Iterable[str] = ()) -> str:
    """The canonical spelling of an absolute http(s) URL.

    Lower-case scheme and host, IDNA host, no default port, no fragment, tracking parameters
    removed, query sorted, non-ASCII path percent-encoded as UTF-8, empty path as ``/``.
    Raises :class:`UnsupportedURL` for other schemes, userinfo, or a missing/invalid host/port.
    """
    text = _CONTROL_CHARS.sub("", url.strip())
    try:
        parts = urlsplit(text)
        port = parts.port  # raises ValueError for a non-numeric or out-of-range port
    except ValueError as exc:
        raise UnsupportedURL(f"malformed URL {url!r}: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise UnsupportedURL(f"only http and https URLs are crawled, not {scheme or 'relative'}:")
    if "@" in parts.netloc:
        # Credentials in a URL would end up in the archive and in logs; refuse them.
        raise UnsupportedURL(f"URL with user info refused: {scheme}://…@{parts.hostname}")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise UnsupportedURL(f"URL without a host: {url!r}")
    if ":" in host:  # IPv6 literal: urlsplit dropped the brackets
        host = f"[{host}]"
    netloc = host if port in (None, _DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    extra = frozenset(p.strip().lower() for p in extra_tracking_params if p.strip())
    query = _strip_tracking(parts.query, extra) if parts.query else ""
    rebuilt = urlunsplit((scheme, netloc, parts.path or "/", query, ""))
    try:
        # w3lib: IDNA host, lower-case host, UTF-8 percent-encoding of the path, upper-case
        # %XX, dot segments resolved, query sorted (blank values kept: ?amp= is meaningful).
        return canonicalize_url(rebuilt, keep_blank_values=True, keep_fragments=False)
    except (UnicodeError, ValueError) as exc:  # e.g. a host label that IDNA rejects
        raise UnsupportedURL(f"cannot encode URL {url!r}: {exc}") from None


def is_http_url(url: str) -> bool:
    """True when ``url`` canonicalizes (absolute http/https, no credentials)."""
    try:
        canonicalize(url)
    except UnsupportedURL:
        return False
    return True


def host_of(url: str) -> str:
    """The lower-case ASCII (IDNA) host of a canonicalizable URL, without port."""
    return urlsplit(canonicalize(url)).hostname or ""


def canonical_from_page(
    url: str,
    html_links: Iterable[tuple[str, str]],
    *,
    extra_tracking_params: Iterable[str] = (),
) -> str:
    """The canonical URL a fetched page declares for itself.

    ``html_links`` are the page's ``<link>`` elements as ``(rel, href)`` pairs (rel may hold
    several space-separated tokens; href may be relative). An AMP page points at its regular
    version with ``rel=canonical``, so the AMP page and the article share one canonical URL.
    ``rel=amphtml`` on a regular page is not followed: it names an alternative spelling, not
    the canonical one. A missing, non-http(s) or malformed declaration falls back to the
    page's own canonical URL.
    """
    own = canonicalize(url, extra_tracking_params=extra_tracking_params)
    for rel, href in html_links:
        tokens = {token.lower() for token in rel.split()}
        if "canonical" not in tokens or not href.strip():
            continue
        try:
            return canonicalize(
                urljoin(own, href.strip()), extra_tracking_params=extra_tracking_params
            )
        except UnsupportedURL:
            continue
    return own


def amp_alternate(url: str, html_links: Iterable[tuple[str, str]]) -> str | None:
    """The ``rel=amphtml`` URL a regular page links to (canonicalized), or None."""
    for rel, href in html_links:
        if "amphtml" in {token.lower() for token in rel.split()} and href.strip():
            try:
                return canonicalize(urljoin(url, href.strip()))
            except UnsupportedURL:
                continue
    return None
