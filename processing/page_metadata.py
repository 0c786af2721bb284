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
from collections.abc import Callable, Mapping
from copy import copy
from functools import cached_property
from html import unescape
from typing import Any, ClassVar

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
    return PageMetadataFields(tree, url).document(with_date=with_date)


def page_date(tree: HtmlElement, url: str | None) -> str | None:
    """The date trafilatura's metadata would give the page (htmldate, extensive search)."""
    return PageMetadataFields(tree, url).text("date")


class PageMetadataFields:
    """trafilatura's metadata one field at a time, each computed on first use.

    A caller that lacks only the site name (most real pages declare a title and a date but
    no ``og:site_name``) pays for the meta tags and the title, not for the author, category
    and tag searches. :meth:`text` answers what the same field of ``extract_metadata`` holds
    (its ``clean_and_trim`` included); :meth:`document` assembles them all.
    """

    def __init__(self, tree: HtmlElement, default_url: str | None) -> None:
        self._tree, self._default_url = tree, default_url

    def text(self, name: str) -> str | None:
        """One string field: title, author, url, hostname, sitename, date or image."""
        return _trimmed(self._STRING_FIELDS[name](self))

    @cached_property
    def _declared(self) -> Document:
        """What the meta tags and JSON-LD say (trafilatura's first two steps)."""
        metadata = examine_meta(self._tree)
        if metadata.author and " " not in metadata.author:
            metadata.author = None
        with contextlib.suppress(Exception):  # trafilatura's own guard: bugs in its JSON-LD reader
            metadata = extract_meta_json(self._tree, metadata)
        return metadata

    @cached_property
    def _attributes(self) -> str:
        return attribute_text(self._tree)

    @cached_property
    def _url(self) -> str | None:
        return self._declared.url or extract_url(self._tree, self._default_url)

    def _title(self) -> str | None:
        return self._declared.title or extract_title(self._tree)

    def _author(self) -> str | None:
        author = self._declared.author
        if not author and may_name_an_author(self._tree, self._attributes):
            author = extract_author(self._tree)
        return author

    def _hostname(self) -> str | None:
        return extract_domain(self._url, fast=True) if self._url else None

    def _sitename(self) -> str | None:
        sitename = self._declared.sitename or extract_sitename(self._tree)
        if sitename:
            sitename = sitename.lstrip("@")
            if sitename and "." not in sitename and not sitename[0].isupper():
                sitename = sitename.title()
        elif self._url:
            match = META_URL.match(self._url)
            sitename = match[1] if match else None
        return sitename

    def _date(self) -> str | None:
        date_config: dict[str, Any] = set_date_params(True)
        date_config["url"] = self._url
        found: str | None = find_date(self._tree, **date_config)
        return found

    _STRING_FIELDS: ClassVar[Mapping[str, Callable[[PageMetadataFields], str | None]]] = {
        "title": _title,
        "author": _author,
        "url": lambda self: self._url,
        "hostname": _hostname,
        "sitename": _sitename,
        "date": _date,
        "image": lambda self: self._declared.image,
    }

    def categories(self) -> list[str]:
        if self._declared.categories:
            return list(self._declared.categories)
        if CATEGORY_LINK_MARKER in self._attributes:
            return extract_catstags("category", self._tree)
        sections = (element.attrib["content"] for element in _SECTION_META(self._tree))
        lines = (line_processing(section) for section in sections if section)
        return [line for line in dict.fromkeys(lines) if line]

    def tags(self) -> list[str]:
        if self._declared.tags:
            return list(self._declared.tags)
        if TAG_LINK_MARKER in self._attributes:
            return extract_catstags("tag", self._tree)
        return []

    def document(self, *, with_date: bool = True) -> Document:
        """All fields, as ``trafilatura.extract_metadata`` returns them (trafilatura 2.x)."""
        metadata = copy(self._declared)  # the cached answer stays as the page declared it
        metadata.title, metadata.author = self._title(), self._author()
        metadata.url, metadata.hostname = self._url, self._hostname()
        metadata.date = self._date() if with_date else None
        metadata.sitename = self._sitename()
        metadata.categories, metadata.tags = self.categories(), self.tags()
        metadata.license = extract_license(self._tree)
        metadata.filedate = set_date_params(True).get("max_date")
        metadata.clean_and_trim()
        return metadata


def _trimmed(value: str | None) -> str | None:
    """A string field as ``Document.clean_and_trim`` leaves it."""
    if not isinstance(value, str):
        return value
    if len(value) > _MAX_FIELD:
        value = value[: _MAX_FIELD - 1] + "…"
    return line_processing(unescape(value))


_MAX_FIELD = 10000  # trafilatura's Document.clean_and_trim
