"""The article body as blocks (paragraphs, headings, list items) and as sanitized HTML (pure).

Main text: trafilatura's extracted tree (`bare_extraction(...).body`, the pass chosen by
`processing.trafilatura_pass`), walked element by element so paragraph boundaries are exactly
the page's own; or, when a site definition gives a body CSS selector, the `<p>` elements under
it (beautifulsoup4).

The lead (standfirst): news pages often show the summary under the headline (`<p class=
"lead">`, equal to og:description). trafilatura keeps it as the first paragraph. It is not
body text (the seed format keeps it apart), so a leading paragraph that equals the page's
description *and* sits apart from the body paragraphs (another parent, or a lead-like class)
moves to `ExtractedArticle.lead`. A description that merely repeats the first body paragraph
(WordPress excerpts) shares its parent with the next paragraph, so it stays in the body.
"""

from __future__ import annotations

import html as html_lib
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urljoin

import lxml.html
from bs4 import BeautifulSoup

from processing.metadata import MetaTags, ld_text
from processing.recognition import BodyStats
from processing.sanitize import sanitize_html
from processing.text import SELECTOR_ERRORS, tidy, word_count
from processing.trafilatura_pass import main_text

_LEAD_CLASS_RE = re.compile(
    r"\b(lead|standfirst|dek|deck|summary|excerpt|intro|subtitle|sub-?head(line)?|teaser)\b",
    re.IGNORECASE,
)
_INLINE_TAGS = {"#b": "strong", "#i": "em", "#t": "em"}
_TEASER_LINK_SHARE = 0.8  # a short block this much link text is a link to another story
_TEASER_MAX_WORDS = 20
_ADDRESS_RE = re.compile(r"://|\bwww\.|\S@\S")


@dataclass(frozen=True)
class Block:
    """One paragraph-level piece of the body: its plain text and its inline HTML."""

    tag: str  # p | h2 | h3 | h4 | li
    text: str
    inner: str  # inline HTML (escaped text, a/em/strong/br), sanitized again at render
    container: tuple[str, int] | None = None  # ("ul"|"ol"|"blockquote", group id)
    link_words: int = 0  # words inside links (recognition: a listing's text is mostly links)
    hrefs: tuple[str, ...] = ()  # the links' targets, as the page wrote them


# ---------------------------------------------------------------------------------------------
# One-line boilerplate trafilatura keeps: "read also" teasers, sharing, comment and rating
# widgets, subscription prompts (the languages of the real-page set). Only short blocks.

_TEASER_RE = re.compile(
    r"^(mira|mire|puedes ver|lea también|lea más|lee también|lee más|lea|ver también"
    r"|te puede interesar|read more|read also|also read|see also|lesen sie auch"
    r"|lesen sie mehr|auch interessant|mehr zum thema|weitere beiträge[^:]*|lire aussi"
    r"|à lire aussi|a lire aussi|voir aussi|leggi anche|czytaj też|czytaj także"
    r"|zobacz też|zobacz także)\s*[:：]",
    re.IGNORECASE,
)
_WIDGET_LINES = frozenset(
    {
        "teilen sie dies mit", "teilen mit", "bewerten", "view comments", "wird geladen",
        "zurück nach oben", "zurück zur listenansicht", "zurück zum newsroom",
        "tipp favorisieren", "pour lire la suite", "pour accéder en illimité",
        "contenido relacionado", "share this", "share on facebook", "share", "like this",
        "gefällt mir", "loading", "lust auf mehr", "empfohlene beiträge", "kategorien",
        "aufrufe", "telefon", "von",
    }
)  # fmt: skip
_BOILERPLATE_MAX_WORDS = 25


def is_boilerplate(text: str) -> bool:
    """A short block that is a widget or a teaser, not article text."""
    if word_count(text) > _BOILERPLATE_MAX_WORDS:
        return False
    if _TEASER_RE.match(text):
        return True
    return text.strip(" .:!?…").lower() in _WIDGET_LINES


def drop_link_teasers(blocks: list[Block]) -> list[Block]:
    """Without the short blocks made of a link ("read also" teasers: another story's
    headline). Run after recognition, which counts them to tell listings from articles; the
    body is kept whole when nothing else would remain."""
    kept = [b for b in blocks if not _is_link_teaser(b)]
    return kept if kept else blocks


def _is_link_teaser(block: Block) -> bool:
    words = word_count(block.text)
    if not 0 < words <= _TEASER_MAX_WORDS or block.link_words < _TEASER_LINK_SHARE * words:
        return False
    # A list item of links is the list's content (sources, ingredients, downloads); an
    # address written out ("http://...", "www...", a mail address) is the text itself.
    return block.tag != "li" and not _ADDRESS_RE.search(block.text)


# ---------------------------------------------------------------------------------------------
# trafilatura's main text


def trafilatura_blocks(tree: lxml.html.HtmlElement, url: str) -> list[Block]:
    """The blocks of trafilatura's main text ([] when it finds none)."""
    body = getattr(main_text(tree), "body", None)
    if body is None:
        return []
    blocks: list[Block] = []
    for index, element in enumerate(body):
        blocks.extend(_blocks_of(element, index, url))
    return [b for b in blocks if b.text and not is_boilerplate(b.text)]


def _blocks_of(element: Any, index: int, url: str) -> Iterator[Block]:
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
    elif tag == "table":
        yield from _table_blocks(element, url)
    elif tag in {"p", "code"} or (tag and tag not in {"graphic", "figure"}):
        yield _block("p", element, url)


def _table_blocks(table: Any, url: str) -> Iterator[Block]:
    """A table, one paragraph per row (cells joined by a space). Data tables too: recipes,
    prices and specifications are the page's content as much as its prose."""
    rows = [[cell for cell in row if cell.tag == "cell"] for row in table.iter("row")]
    for row in rows:
        parts = [_block("p", cell, url) for cell in row]
        parts = [b for b in parts if b.text]
        if parts:
            yield Block(
                "p",
                " ".join(b.text for b in parts),
                " ".join(b.inner for b in parts),
                None,
                sum(b.link_words for b in parts),
                tuple(h for b in parts for h in b.hrefs),
            )


def _block(tag: str, element: Any, url: str, container: tuple[str, int] | None = None) -> Block:
    text_parts: list[str] = []
    html_parts: list[str] = []
    _inline(element, url, text_parts, html_parts, top=True)
    refs = [r for r in element.iter("ref")]
    return Block(
        tag,
        tidy("".join(text_parts)),
        "".join(html_parts).strip(),
        container,
        sum(word_count(" ".join(r.itertext())) for r in refs),
        tuple(r.get("target") for r in refs if r.get("target")),
    )


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


# ---------------------------------------------------------------------------------------------
# A site's body selector


def selector_blocks(soup: BeautifulSoup, selector: str, notes: list[str]) -> list[Block] | None:
    """`<p>` paragraphs under the site's body selector; None (fall back) if it finds none."""
    try:
        containers = soup.select(selector)
    except SELECTOR_ERRORS as exc:
        notes.append(f"body selector {selector!r} is invalid ({exc}); used trafilatura")
        return None
    blocks: list[Block] = []
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
                links = paragraph.find_all("a")
                blocks.append(
                    Block(
                        "p",
                        text,
                        paragraph.decode_contents().strip(),
                        link_words=sum(word_count(a.get_text(" ")) for a in links),
                        hrefs=tuple(str(a["href"]) for a in links if a.get("href")),
                    )
                )
    if not blocks:
        notes.append(f"body selector {selector!r} matched no paragraphs; used trafilatura")
        return None
    return blocks


# ---------------------------------------------------------------------------------------------
# Headline and lead out of the body


def drop_title_blocks(blocks: list[Block], title: str | None) -> list[Block]:
    """The headline is metadata, not a paragraph (trafilatura keeps the h1 as a head); any
    other h1 inside the body becomes an h2 (the sanitized HTML allows h2-h4)."""
    kept: list[Block] = []
    for position, block in enumerate(blocks):
        if title and block.text == title and (block.tag == "h1" or position < 3):
            continue
        if block.tag == "h1":
            block = replace(block, tag="h2")
        kept.append(block)
    return kept


def split_lead(
    blocks: list[Block], tree: lxml.html.HtmlElement, ld: dict[str, Any], meta: MetaTags
) -> tuple[list[Block], str | None]:
    """Move a standfirst (see the module docstring) out of the body: (body, lead or None)."""
    if len(blocks) < 2 or blocks[0].tag != "p" or blocks[0].container:
        return blocks, None
    first = blocks[0].text
    descriptions = {
        tidy(d)
        for d in (
            ld_text(ld.get("description")),
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
# Sanitized HTML


def render_body(
    blocks: list[Block],
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


def body_stats(blocks: list[Block]) -> BodyStats:
    """The body's size and link text, as recognition weighs them."""
    return BodyStats(
        words=sum(word_count(b.text) for b in blocks),
        paragraphs=sum(1 for b in blocks if b.tag == "p" or b.tag == "li"),
        link_words=sum(b.link_words for b in blocks),
        hrefs=tuple(h for b in blocks for h in b.hrefs),
        text=" ".join(b.text for b in blocks),
    )
