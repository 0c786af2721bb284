"""trafilatura's page metadata, without the searches that cannot find anything.

``trafilatura.extract_metadata`` is our last-resort source for a page's site name, author,
date, categories, tags and image (processing/extract.py asks only when the page declares none).
Its author search copies the whole tree and runs three XPath scans over it, and its category
and tag searches run ten more: on a page with long navigation that costs as much as
extracting the page, and on pages without a byline or category links they find nothing.

Every author expression needs an element named ``author`` (or ``rel``) or one of a few
words in an attribute value (``author``, ``byline``, ``writer``...), and a category or tag
is only taken from a link whose address holds ``/categor`` or ``/tag``. The page's attribute
values are gathered once (one XPath, in C) and searched for those words: when none is there,
the search cannot match and is skipped. The words in the text do not count ("the
authorities said..." is in every other news story). Everything else is trafilatura's own
``extract_metadata``, step for step (trafilatura 2.x); tests/test_page_metadata.py checks
that the answers are identical, and that the words cover trafilatura's expressions.
"""

from __future__ import annotations

import contextlib
from typing import Any

from courlan import extract_domain
from htmldate import find_date
from lxml.etree import XPath
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
from trafilatura.utils import line_processing, load_html

# Lower-cased: every attribute literal of trafilatura.xpaths.AUTHOR_XPATHS contains one of
# these. The XPaths are case-sensitive; this check is not.
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
)
# Elements the author expressions select by name: ``//author``, and ``rel='me'`` (no @),
# which compares a child element named rel.
_AUTHOR_ELEMENTS = XPath("//author|//rel")
_ATTRIBUTE_VALUES = XPath("//@*")

# What a link's address must hold for trafilatura to take it as a category or a tag (the
# filter of extract_catstags).
CATEGORY_LINK_MARKER = "/categor"
TAG_LINK_MARKER = "/tag"
# extract_catstags's fallback for categories, when no link qualifies.
_SECTION_META = XPath(
    './/head//meta[@property="article:section" or contains(@name, "subject")][@content]'
)


def attribute_text(tree: HtmlElement) -> str:
    """Every attribute value of the page, lower-cased, in one string."""
    return " ".join(_ATTRIBUTE_VALUES(tree)).lower()


def may_name_an_author(tree: HtmlElement, attributes: str | None = None) -> bool:
    """False when no author XPath of trafilatura can match anything in ``tree``."""
    attributes = attribute_text(tree) if attributes is None else attributes
    return any(marker in attributes for marker in AUTHOR_MARKERS) or bool(_AUTHOR_ELEMENTS(tree))


def page_metadata(
    source: str, url: str | None, *, tree: HtmlElement | None = None, with_date: bool = True
) -> Document | None:
    """``trafilatura.extract_metadata(source, default_url=url)``, answering the same, faster.

    ``tree``: the source already parsed (read, never changed). None when the page cannot be
    parsed. ``with_date=False`` leaves ``date`` unset: htmldate's extensive search is the
    costliest step, and a caller that found the date elsewhere asks :func:`page_date` only
    when it needs it.
    """
    if tree is None:
        tree = load_html(source)
    if tree is None:
        return None
    return _metadata(tree, url, with_date=with_date)


def page_date(tree: HtmlElement, url: str | None) -> str | None:
    """The date trafilatura's metadata would give the page (htmldate, extensive search)."""
    date_config: dict[str, Any] = set_date_params(True)
    date_config["url"] = _page_url(tree, url)
    found: str | None = find_date(tree, **date_config)
    return found


def _page_url(tree: HtmlElement, default_url: str | None) -> str | None:
    """The URL trafilatura's metadata settles on: meta tags, then JSON-LD, then links."""
    metadata = examine_meta(tree)
    with contextlib.suppress(Exception):
        metadata = extract_meta_json(tree, metadata)
    return metadata.url or extract_url(tree, default_url)


def _metadata(tree: HtmlElement, default_url: str | None, *, with_date: bool = True) -> Document:
    # trafilatura.metadata.extract_metadata with its defaults (extensive date search, no
    # author blacklist); the changes are the guarded searches.
    date_config: dict[str, Any] = set_date_params(True)
    metadata = examine_meta(tree)
    if metadata.author and " " not in metadata.author:
        metadata.author = None
    with contextlib.suppress(Exception):  # trafilatura's own guard: bugs in its JSON-LD reader
        metadata = extract_meta_json(tree, metadata)
    if not metadata.title:
        metadata.title = extract_title(tree)
    attributes = attribute_text(tree)
    if not metadata.author and may_name_an_author(tree, attributes):
        metadata.author = extract_author(tree)
    if not metadata.url:
        metadata.url = extract_url(tree, default_url)
    if metadata.url:
        metadata.hostname = extract_domain(metadata.url, fast=True)
    date_config["url"] = metadata.url
    if with_date:
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
        if CATEGORY_LINK_MARKER in attributes:
            metadata.categories = extract_catstags("category", tree)
        else:
            sections = (element.attrib["content"] for element in _SECTION_META(tree))
            lines = (line_processing(section) for section in sections if section)
            metadata.categories = [line for line in dict.fromkeys(lines) if line]
    if not metadata.tags:
        metadata.tags = extract_catstags("tag", tree) if TAG_LINK_MARKER in attributes else []
    metadata.license = extract_license(tree)
    metadata.filedate = date_config.get("max_date")
    metadata.clean_and_trim()
    return metadata
