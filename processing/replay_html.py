"""A captured HTML page with every URL it loads or links to pointed into the archive (pure).

The page is parsed with lxml (libxml2: about a millisecond per 30 KB) and serialized back, so
the browser reads the tree that was rewritten: text lxml took for text comes out escaped and
cannot turn into a tag. Every attribute that loads a resource (img/source/video/audio/track/
embed/object/iframe/frame/script/link/input, srcset and imagesrcset, background, poster, SVG
href and xlink:href, ``style`` attributes, ``<style>`` blocks), every link the reader may
follow (a/area href, form action, formaction) and the page's own navigation (``<base href>``,
``<meta http-equiv=refresh>``) is rewritten by :class:`processing.replay_urls.ArchiveLinks`.

What would reach the live web otherwise goes: ``integrity`` (a rewritten stylesheet no longer
matches its hash) and ``crossorigin`` (the archive answers without CORS), ``ping`` and
``attributionsrc`` (requests on click), ``<link rel=preconnect|dns-prefetch>`` targets, a
captured Content-Security-Policy ``<meta>`` (its ``upgrade-insecure-requests`` would send the
archive's URLs to https), ``<html manifest>``. Links open at the top (``target=_top``): in the
archive's framed memento page they replace the whole page, banner included.

Scripts stay in the page, their ``src`` pointed into the archive, and never run: the replay
is served under ``Content-Security-Policy: sandbox`` without ``allow-scripts`` (see
``newsvault/web/rewritten.py``). The output is text; the caller encodes it as UTF-8, and the
page's charset declarations are changed to say so.
"""

from __future__ import annotations

import html as html_escape
import re
from collections.abc import Callable

from lxml import etree
from lxml.etree import _Element

from processing.replay_css import rewrite_css
from processing.replay_urls import ArchiveLinks, Context, resolve, rewrite_srcset
from processing.text import clean_source

__all__ = ["REWRITE_ERRORS", "rewrite_html"]

# lxml raises these on markup it cannot serialize back; callers treat them as "not HTML".
REWRITE_ERRORS = (etree.LxmlError, ValueError)
_MAX_SRCDOC_DEPTH = 3
# Plain lxml elements, not lxml.html's: its per-element class lookup and attribute methods
# are Python code and would double the time of a large page.
_PARSER = etree.HTMLParser(
    collect_ids=False, default_doctype=False, remove_comments=True, remove_pis=True
)
# Attributes this module may change: an element with none of them (most carry only class,
# id, alt, data-*) costs one set intersection.
_INTERESTING = frozenset({"src", "href", "xlink:href", "srcset", "imagesrcset", "lowsrc", "style",
                          "background", "poster", "data", "action", "formaction", "srcdoc",
                          "manifest", "target"})  # fmt: skip
_REFRESH = re.compile(
    r"^\s*(\d*(?:\.\d*)?)\s*(?:[;,]\s*(?:url\s*=\s*)?(['\"]?)(.*?)\2\s*)?$",
    re.IGNORECASE | re.DOTALL,
)
_DROPPED_ATTRIBUTES = frozenset({"integrity", "crossorigin", "ping", "attributionsrc", "nonce"})
_DROPPED_EQUIV = frozenset(
    {"content-security-policy", "content-security-policy-report-only", "set-cookie"}
)
_ICON_RELS = frozenset({"icon", "shortcut", "apple-touch-icon", "apple-touch-icon-precomposed",
                        "mask-icon", "fluid-icon", "image_src",
                        "apple-touch-startup-image"})  # fmt: skip
_LOADING_RELS = frozenset({"preload", "prefetch", "prerender", "subresource"})
_PRELOAD_AS = {"style": "cs_", "script": "js_", "worker": "js_", "image": "im_",
               "document": "if_"}  # fmt: skip

# tag -> {attribute: (modifier, context)}: plain URL attributes.
_URL_ATTRIBUTES: dict[str, dict[str, tuple[str, Context]]] = {
    "img": {"src": ("im_", Context.RESOURCE), "lowsrc": ("im_", Context.RESOURCE)},
    "image": {"src": ("im_", Context.RESOURCE)},
    "input": {"src": ("im_", Context.RESOURCE)},
    "source": {"src": ("oe_", Context.RESOURCE)},
    "video": {"src": ("oe_", Context.RESOURCE), "poster": ("im_", Context.RESOURCE)},
    "audio": {"src": ("oe_", Context.RESOURCE)},
    "track": {"src": ("oe_", Context.RESOURCE)},
    "embed": {"src": ("oe_", Context.DOCUMENT)},
    "object": {"data": ("oe_", Context.DOCUMENT)},
    "iframe": {"src": ("if_", Context.DOCUMENT)},
    "frame": {"src": ("fr_", Context.DOCUMENT)},
    "script": {"src": ("js_", Context.RESOURCE)},
    "body": {"background": ("im_", Context.RESOURCE)},
    "table": {"background": ("im_", Context.RESOURCE)},
    "tr": {"background": ("im_", Context.RESOURCE)},
    "td": {"background": ("im_", Context.RESOURCE)},
    "th": {"background": ("im_", Context.RESOURCE)},
}
# SVG elements whose href (or xlink:href) loads something.
_SVG_LOADING = {"image": "im_", "use": "im_", "feimage": "im_", "script": "js_"}
_LINK_ELEMENTS = frozenset({"a", "area"})
_FORM_ACTIONS = {"form": "action", "button": "formaction", "input": "formaction"}


def rewrite_html(text: str, page_url: str, links: ArchiveLinks) -> str:
    """``text`` (a captured page, decoded) rewritten to load and link only into the archive.

    ``page_url`` is the URL the page was fetched from: relative URLs resolve against it, or
    against the page's ``<base href>``.
    """
    return _rewrite(text, page_url, links, depth=0)


def _rewrite(text: str, page_url: str, links: ArchiveLinks, *, depth: int) -> str:
    try:
        root = etree.fromstring(clean_source(text), _PARSER)
    except (etree.ParserError, etree.XMLSyntaxError, ValueError):
        root = None
    if root is None:
        # Nothing lxml can read as a document (empty, or no markup): shown as text.
        return html_escape.escape(text)
    rewriter = _Rewriter(links, _base_url(root, page_url), depth)
    for element in root.iter():
        if isinstance(element.tag, str):
            rewriter.element(element)
    return str(etree.tostring(root.getroottree(), encoding="unicode", method="html"))


def _base_url(root: _Element, page_url: str) -> str:
    """The document's base URL: the first ``<base href>``, resolved against the page URL."""
    for base in root.iter("base"):
        href = base.get("href")
        if href is not None:
            return resolve(href.strip(), page_url) or page_url
    return page_url


class _Rewriter:
    def __init__(self, links: ArchiveLinks, base: str, depth: int) -> None:
        self.links = links
        self.base = base
        self.depth = depth
        # Pages repeat their URLs (navigation, teasers linking twice): each is resolved once.
        self.memo: dict[tuple[str, str, Context], str | None] = {}
        self.special: dict[str, Callable[[_Element], None]] = {
            "link": self._link,
            "meta": self._meta,
            "base": self._base,
            "style": self._style,
            "iframe": self._srcdoc,
            "html": self._html,
        }

    def element(self, element: _Element) -> None:
        # One pass over the element's own attributes (usually one to three): lxml attribute
        # access is the cost here, not the URL work.
        tag = element.tag.lower()
        names = element.keys()
        if tag not in self.special and _INTERESTING.isdisjoint(names):
            if not _DROPPED_ATTRIBUTES.isdisjoint(names):
                for name in _DROPPED_ATTRIBUTES.intersection(names):
                    del element.attrib[name]
            return
        urls = _URL_ATTRIBUTES.get(tag)
        link = tag in _LINK_ELEMENTS
        followed = False
        for name in names:
            if name in _DROPPED_ATTRIBUTES or (link and name == "target"):
                del element.attrib[name]
            elif urls is not None and name in urls:
                self._attribute(element, name, *urls[name])
            elif name == "srcset" and tag in ("img", "source"):
                element.set(name, self._srcset(element.get(name, "")))
            elif name == "style":
                element.set(name, rewrite_css(element.get(name, ""), self.base, self.links))
            elif name in ("href", "xlink:href"):
                if tag in _SVG_LOADING:
                    self._attribute(element, name, _SVG_LOADING[tag], Context.RESOURCE)
                elif link:
                    # a/area (HTML or SVG): the archive's memento page, opened at the top.
                    target = self._attribute(element, name, "", Context.LINK)
                    followed = followed or bool(target and target.startswith(self.links.prefix))
            elif name == _FORM_ACTIONS.get(tag):
                self._attribute(element, name, "", Context.LINK)
        if followed:
            element.set("target", "_top")
        handler = self.special.get(tag)
        if handler is not None:
            handler(element)

    def _attribute(
        self, element: _Element, name: str, modifier: str, context: Context
    ) -> str | None:
        value = element.get(name)
        if value is None:
            return None
        key = (value, modifier, context)
        if key in self.memo:
            target = self.memo[key]
        else:
            target = self.memo[key] = self.links.rewrite(value, self.base, modifier, context)
        if target is None:
            del element.attrib[name]
        else:
            element.set(name, target)
        return target

    def _srcset(self, value: str) -> str:
        return rewrite_srcset(value, self.base, self.links)

    def _link(self, element: _Element) -> None:
        rels = set((element.get("rel") or "").lower().split())
        if "imagesrcset" in element.attrib:
            element.set("imagesrcset", self._srcset(element.get("imagesrcset", "")))
        if rels & {"preconnect", "dns-prefetch"}:
            # A connection or DNS lookup to the live host: nothing of the archive's to warm up.
            element.attrib.pop("href", None)
            return
        if "stylesheet" in rels:
            modifier = "cs_"
        elif rels & _ICON_RELS:
            modifier = "im_"
        elif "modulepreload" in rels:
            modifier = "js_"
        elif rels & _LOADING_RELS:
            modifier = _PRELOAD_AS.get((element.get("as") or "").lower(), "oe_")
        elif "manifest" in rels:
            modifier = "oe_"
        else:
            # alternate, canonical, next, author...: URLs the reader may follow, not load.
            self._attribute(element, "href", "", Context.LINK)
            return
        self._attribute(element, "href", modifier, Context.RESOURCE)

    def _meta(self, element: _Element) -> None:
        if element.get("charset") is not None:
            element.set("charset", "utf-8")
        equiv = (element.get("http-equiv") or "").strip().lower()
        if equiv in _DROPPED_EQUIV:
            _drop(element)
        elif equiv == "content-type":
            element.set("content", "text/html; charset=utf-8")
        elif equiv == "refresh":
            self._refresh(element)

    def _refresh(self, element: _Element) -> None:
        """``<meta http-equiv=refresh content="5; url=...">``: the target into the archive
        (the page itself, ``mp_``: a refresh navigates its own frame), or the element goes."""
        match = _REFRESH.match(element.get("content") or "")
        if match is None:
            _drop(element)
            return
        delay, url = match.group(1) or "0", match.group(3)
        if not url:
            return  # a reload of the page itself
        target = self.links.rewrite(url, self.base, "mp_", Context.LINK)
        if target is None or not target.startswith(self.links.prefix):
            _drop(element)
            return
        element.set("content", f"{delay}; url={target}")

    def _base(self, element: _Element) -> None:
        # Every URL is resolved here already; a relative URL left over (an attribute unknown
        # to this module) still resolves into the archive, under the page's own path.
        element.attrib.pop("target", None)
        if element.get("href") is not None:
            element.set("href", self.links.to(self.base, "mp_"))

    def _style(self, element: _Element) -> None:
        if element.text:
            element.text = rewrite_css(element.text, self.base, self.links, in_style_element=True)

    def _srcdoc(self, element: _Element) -> None:
        srcdoc = element.get("srcdoc")
        if srcdoc is None:
            return
        if self.depth >= _MAX_SRCDOC_DEPTH:
            del element.attrib["srcdoc"]
            return
        element.set("srcdoc", _rewrite(srcdoc, self.base, self.links, depth=self.depth + 1))

    def _html(self, element: _Element) -> None:
        element.attrib.pop("manifest", None)


def _drop(element: _Element) -> None:
    """Remove ``element`` and its children, keeping the text that follows it."""
    parent = element.getparent()
    if parent is None:
        return
    if element.tail:
        previous = element.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + element.tail
        else:
            parent.text = (parent.text or "") + element.tail
    parent.remove(element)
