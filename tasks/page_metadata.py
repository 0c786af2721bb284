"""trafilatura's page metadata, without the author search when it cannot find anything.

``trafilatura.extract_metadata`` is our last-resort source for a page's site name, author,
date, categories, tags and image (tasks/extract.py asks only when the page declares none).
Its author search copies the whole tree and runs three XPath scans over it: on a page with
long navigation that is most of the cost of extracting the page, and on pages without a
byline it finds nothing. Every one of those XPath expressions needs one of a few words in
an attribute or a tag name (``author``, ``byline``, ``writer``...), so a page whose source
holds none of them cannot match, and the search is skipped. Everything else is trafilatura's
own ``extract_metadata``, step for step (trafilatura 2.x); tests/test_page_metadata.py checks
that the answers are identical, and that the words cover trafilatura's expressions.
"""

from __future__ import annotations

import contextlib
from typing import Any

from courlan import extract_domain
from htmldate import find_date
from lxml.html import HtmlElement
from trafilatura.metadata import (
    META_URL,
    examine_meta,
    extract_author,
    extract_catstags,
    extract_license,
    extract_meta_json,
    extract_sitename,
    extract_title,
    extract_url,
)
from trafilatura.settings import Document, set_date_params
from trafilatura.utils import load_html

# Lower-cased: every literal of trafilatura.xpaths.AUTHOR_XPATHS contains one of these (or,
# for ``//author``, is the tag name). The XPaths are case-sensitive; this check is not.
AUTHOR_MARKERS = (
    "author",
    "byl",  # byline, byl
    "bbl",
    "username",
    "screenname",
    "writer",
    "zuozhe",
    "bianji",
    "xiaobian",
    "channel-name",
    "submitted-by",
    "posted-by",
    "journalist-name",
    "<rel",  # the first expression's rel='me' (no @) tests a child element named rel
)


def may_name_an_author(source: str) -> bool:
    """False when no author XPath of trafilatura can match anything in ``source``."""
    # Lower-casing once and scanning for each word is several times faster than one
    # case-insensitive regular expression of the alternatives.
    lowered = source.lower()
    return any(marker in lowered for marker in AUTHOR_MARKERS)


def page_metadata(
    source: str, url: str | None, *, tree: HtmlElement | None = None
) -> Document | None:
    """``trafilatura.extract_metadata(source, default_url=url)``, answering the same, faster.

    ``tree``: the source already parsed (read, never changed). None when the page cannot be
    parsed.
    """
    if tree is None:
        tree = load_html(source)
    if tree is None:
        return None
    return _metadata(tree, url, author_search=may_name_an_author(source))


def _metadata(tree: HtmlElement, default_url: str | None, *, author_search: bool) -> Document:
    # trafilatura.metadata.extract_metadata with its defaults (extensive date search, no
    # author blacklist); the one change is the guarded author search.
    date_config: dict[str, Any] = set_date_params(True)
    metadata = examine_meta(tree)
    if metadata.author and " " not in metadata.author:
        metadata.author = None
    with contextlib.suppress(Exception):  # trafilatura's own guard: bugs in its JSON-LD reader
        metadata = extract_meta_json(tree, metadata)
    if not metadata.title:
        metadata.title = extract_title(tree)
    if not metadata.author and author_search:
        metadata.author = extract_author(tree)
    if not metadata.url:
        metadata.url = extract_url(tree, default_url)
    if metadata.url:
        metadata.hostname = extract_domain(metadata.url, fast=True)
    date_config["url"] = metadata.url
    metadata.date = find_date(tree, **date_config)
    if not metadata.sitename:
        metadata.sitename = extract_sitename(tree)
    if metadata.sitename:
        metadata.sitename = metadata.sitename.lstrip("@")
        if (
            metadata.sitename
            and "." not in metadata.sitename
            and not metadata.sitename[0].isupper()
        ):
            metadata.sitename = metadata.sitename.title()
    elif metadata.url:
        match = META_URL.match(metadata.url)
        if match:
            metadata.sitename = match[1]
    if not metadata.categories:
        metadata.categories = extract_catstags("category", tree)
    if not metadata.tags:
        metadata.tags = extract_catstags("tag", tree)
    metadata.license = extract_license(tree)
    metadata.filedate = date_config.get("max_date")
    metadata.clean_and_trim()
    return metadata
