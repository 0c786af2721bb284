"""What a URL's shape says about its page: an article, a listing, or nothing either way (pure).

News sites name their pages by convention: an article's path ends in a slug of several words
or carries an id or a date (``/world/2021/05/qaani-calls-palestinians.html``,
``/news/123456``), a listing's path names what it lists (``/author/jane``, ``/tag/iran``,
``/section/world/``, ``/search?q=``, ``/page/2``). The crawler uses this to decide how to
fetch a link and the recognizer uses it as one signal among several: a shape is evidence,
never a verdict on its own, and a site's own article patterns always win over it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal
from urllib.parse import parse_qsl, unquote, urlsplit

Role = Literal["article", "listing"]

# Path segments that name a listing, in the languages the archive meets, by what they list.
# Lower case.
_LISTING_GROUPS: dict[str, frozenset[str]] = {
    "an author page": frozenset({
        "author", "authors", "writer", "writers", "columnist", "columnists", "byline",
        "profile", "people", "staff", "contributors", "autor", "auteur", "yazar",
        "kuttab", "كتاب", "الكتاب", "كاتب", "نویسنده",
    }),
    "a tag page": frozenset({
        "tag", "tags", "topic", "topics", "keyword", "keywords", "subject", "subjects",
        "theme", "themes", "thema", "themen", "etiket", "etiketler", "mot-cle",
        "وسم", "الوسوم", "موضوع", "مواضيع", "برچسب",
    }),
    "a section page": frozenset({
        "category", "categories", "section", "sections", "cat", "rubrik", "rubrique",
        "kategori", "قسم", "تصنيف", "دسته",
    }),
    "a search page": frozenset({"search", "بحث", "جستجو"}),
    "an archive or feed": frozenset({
        "archive", "archives", "feed", "rss", "latest", "most-read", "most-popular",
        "أرشيف",
    }),
}  # fmt: skip
LISTING_SEGMENTS = frozenset().union(*_LISTING_GROUPS.values())
_PAGINATION_KEYS = frozenset({"page", "pg", "paged", "offset", "start"})
# Query keys that carry an article id (WordPress ?p=123, CMS ?id=, ?newsid=).
_ID_KEYS = frozenset(
    {"p", "id", "nid", "aid", "article", "articleid", "story", "newsid", "news_id"}
)
_SEARCH_KEYS = frozenset({"q", "s", "query", "search", "keyword", "tag", "author"})
_ID = re.compile(r"(?<![a-z])\d{4,}(?![a-z])")
_DATE_PATH = re.compile(r"/(19|20)\d\d/(0?[1-9]|1[0-2])(/|-)")
_DATE_IN_SLUG = re.compile(r"(19|20)\d\d-?(0[1-9]|1[0-2])-?(0[1-9]|[12]\d|3[01])")
_PAGE_SUFFIX = re.compile(r"\.(s?html?|php|aspx?|jsp|cms)$", re.IGNORECASE)
_WORD_SEPARATORS = re.compile(r"[-_+.~]+|%20")
_ARTICLE_SLUG_WORDS = 3  # "calls-palestinians-unite" is a headline; "world-news" is a section


@dataclass(frozen=True)
class UrlShape:
    """A URL's role by shape (None: no evidence either way) and the reason, for the record."""

    role: Role | None
    reason: str
    weak: bool = False  # a guess from the path alone (a one-segment path may be either)


# A site's navigation links are the same on every page: remember recent answers.
@lru_cache(maxsize=65536)
def url_shape(url: str) -> UrlShape:
    """The role the URL's shape suggests: listing segments and query words first, then slugs."""
    parts = urlsplit(url)
    segments = [unquote(s) for s in parts.path.split("/") if s]
    pairs = [(k.lower(), v) for k, v in parse_qsl(parts.query, keep_blank_values=True)]
    query = {key for key, _ in pairs}
    if query & _SEARCH_KEYS:
        return UrlShape(
            "listing", f"a search or filter query ({', '.join(sorted(query & _SEARCH_KEYS))}=)"
        )
    if query & _PAGINATION_KEYS:
        return UrlShape("listing", "a paginated listing (page= in the query)")
    if any(key in _ID_KEYS and value.isdigit() for key, value in pairs):
        return UrlShape("article", "an article id in the query")
    if not segments:
        return UrlShape("listing", "the site's home page")
    named = _listing_named(segments)
    if named:
        return UrlShape("listing", named)
    last = _PAGE_SUFFIX.sub("", segments[-1])
    if last.isdigit() and len(segments) >= 2 and segments[-2].lower() in {"page", "p"}:
        return UrlShape("listing", f"a paginated listing (/{segments[-2]}/{last})")
    words = [w for w in _WORD_SEPARATORS.split(last) if w]
    if len(words) >= _ARTICLE_SLUG_WORDS and not last.isdigit():
        return UrlShape("article", f"a headline slug ({len(words)} words)")
    if _ID.search(last):
        return UrlShape("article", "an article id in the path")
    if _DATE_PATH.search(parts.path) or _DATE_IN_SLUG.search(last):
        return UrlShape("article", "a date in the path")
    if len(segments) == 1 and not _PAGE_SUFFIX.search(segments[0]):
        return UrlShape("listing", f"a top-level section (/{segments[0]}/)", weak=True)
    return UrlShape(None, "no telling shape")


def _listing_named(segments: list[str]) -> str | None:
    """A listing segment that ends the path or is followed by one name (``/tag/iran``,
    ``/author/jane/page/2``); deeper paths under it (``/topics/climate/why-it-matters``) are
    pages inside the topic, not its listing."""
    if len(segments) >= 2 and segments[-2].lower() in {"page", "p"} and segments[-1].isdigit():
        segments = segments[:-2]
    for index, segment in enumerate(segments):
        name = _listing_name(_PAGE_SUFFIX.sub("", segment).lower())
        if name and len(segments) - index <= 2:
            return f"{name} (/{segment}/...)"
    return None


def _listing_name(segment: str) -> str | None:
    for name, group in _LISTING_GROUPS.items():
        if segment in group:
            return name
    return None
