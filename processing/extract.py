"""HTML -> `ExtractedArticle` or `NotAnArticle` (pure; never raises on bad input).

Main text: trafilatura's extracted tree (`bare_extraction(...).body`), walked element by
element so paragraph boundaries are exactly the page's own; or, when a site definition gives a
body CSS selector, the `<p>` elements under it (beautifulsoup4). Metadata: JSON-LD
(`NewsArticle` and friends, also inside `@graph` and lists) first, then OpenGraph/meta tags,
then trafilatura's own metadata (htmldate for the date).

The lead (standfirst): news pages often show the summary under the headline (`<p class=
"lead">`, equal to og:description). trafilatura keeps it as the first paragraph. It is not
body text (the seed format keeps it apart), so a leading paragraph that equals the page's
description *and* sits apart from the body paragraphs (another parent, or a lead-like class)
moves to `ExtractedArticle.lead`. A description that merely repeats the first body paragraph
(WordPress excerpts) shares its parent with the next paragraph, so it stays in the body.
"""

from __future__ import annotations

import email.utils
import html as html_lib
import json
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin

import lxml.html
import nh3
import trafilatura
from bs4 import BeautifulSoup
from dateutil import parser as date_parser
from lxml import etree
from soupsieve import SelectorSyntaxError

from processing.page_metadata import page_metadata
from vocabulary.schema_org import ARTICLE_TYPES

# ---------------------------------------------------------------------------------------------
# Public types


@dataclass(frozen=True)
class Selectors:
    """Per-site CSS selectors (from the crawler's site definition); each wins where given."""

    title: str | None = None
    body: str | None = None
    author: str | None = None
    date: str | None = None


@dataclass(frozen=True)
class ExtractedArticle:
    """A cleaned article. `lead` and `notes` extend the documented contract (with defaults):
    the standfirst kept apart from the body, and remarks such as a selector that matched
    nothing."""

    title: str
    paragraphs: list[str]
    language: str | None
    authors: list[str]
    published: datetime | None
    published_raw: str | None
    modified: datetime | None
    canonical_url: str | None
    section: str | None
    tags: list[str]
    top_image: str | None
    site_name: str | None
    html: str  # sanitized (nh3) body HTML
    lead: str | None = None
    notes: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        return "\n".join(self.paragraphs)


@dataclass(frozen=True)
class NotAnArticle:
    reason: str


# ---------------------------------------------------------------------------------------------
# Tunables

_MIN_WORDS = 40  # below this, without JSON-LD saying "article", it is a teaser or a stub
_PAYWALL_MAX_WORDS = 150  # a paywalled page shows at most a teaser of about this size
_LINK_LIST_RATIO = 0.5  # share of the page's words inside links on a section/index page
_ARABIC_SCRIPT_LANGS = frozenset({"ar", "fa", "ur", "ps", "ku", "ckb", "sd", "ug"})
_NON_LATIN_LANGS = _ARABIC_SCRIPT_LANGS | {
    "he",
    "yi",
    "ru",
    "uk",
    "bg",
    "el",
    "zh",
    "ja",
    "ko",
    "hi",
    "th",
}
# Frequent English function words: enough to tell English from other Latin-script text.
_ENGLISH_WORDS = frozenset(
    {"the", "of", "and", "to", "in", "a", "is", "that", "for", "on", "was", "with", "as"}
    | {"by", "at", "from", "it", "he", "said", "has", "have", "are", "be"}
)
_SITE_SEPARATORS = (" | ", " - ", " – ", " — ", " :: ", " · ", " « ", " » ")
_LEAD_CLASS_RE = re.compile(
    r"\b(lead|standfirst|dek|deck|summary|excerpt|intro|subtitle|sub-?head(line)?|teaser)\b",
    re.IGNORECASE,
)
_BYLINE_PREFIX_RE = re.compile(r"^(by|بقلم|كتب|کتب)\s*[:：]?\s+", re.IGNORECASE)
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_XML_DECL_RE = re.compile(r"^\s*<\?xml[^>]*\?>", re.IGNORECASE)
# Characters no text page contains in bulk: C0/C1 controls and U+FFFD (undecodable bytes).
_BINARY_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffd]")
_WS_RE = re.compile(r"\s+")
_SELECTOR_ERRORS = (SelectorSyntaxError, ValueError, NotImplementedError)

_ALLOWED_TAGS = {
    "article",
    "p",
    "h2",
    "h3",
    "h4",
    "ul",
    "ol",
    "li",
    "blockquote",
    "figure",
    "img",
    "a",
    "em",
    "strong",
    "b",
    "i",
    "br",
}
_ALLOWED_ATTRIBUTES = {"*": {"dir", "lang"}, "img": {"src", "alt"}, "a": {"href"}}


# ---------------------------------------------------------------------------------------------
# Entry point


def extract_article(
    html: str,
    url: str,
    *,
    selectors: Selectors | None = None,
    language_hint: str | None = None,
    require_markers: bool = False,
) -> ExtractedArticle | NotAnArticle:
    """Extract the article from one decoded page; a `NotAnArticle` says why not.

    ``require_markers``: the page was not found through an article route (URL pattern, feed,
    news sitemap), so only a page that declares itself an article (JSON-LD article type,
    ``og:type`` article, ``article:published_time``) is taken as one; section and info pages
    full of prose would otherwise pass as articles.
    """
    if not html or not html.strip():
        return NotAnArticle("empty page")
    if _looks_binary(html):
        return NotAnArticle("not HTML (binary or undecodable content)")
    source = _XML_DECL_RE.sub("", _CONTROL_RE.sub("", html), count=1)
    tree = _parse(source)
    if tree is None:
        return NotAnArticle("no article text found (unparseable HTML)")
    try:
        return _extract(source, tree, url, selectors or Selectors(), language_hint, require_markers)
    except Exception as exc:
        # The "never raises" boundary: hostile pages reach corners of lxml, bs4 and odd
        # JSON-LD shapes; the worker records the reason (with the error) instead of crashing.
        return NotAnArticle(f"extraction failed: {type(exc).__name__}: {exc}")


def _extract(
    source: str,
    tree: lxml.html.HtmlElement,
    url: str,
    sel: Selectors,
    hint: str | None,
    require_markers: bool,
) -> ExtractedArticle | NotAnArticle:
    meta = _Meta.from_tree(tree)
    ld = _json_ld_article(tree)
    doc = _LazyDoc(source, tree, url)  # the main text, and the last-resort metadata source
    notes: list[str] = []
    # One bs4 parse shared by all selectors (bs4 is several times slower than lxml).
    soup = BeautifulSoup(source, "lxml") if any(vars(sel).values()) else None

    blocks = _selector_blocks(soup, sel.body, notes) if soup and sel.body else None
    if blocks is None:
        blocks = _trafilatura_blocks(doc.get(), url)

    site_name = meta.first("og:site_name") or _ld_name(ld.get("publisher")) or doc.field("sitename")
    title = _title(tree, ld, meta, site_name, soup, sel.title) or doc.field("title")
    blocks = _drop_title_blocks(blocks, title)
    blocks, lead = _split_lead(blocks, tree, ld, meta)

    words = sum(_words(b.text) for b in blocks)
    rejection = _rejection(tree, ld, meta, words, require_markers)
    if rejection:
        return NotAnArticle(rejection)
    if not title:
        return NotAnArticle("no headline found")

    published_raw, published = _published(tree, ld, meta, doc, soup, sel.date)
    paragraphs = [b.text for b in blocks]
    language = _language(tree, meta, hint, " ".join(paragraphs[:20]))
    top_image = _top_image(ld, meta, doc, url)
    return ExtractedArticle(
        title=title,
        paragraphs=paragraphs,
        language=language,
        authors=_authors(ld, meta, doc, soup, sel.author),
        published=published,
        published_raw=published_raw,
        modified=_modified(ld, meta),
        canonical_url=_canonical(tree, ld, meta, url),
        section=_section(ld, meta, doc),
        tags=_tags(ld, meta, doc),
        top_image=top_image,
        site_name=site_name,
        html=_render(blocks, language, _direction(tree, language), top_image, title, url),
        lead=lead,
        notes=tuple(notes),
    )


# ---------------------------------------------------------------------------------------------
# Input hygiene


def _looks_binary(text: str) -> bool:
    """Binary junk decoded as text: many C0 controls or replacement characters up front."""
    head = text[:4096]
    return len(_BINARY_RE.findall(head)) > max(8, len(head) // 20)


# The options trafilatura parses with (comments and processing instructions dropped), so the
# one tree parsed here serves our metadata readers, trafilatura's extractor and its metadata.
_PARSER = lxml.html.HTMLParser(
    collect_ids=False, default_doctype=False, remove_comments=True, remove_pis=True
)


def _parse(source: str) -> lxml.html.HtmlElement | None:
    try:
        return lxml.html.document_fromstring(source, parser=_PARSER)
    except (etree.ParserError, ValueError, etree.LxmlError):
        return None


def tidy(text: str) -> str:
    """Plain whitespace tidying and NFC (the page's spelling and quotes kept).

    A local twin of `vocabulary.normalize.clean_text`, so extraction has no import-time coupling to
    the normalization module."""
    return unicodedata.normalize("NFC", _WS_RE.sub(" ", text).strip())


def _words(text: str) -> int:
    return len(text.split())


# ---------------------------------------------------------------------------------------------
# Body blocks


@dataclass(frozen=True)
class _Block:
    """One paragraph-level piece of the body: its plain text and its inline HTML."""

    tag: str  # p | h2 | h3 | h4 | li
    text: str
    inner: str  # inline HTML (escaped text, a/em/strong/br), sanitized again at render
    container: tuple[str, int] | None = None  # ("ul"|"ol"|"blockquote", group id)


def _trafilatura(tree: lxml.html.HtmlElement) -> Any:
    """trafilatura's Document for the main text, or None when it finds nothing (or trips).

    Its own extractor runs first alone (`fast`): on article pages it is right and the
    readability/jusText comparison costs about a third of the time. Only when that finds
    less than an article's worth of text do we pay for the fallbacks."""
    doc = _run_trafilatura(tree, fast=True)
    if _doc_words(doc) >= _MIN_WORDS:
        return doc
    return _run_trafilatura(tree, fast=False) or doc


def _run_trafilatura(tree: lxml.html.HtmlElement, *, fast: bool) -> Any:
    try:
        return trafilatura.bare_extraction(
            tree,  # it works on its own copy
            # No URL: trafilatura would resolve every link of the page (navigation included)
            # against it, about a tenth of its time; _render resolves the body's links.
            url=None,
            fast=fast,
            include_comments=False,
            include_tables=False,
            include_formatting=True,
            include_links=True,
            with_metadata=False,  # asked for separately, only when needed (see _LazyDoc)
            deduplicate=False,
        )
    except Exception:
        # A third-party parser on hostile input: whatever it trips on means "found nothing".
        return None


def _trafilatura_metadata(source: str, tree: lxml.html.HtmlElement, url: str) -> Any:
    """trafilatura's metadata (htmldate included), or None when it trips on the page."""
    try:
        return page_metadata(source, url or None, tree=tree)
    except Exception:  # as above: a third-party parser on hostile input
        return None


def _doc_words(doc: Any) -> int:
    body = getattr(doc, "body", None)
    return _words(" ".join(body.itertext())) if body is not None else 0


class _LazyDoc:
    """trafilatura's two answers, each computed on first use: the main text (most of the cost
    of a page, never needed when a body selector works) and the metadata (the last-resort
    source: on pages with JSON-LD and OpenGraph it is rarely asked for, and on pages with many
    links and meta tags it costs as much as the main text)."""

    def __init__(self, source: str, tree: lxml.html.HtmlElement, url: str) -> None:
        self._source, self._tree, self._url = source, tree, url
        self._body: Any = _NOT_YET
        self._metadata: Any = _NOT_YET

    def get(self) -> Any:
        if self._body is _NOT_YET:
            self._body = _trafilatura(self._tree)
        return self._body

    def _meta(self) -> Any:
        if self._metadata is _NOT_YET:
            self._metadata = _trafilatura_metadata(self._source, self._tree, self._url)
        return self._metadata

    def field(self, name: str) -> str | None:
        value = getattr(self._meta(), name, None)
        return tidy(value) if isinstance(value, str) and value.strip() else None

    def strings(self, name: str) -> list[str]:
        value = getattr(self._meta(), name, None) or []
        return [tidy(v) for v in value if isinstance(v, str) and v.strip()]


_NOT_YET = object()


def _trafilatura_blocks(doc: Any, url: str) -> list[_Block]:
    body = getattr(doc, "body", None)
    if body is None:
        return []
    blocks: list[_Block] = []
    for index, element in enumerate(body):
        blocks.extend(_blocks_of(element, index, url))
    return [b for b in blocks if b.text]


def _blocks_of(element: Any, index: int, url: str) -> Iterator[_Block]:
    """Map one top-level element of trafilatura's XML to blocks."""
    tag = element.tag if isinstance(element.tag, str) else ""
    if tag == "head":
        level = (element.get("rend") or "h2").lower()
        heading = level if level in {"h1", "h2", "h3", "h4"} else "h4"
        yield _block(heading, element, url)
    elif tag == "list":
        kind = "ol" if (element.get("rend") or "").lower() == "ol" else "ul"
        for item in element.iter("item"):
            yield _block("li", item, url, (kind, index))
    elif tag == "quote":
        paragraphs = [child for child in element if child.tag == "p"]
        for paragraph in paragraphs or [element]:
            yield _block("p", paragraph, url, ("blockquote", index))
    elif tag in {"p", "code"} or (tag and tag not in {"table", "graphic", "figure"}):
        yield _block("p", element, url)


def _block(tag: str, element: Any, url: str, container: tuple[str, int] | None = None) -> _Block:
    text_parts: list[str] = []
    html_parts: list[str] = []
    _inline(element, url, text_parts, html_parts, top=True)
    return _Block(tag, tidy("".join(text_parts)), "".join(html_parts).strip(), container)


_INLINE_TAGS = {"#b": "strong", "#i": "em", "#t": "em"}


def _inline(node: Any, url: str, text: list[str], out: list[str], *, top: bool = False) -> None:
    """Text and inline HTML of a trafilatura element (hi -> em/strong, ref -> a, lb -> br)."""
    tag = node.tag if isinstance(node.tag, str) else ""
    open_tag = close_tag = ""
    if not top:
        if tag == "lb":
            text.append(" ")
            out.append("<br>")
        elif tag == "hi" and node.get("rend") in _INLINE_TAGS:
            name = _INLINE_TAGS[node.get("rend")]
            open_tag, close_tag = f"<{name}>", f"</{name}>"
        elif tag == "ref" and node.get("target"):
            href = html_lib.escape(urljoin(url, node.get("target")), quote=True)
            open_tag, close_tag = f'<a href="{href}">', "</a>"
        elif tag in {"list", "item", "p"}:
            text.append(" ")  # nested blocks flattened: keep words apart
    if tag != "lb":
        out.append(open_tag)
        if node.text:
            text.append(node.text)
            out.append(html_lib.escape(node.text, quote=False))
        for child in node:
            _inline(child, url, text, out)
        out.append(close_tag)
    if not top and node.tail:
        text.append(node.tail)
        out.append(html_lib.escape(node.tail, quote=False))


def _selector_blocks(soup: BeautifulSoup, selector: str, notes: list[str]) -> list[_Block] | None:
    """`<p>` paragraphs under the site's body selector; None (fall back) if it finds none."""
    try:
        containers = soup.select(selector)
    except _SELECTOR_ERRORS as exc:
        notes.append(f"body selector {selector!r} is invalid ({exc}); used trafilatura")
        return None
    blocks: list[_Block] = []
    seen: set[int] = set()
    for container in containers:
        for paragraph in container.find_all("p"):
            if id(paragraph) in seen:  # nested containers both matched
                continue
            seen.add(id(paragraph))
            for br in paragraph.find_all("br"):
                br.replace_with(" ")
            text = tidy(paragraph.get_text())
            if text:
                blocks.append(_Block("p", text, paragraph.decode_contents().strip()))
    if not blocks:
        notes.append(f"body selector {selector!r} matched no paragraphs; used trafilatura")
        return None
    return blocks


def _drop_title_blocks(blocks: list[_Block], title: str | None) -> list[_Block]:
    """The headline is metadata, not a paragraph (trafilatura keeps the h1 as a head); any
    other h1 inside the body becomes an h2 (the sanitized HTML allows h2-h4)."""
    kept: list[_Block] = []
    for position, block in enumerate(blocks):
        if title and block.text == title and (block.tag == "h1" or position < 3):
            continue
        if block.tag == "h1":
            block = _Block("h2", block.text, block.inner, block.container)
        kept.append(block)
    return kept


def _split_lead(
    blocks: list[_Block], tree: lxml.html.HtmlElement, ld: dict[str, Any], meta: _Meta
) -> tuple[list[_Block], str | None]:
    """Move a standfirst (see the module docstring) out of the body."""
    if len(blocks) < 2 or blocks[0].tag != "p" or blocks[0].container:
        return blocks, None
    first = blocks[0].text
    descriptions = {
        tidy(d)
        for d in (
            _ld_text(ld.get("description")),
            meta.first("og:description"),
            meta.first("description"),
            meta.first("twitter:description"),
        )
        if d
    }
    if first not in descriptions or not _is_standfirst(tree, first, blocks[1].text):
        return blocks, None
    return blocks[1:], first


def _is_standfirst(tree: lxml.html.HtmlElement, first: str, second: str) -> bool:
    first_el = _element_with_text(tree, first)
    if first_el is None:
        return False
    for node in (first_el, first_el.getparent()):
        if node is not None and _LEAD_CLASS_RE.search(node.get("class") or ""):
            return True
    second_el = _element_with_text(tree, second)
    return second_el is not None and second_el.getparent() is not first_el.getparent()


def _element_with_text(tree: lxml.html.HtmlElement, text: str) -> Any:
    body = tree.find("body")
    if body is None:
        return None
    for element in body.iter("p", "div", "h2", "h3", "span", "section"):
        if tidy(element.text_content()) == text:
            return element
    return None


# ---------------------------------------------------------------------------------------------
# Is it an article?


def _rejection(
    tree: lxml.html.HtmlElement,
    ld: dict[str, Any],
    meta: _Meta,
    words: int,
    require_markers: bool = False,
) -> str | None:
    """Why this page is not an article, or None. Order matters: the most telling reason first."""
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
    if words < _MIN_WORDS and not ld:
        return f"too short to be an article ({words} words)"
    return None


def _paywalled(ld: dict[str, Any], meta: _Meta) -> bool:
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
    total = _words(" ".join(visible))
    linked = _words(" ".join(body.xpath(".//a//text()")))
    return linked / total if total else 0.0


# ---------------------------------------------------------------------------------------------
# Metadata sources


@dataclass
class _Meta:
    """`<meta>` values by lower-cased property/name/itemprop, in document order."""

    values: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def from_tree(cls, tree: lxml.html.HtmlElement) -> _Meta:
        meta = cls()
        for element in tree.iter("meta"):
            content = element.get("content")
            if content is None or not content.strip():
                continue
            for attr in ("property", "name", "itemprop", "http-equiv"):
                key = element.get(attr)
                if key:
                    meta.values.setdefault(key.strip().lower(), []).append(tidy(content))
        return meta

    def first(self, *keys: str) -> str | None:
        for key in keys:
            found = self.values.get(key)
            if found:
                return found[0]
        return None

    def all(self, key: str) -> list[str]:
        return list(self.values.get(key, []))


def _json_ld_article(tree: lxml.html.HtmlElement) -> dict[str, Any]:
    """The first Article-like JSON-LD object on the page (also inside @graph/lists), or {}."""
    for script in tree.xpath("//script[@type='application/ld+json']"):
        raw = (script.text or "").strip()
        if raw.startswith("<!--"):
            raw = raw.removeprefix("<!--").removesuffix("-->")
        try:
            data = json.loads(raw, strict=False)
        except ValueError:
            continue
        for node in _ld_nodes(data):
            if _ld_types(node) & ARTICLE_TYPES:
                return node
    return {}


def _ld_nodes(data: Any, depth: int = 0) -> Iterator[dict[str, Any]]:
    if depth > 5:
        return
    if isinstance(data, list):
        for item in data:
            yield from _ld_nodes(item, depth + 1)
    elif isinstance(data, dict):
        yield data
        yield from _ld_nodes(data.get("@graph"), depth + 1)
        yield from _ld_nodes(data.get("mainEntity"), depth + 1)


def _ld_types(node: dict[str, Any]) -> set[str]:
    kind = node.get("@type")
    kinds = kind if isinstance(kind, list) else [kind]
    return {k.lower().rsplit("/", 1)[-1] for k in kinds if isinstance(k, str)}


def _ld_text(value: Any) -> str | None:
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, str) and value.strip():
        return tidy(html_lib.unescape(value))
    return None


def _ld_name(value: Any) -> str | None:
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, dict):
        return _ld_text(value.get("name"))
    return _ld_text(value)


def _ld_url(value: Any) -> str | None:
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, dict):
        return _ld_text(value.get("url") or value.get("@id"))
    return _ld_text(value)


def _selected_text(soup: BeautifulSoup | None, selector: str | None) -> list[str]:
    """Texts (or datetime/content attributes) of the elements a site selector picks."""
    if soup is None or not selector:
        return []
    try:
        found = soup.select(selector)
    except _SELECTOR_ERRORS:  # an invalid selector must not stop extraction
        return []
    texts = []
    for element in found:
        value = element.get("datetime") or element.get("content") or element.get_text(" ")
        if isinstance(value, str) and tidy(value):
            texts.append(tidy(value))
    return texts


# ---------------------------------------------------------------------------------------------
# Fields


def _title(
    tree: lxml.html.HtmlElement,
    ld: dict[str, Any],
    meta: _Meta,
    site_name: str | None,
    soup: BeautifulSoup | None,
    selector: str | None,
) -> str | None:
    """The headline exactly as the page shows it.

    The `<h1>` is what readers see; og:title and <title> often carry " | Site" and JSON-LD
    headlines are sometimes truncated (Google's 110-character advice), so a visible h1 wins
    and the others are fallbacks, stripped of a site-name suffix."""
    chosen = _selected_text(soup, selector)
    if chosen:
        return chosen[0]
    candidates = [
        c
        for c in (
            _ld_text(ld.get("headline")),
            meta.first("og:title"),
            meta.first("twitter:title"),
            tidy(tree.findtext(".//title") or ""),
        )
        if c
    ]
    h1 = _headline_h1(tree, candidates, site_name)
    if h1:
        return h1
    for candidate in candidates:
        return _strip_site_suffix(candidate, site_name)
    return None


def _headline_h1(
    tree: lxml.html.HtmlElement, candidates: list[str], site_name: str | None
) -> str | None:
    scoped = tree.xpath("//article//h1 | //*[@itemprop='headline'] | //main//h1")
    everywhere = tree.xpath("//h1")
    texts = [tidy(e.text_content()) for e in [*scoped, *everywhere]]
    texts = [t for t in texts if t and t != site_name]
    # An h1 that the metadata agrees with is surely the headline.
    for text in texts:
        for candidate in candidates:
            if candidate == text or any(candidate.startswith(text + s) for s in _SITE_SEPARATORS):
                return text
    if scoped and texts:
        return texts[0]
    return texts[0] if len(set(texts)) == 1 else None


def _strip_site_suffix(title: str, site_name: str | None) -> str:
    if site_name:
        for sep in _SITE_SEPARATORS:
            if title.endswith(sep + site_name):
                return title[: -len(sep + site_name)].strip()
            if title.startswith(site_name + sep):
                return title[len(site_name + sep) :].strip()
    return title


def _published(
    tree: lxml.html.HtmlElement,
    ld: dict[str, Any],
    meta: _Meta,
    doc: _LazyDoc,
    soup: BeautifulSoup | None,
    selector: str | None,
) -> tuple[str | None, datetime | None]:
    """(raw string, UTC datetime) from the first source that gives a date string.

    The first string found is authoritative: if it does not parse, the result is (raw, None)
    rather than a weaker guess from further down (htmldate reads dates out of image URLs)."""
    raws = [
        *_selected_text(soup, selector),
        _ld_text(ld.get("datePublished")),
        _ld_text(ld.get("dateCreated")),
        meta.first(
            "article:published_time",
            "og:published_time",
            "datepublished",
            "pubdate",
            "publishdate",
            "publish-date",
            "parsely-pub-date",
            "sailthru.date",
            "dc.date.issued",
            "dcterms.created",
            "dc.date",
            "date",
        ),
        *[tidy(v) for v in tree.xpath("//article//time/@datetime | //time[@pubdate]/@datetime")],
    ]
    raw = next((r for r in raws if r), None) or doc.field("date")
    return raw, parse_datetime(raw) if raw else None


def _modified(ld: dict[str, Any], meta: _Meta) -> datetime | None:
    for raw in (
        _ld_text(ld.get("dateModified")),
        meta.first("article:modified_time", "og:updated_time", "datemodified", "dc.date.modified"),
    ):
        parsed = parse_datetime(raw) if raw else None
        if parsed is not None:
            return parsed
    return None


_POSIX_OFFSET_RE = re.compile(r"\b(GMT|UTC)\s*[+-]", re.IGNORECASE)


def parse_datetime(raw: str) -> datetime | None:
    """A date string -> aware UTC datetime, or None. Never raises.

    A string without a zone (or a bare date) is taken as UTC: the raw string is kept beside
    it, so the assumption can be revisited."""
    value = raw.strip()
    if not value:
        return None
    parsed: datetime | None = None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        parsed = _parse_loose(value)
    if parsed is None:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except (OverflowError, ValueError):
        return None


_RFC2822_RE = re.compile(r"^([A-Za-z]{3},\s*)?\d{1,2}\s+[A-Za-z]{3}\s+\d{4}\s+\d{1,2}:\d{2}")


def _parse_loose(value: str) -> datetime | None:
    # dateutil reads "GMT+4" the POSIX way (4 hours *behind*) and email.utils mangles it:
    # refuse rather than store a wrong instant (the raw string is kept).
    if _POSIX_OFFSET_RE.search(value) or not re.search(r"\d", value):
        return None
    if _RFC2822_RE.match(value):
        try:
            return email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
    try:
        return date_parser.parse(value)
    except (ValueError, OverflowError, TypeError):
        return None


def _authors(
    ld: dict[str, Any], meta: _Meta, doc: _LazyDoc, soup: BeautifulSoup | None, selector: str | None
) -> list[str]:
    chosen = [_BYLINE_PREFIX_RE.sub("", t) for t in _selected_text(soup, selector)]
    if chosen:
        return _unique(chosen)
    value = ld.get("author")
    ld_authors = [_ld_name(a) for a in (value if isinstance(value, list) else [value])]
    found = [a for a in ld_authors if a]
    if found:
        return _unique(found)
    metas = [
        m
        for key in ("author", "article:author", "parsely-author", "sailthru.author", "dc.creator")
        for m in meta.all(key)
        if not m.startswith(("http://", "https://"))
    ]
    if metas:
        return _unique(metas)
    author = doc.field("author")
    return _unique(a.strip() for a in author.split(";")) if author else []


def _section(ld: dict[str, Any], meta: _Meta, doc: _LazyDoc) -> str | None:
    section = _ld_text(ld.get("articleSection")) or meta.first("article:section")
    if section:
        return tidy(section)
    categories = doc.strings("categories")
    return categories[0] if categories else None


def _tags(ld: dict[str, Any], meta: _Meta, doc: _LazyDoc) -> list[str]:
    keywords = ld.get("keywords")
    if isinstance(keywords, str):
        keywords = keywords.split(",")
    if isinstance(keywords, list):
        found = [tidy(k) for k in keywords if isinstance(k, str) and k.strip()]
        if found:
            return _unique(found)
    tags = meta.all("article:tag") or [
        k for v in meta.all("news_keywords") or meta.all("keywords") for k in v.split(",")
    ]
    if not tags:
        tags = doc.strings("tags")
    return _unique(tidy(t) for t in tags if t.strip())


def _top_image(ld: dict[str, Any], meta: _Meta, doc: _LazyDoc, url: str) -> str | None:
    declared = (
        _ld_url(ld.get("image")),
        meta.first("og:image", "og:image:url", "og:image:secure_url", "twitter:image"),
    )
    for candidate in declared:
        absolute = _http_url(candidate, url)
        if absolute:
            return absolute
    return _http_url(doc.field("image"), url)


def _canonical(
    tree: lxml.html.HtmlElement, ld: dict[str, Any], meta: _Meta, url: str
) -> str | None:
    links = tree.xpath("//link[@rel='canonical']/@href")
    for candidate in (
        tidy(links[0]) if links else None,
        meta.first("og:url"),
        _ld_url(ld.get("mainEntityOfPage")) or _ld_text(ld.get("url")),
    ):
        absolute = _http_url(candidate, url)
        if absolute:
            return absolute
    return None


def _http_url(candidate: str | None, base: str) -> str | None:
    if not candidate:
        return None
    try:
        absolute = urljoin(base, candidate.strip())
    except ValueError:
        return None
    return absolute if absolute.startswith(("http://", "https://")) else None


def _unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(v for v in values if v))


# ---------------------------------------------------------------------------------------------
# Language and direction


def _language(tree: lxml.html.HtmlElement, meta: _Meta, hint: str | None, text: str) -> str | None:
    """The page's declared language unless the text's script contradicts it.

    Order: <html lang>, content-language meta, the caller's hint; each checked against the
    script of the extracted text, because templates keep lang="en" on translated pages."""
    script, guess = script_language(text)
    declared = [tree.get("lang"), meta.first("content-language", "language", "dc.language"), hint]
    for candidate in declared:
        code = _primary_subtag(candidate)
        if code:
            return code if _compatible(code, script) else guess
    return guess


def _primary_subtag(value: str | None) -> str | None:
    if not value:
        return None
    code = re.split(r"[-_,;\s]", value.strip(), maxsplit=1)[0].lower()
    return code if re.fullmatch(r"[a-z]{2,3}", code) else None


def _compatible(code: str, script: str | None) -> bool:
    if script == "arabic":
        return code in _ARABIC_SCRIPT_LANGS
    if script == "latin":
        return code not in _NON_LATIN_LANGS
    return True


_LETTER_RE = re.compile(r"[^\W\d_]")
_ARABIC_LETTER_RE = re.compile(r"[\u0620-\u064a\u066e-\u06d3\u06d5\u06ee-\u06ff\u0750-\u077f]")
_LATIN_LETTER_RE = re.compile(r"[A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f]")


def script_language(text: str) -> tuple[str | None, str | None]:
    """(dominant script, a cheap language guess) from letter counts; (None, None) if unsure."""
    sample = text[:5000]
    # Regex counts: a Python loop over every character cost more than the rest of this step.
    letters = len(_LETTER_RE.findall(sample))
    if letters < 20:
        return None, None
    arabic = len(_ARABIC_LETTER_RE.findall(sample))
    latin = len(_LATIN_LETTER_RE.findall(sample))
    if arabic / letters > 0.5:
        return "arabic", _arabic_script_language(sample)
    if latin / letters > 0.5:
        tokens = re.findall(r"[a-z]+", sample.lower())
        english = sum(1 for t in tokens if t in _ENGLISH_WORDS)
        return "latin", "en" if tokens and english / len(tokens) > 0.08 else None
    return None, None


def _arabic_script_language(text: str) -> str:
    persian = sum(text.count(ch) for ch in "پچژگکی")
    urdu = sum(text.count(ch) for ch in "ٹڈڑںے")
    arabic_only = sum(text.count(ch) for ch in "ةيكى")
    if urdu > max(persian, arabic_only) / 4 and urdu > 3:
        return "ur"
    return "fa" if persian > arabic_only else "ar"


def _direction(tree: lxml.html.HtmlElement, language: str | None) -> str:
    body = tree.find("body")
    for element in (tree, body):
        value = (element.get("dir") or "").lower() if element is not None else ""
        if value in {"rtl", "ltr"}:
            return value
    return "rtl" if language in _ARABIC_SCRIPT_LANGS else "ltr"


# ---------------------------------------------------------------------------------------------
# Sanitized HTML


def _render(
    blocks: list[_Block],
    language: str | None,
    direction: str,
    top_image: str | None,
    title: str,
    url: str,
) -> str:
    """The body as sanitized HTML: our own block structure, then nh3 as the real gate."""
    parts = [f'<article dir="{direction}"' + (f' lang="{language}">' if language else ">")]
    if top_image:
        parts.append(
            f'<figure><img src="{html_lib.escape(top_image, quote=True)}" '
            f'alt="{html_lib.escape(title, quote=True)}"></figure>'
        )
    open_container: tuple[str, int] | None = None
    for block in blocks:
        if block.container != open_container:
            if open_container:
                parts.append(f"</{open_container[0]}>")
            if block.container:
                parts.append(f"<{block.container[0]}>")
            open_container = block.container
        parts.append(f"<{block.tag}>{block.inner}</{block.tag}>")
    if open_container:
        parts.append(f"</{open_container[0]}>")
    parts.append("</article>")
    return sanitize_html("\n".join(parts), url)


def sanitize_html(fragment: str, base_url: str = "") -> str:
    """nh3 with our allowlist: no scripts or handlers, http(s)/mailto links only, rel=nofollow,
    relative URLs made absolute against the page."""

    def absolutize(tag: str, attribute: str, value: str) -> str | None:
        if attribute in {"href", "src"}:
            return urljoin(base_url, value) if base_url else value
        return value

    return nh3.clean(
        fragment,
        tags=_ALLOWED_TAGS,
        attributes=_ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
        attribute_filter=absolutize,
    )
