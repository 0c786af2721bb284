"""Zero-configuration routing: what kind of fetch a link gets when no site pattern says (pure).

A site definition's ``article_allow``/``article_deny`` patterns decide first (the spider asks
them). Without patterns, the crawler reads two pieces of evidence:

- the URL's shape (:func:`vocabulary.url_shape.url_shape`): an article-shaped link is fetched
  as an article; a listing-shaped one (author, tag, topic, section, search, pagination) as a
  section: followed for its links, never counted as an article;
- the link graph: a link with no telling shape that at least two listing pages link to, and
  that is not site chrome (navigation, footer: linked from most pages), is an article.
  Everything else stays a plain page.

The graph needs to have seen the pages first, so links without a shape wait in a
:class:`LinkGraph` until the crawl runs out of other work (the spider's idle signal), then
are decided all at once.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Literal

from vocabulary.url_shape import url_shape

__all__ = ["LinkGraph", "Route", "jsonld_types", "route_by_shape"]

Route = Literal["article", "section", "page"]

# A link that at least this many listing pages carry is what listings list: an article.
LISTINGS_FOR_ARTICLE = 2
# A link found on more than this share of the pages parsed is site chrome, not a story...
CHROME_SHARE = 0.5
# ...once enough pages have been parsed for a share to mean anything.
CHROME_MIN_PAGES = 6


@lru_cache(maxsize=8192)
def route_by_shape(url: str) -> Route | None:
    """``article`` or ``section`` when the URL's shape says so; None: no telling shape.

    Cached: a crawl meets the same navigation links on every page.
    """
    role = url_shape(url).role
    if role == "article":
        return "article"
    if role == "listing":
        return "section"
    return None


@dataclass
class _Waiting:
    depth: int
    listings: int = 0  # distinct listing pages linking here
    pages: int = 0  # distinct pages of any kind linking here


@dataclass
class LinkGraph:
    """Links without a telling shape, and which pages link to them, until they are decided.

    Each page reports its links once (:meth:`offer` per link, :meth:`page_parsed` per page),
    so the counts are of distinct linking pages.
    """

    listings_for_article: int = LISTINGS_FOR_ARTICLE
    chrome_share: float = CHROME_SHARE
    pages_parsed: int = 0
    _waiting: dict[str, _Waiting] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self._waiting)

    def page_parsed(self) -> None:
        self.pages_parsed += 1

    def offer(self, url: str, depth: int, *, from_listing: bool) -> None:
        """Note that a page (a listing page or not) links to ``url``, found at ``depth``."""
        waiting = self._waiting.get(url)
        if waiting is None:
            waiting = self._waiting[url] = _Waiting(depth)
        else:
            waiting.depth = min(waiting.depth, depth)
        waiting.pages += 1
        if from_listing:
            waiting.listings += 1

    def route(self, url: str) -> Route:
        """What the graph says of a waiting link now."""
        waiting = self._waiting[url]
        chrome = (
            self.pages_parsed >= CHROME_MIN_PAGES
            and waiting.pages > self.chrome_share * self.pages_parsed
        )
        if waiting.listings >= self.listings_for_article and not chrome:
            return "article"
        return "page"

    def drain(self) -> list[tuple[str, Route, int]]:
        """Every waiting link with its route and depth, in a stable order; forgets them."""
        decided = [(url, self.route(url), w.depth) for url, w in sorted(self._waiting.items())]
        self._waiting.clear()
        return decided


def jsonld_types(texts: Iterable[str]) -> set[str]:
    """Lower-case @type values found in JSON-LD blocks (including @graph), tolerantly."""
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, list):
            for item in node:
                walk(item)
        elif isinstance(node, dict):
            kind = node.get("@type")
            for value in kind if isinstance(kind, list) else [kind]:
                if isinstance(value, str):
                    found.add(value.rsplit("/", 1)[-1].lower())
            if "@graph" in node:
                walk(node["@graph"])

    for text in texts:
        try:
            walk(json.loads(text))
        except ValueError:
            continue
    return found
