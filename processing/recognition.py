"""Is this page an article? Each verdict is None (it is) or the reason why not (pure).

`input_rejection` looks at the raw text before any parsing; `article_rejection` decides from
what extraction found (the parsed page, its JSON-LD article and meta tags, the body's word
count). The reason strings are stored with the capture, so they stay stable.
"""

from __future__ import annotations

import re
from typing import Any

import lxml.html

from processing.metadata import MetaTags
from processing.text import word_count

MIN_WORDS = 40  # below this, without JSON-LD saying "article", it is a teaser or a stub
_PAYWALL_MAX_WORDS = 150  # a paywalled page shows at most a teaser of about this size
_LINK_LIST_RATIO = 0.5  # share of the page's words inside links on a section/index page
# Characters no text page contains in bulk: C0/C1 controls and U+FFFD (undecodable bytes).
_BINARY_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffd]")


def input_rejection(html: str) -> str | None:
    """Why the decoded page cannot be an article before parsing it (empty, binary), or None."""
    if not html or not html.strip():
        return "empty page"
    if _looks_binary(html):
        return "not HTML (binary or undecodable content)"
    return None


def _looks_binary(text: str) -> bool:
    """Binary junk decoded as text: many C0 controls or replacement characters up front."""
    head = text[:4096]
    return len(_BINARY_RE.findall(head)) > max(8, len(head) // 20)


def article_rejection(
    tree: lxml.html.HtmlElement,
    ld: dict[str, Any],
    meta: MetaTags,
    words: int,
    *,
    require_markers: bool = False,
) -> str | None:
    """Why this page is not an article, or None. Order matters: the most telling reason first.

    ``require_markers``: the page was not found through an article route, so only a page that
    declares itself an article (JSON-LD article, og:type article, article:published_time)
    passes."""
    og_type = (meta.first("og:type") or "").lower()
    strong = bool(ld) or og_type == "article" or bool(meta.first("article:published_time"))
    if require_markers and not strong:
        return "no article markers (JSON-LD article, og:type article) on a non-article route"
    if _paywalled(ld, meta) and words < _PAYWALL_MAX_WORDS:
        return f"paywalled ({words} words visible)"
    if not strong and _link_ratio(tree) >= _LINK_LIST_RATIO:
        return "link list, not an article"
    if words == 0:
        return "no article text found"
    weak = tree.find(".//article") is not None or bool(tree.xpath("//*[@itemprop='articleBody']"))
    if og_type == "website" and not (strong or weak):
        return "og:type website and no article markers"
    if words < MIN_WORDS and not ld:
        return f"too short to be an article ({words} words)"
    return None


def _paywalled(ld: dict[str, Any], meta: MetaTags) -> bool:
    free = ld.get("isAccessibleForFree")
    if free is False or (isinstance(free, str) and free.strip().lower() in {"false", "no"}):
        return True
    tier = (meta.first("article:content_tier") or "").lower()
    return tier in {"locked", "metered"}


def _link_ratio(tree: lxml.html.HtmlElement) -> float:
    """Share of the visible words of <body> that sit inside links."""
    body = tree.find("body")
    if body is None:
        return 0.0
    visible = body.xpath(
        ".//text()[not(ancestor::script or ancestor::style or ancestor::noscript)]"
    )
    total = word_count(" ".join(visible))
    linked = word_count(" ".join(body.xpath(".//a//text()")))
    return linked / total if total else 0.0
