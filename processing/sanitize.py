"""The one nh3 (ammonia) policy for HTML that newsvault stores or shows.

`ARTICLE_BODY` is what extraction stores: the block structure it builds itself, wrapped in
`<article dir lang>`. `ARCHIVE_VIEW` is the variant the web UI applies again on every render:
the same rules without the `<article>` wrapper (the page template sets the direction) and with
a wider allowlist (tables, pre/code, h1-h6, title attributes, ...). Both share the URL rules:
http(s)/mailto only, relative URLs made absolute against the page, rel=nofollow.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import nh3

URL_SCHEMES = frozenset({"http", "https", "mailto"})
_LINK_REL = "noopener noreferrer nofollow"
_URL_ATTRIBUTES = frozenset({("a", "href"), ("img", "src")})


@dataclass(frozen=True)
class SanitizePolicy:
    """An allowlist: the tags kept and, per tag ("*" for all), the attributes kept."""

    tags: frozenset[str]
    attributes: dict[str, frozenset[str]]


_BODY_TAGS = frozenset(
    {"article", "p", "h2", "h3", "h4", "ul", "ol", "li", "blockquote", "figure", "img", "a"}
    | {"em", "strong", "b", "i", "br"}
)

ARTICLE_BODY = SanitizePolicy(
    tags=_BODY_TAGS,
    attributes={
        "*": frozenset({"dir", "lang"}),
        "img": frozenset({"src", "alt"}),
        "a": frozenset({"href"}),
    },
)

# What the archive view lets through beyond the extractor's own markup (stored versions are
# sanitized again on every render, so the view's allowlist is the last word).
_RICH_TAGS = frozenset({
    "abbr", "caption", "cite", "code", "dd", "del", "dl", "dt", "figcaption", "h1", "h5", "h6",
    "hr", "ins", "pre", "q", "s", "small", "span", "sub", "sup", "table", "tbody", "td",
    "tfoot", "th", "thead", "tr", "u",
})  # fmt: skip

ARCHIVE_VIEW = SanitizePolicy(
    tags=(_BODY_TAGS - {"article"}) | _RICH_TAGS,
    attributes={
        "*": frozenset({"dir", "lang", "title"}),
        "a": frozenset({"href"}),
        "img": frozenset({"src", "alt", "width", "height"}),
        "td": frozenset({"colspan", "rowspan"}),
        "th": frozenset({"colspan", "rowspan"}),
    },
)


def sanitize_html(fragment: str, base_url: str = "", policy: SanitizePolicy = ARTICLE_BODY) -> str:
    """nh3 with `policy`: no scripts, styles or handlers, http(s)/mailto links only,
    rel=nofollow, relative URLs made absolute against ``base_url`` (when given)."""

    def absolutize(tag: str, attribute: str, value: str) -> str | None:
        if (tag, attribute) in _URL_ATTRIBUTES and base_url:
            value = urljoin(base_url, value)
            # nh3 checks the scheme before this filter, not after: check the resolved URL.
            if urlsplit(value).scheme not in URL_SCHEMES:
                return None
        return value

    return nh3.clean(
        fragment,
        tags=set(policy.tags),
        attributes={tag: set(names) for tag, names in policy.attributes.items()},
        url_schemes=set(URL_SCHEMES),
        link_rel=_LINK_REL,
        strip_comments=True,
        clean_content_tags={"script", "style"},
        attribute_filter=absolutize,
    )
