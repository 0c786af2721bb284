"""CSS of a replayed page with its ``url()``, ``@import`` and ``image-set()`` pointed into the
archive (pure).

tinycss2 tokenizes the way browsers do (CSS Syntax Level 3), so escapes, comments and
strings cannot hide a URL from it the way they hide one from a regular expression; the tokens
are then serialized back (equivalent CSS, not the same bytes: comments go). A stylesheet
without ``url``, ``@import``, ``image-set`` or a backslash is returned untouched without being
tokenized, which keeps the many small ``style`` attributes of a page cheap. Whatever a rewrite
still missed is blocked by the replay's Content-Security-Policy, which loads nothing from
outside the archive: the rewriting is for fidelity, the policy for safety.
"""

from __future__ import annotations

import re
from typing import Any

import tinycss2
from tinycss2 import ast
from tinycss2.bytes import decode_stylesheet_bytes
from tinycss2.serializer import serialize_string_value, serialize_url

from processing.replay_urls import ArchiveLinks

__all__ = ["decode_css", "rewrite_css"]

_NEEDS_WORK = re.compile(r"url|@import|image-set|\\", re.IGNORECASE)
_CHARSET = re.compile(r"charset=[\"']?([^\s;\"']+)", re.IGNORECASE)
# A <style> element ends at the first "</style": serialized CSS must never hold one (a string
# written with an escape, "\3c/style>", comes back out of tinycss2 as a real "<").
_STYLE_END = re.compile(r"</(?=style)", re.IGNORECASE)
_IMAGE_SETS = frozenset({"image-set", "-webkit-image-set"})


def decode_css(body: bytes, content_type: str | None, fallback: str = "utf-8") -> str:
    """A stylesheet's text, decoded as CSS Syntax says: BOM, the HTTP charset, ``@charset``,
    then ``fallback`` (the referring document's encoding, when known)."""
    match = _CHARSET.search(content_type or "")
    text, _encoding = decode_stylesheet_bytes(
        body, protocol_encoding=match.group(1) if match else None, environment_encoding=fallback
    )
    return str(text)


def rewrite_css(css: str, base: str, links: ArchiveLinks, *, in_style_element: bool = False) -> str:
    """``css`` (a stylesheet, a ``<style>`` element's text or a ``style`` attribute) with every
    URL it loads pointed into the archive, resolved against ``base`` (the stylesheet's own URL,
    or the page's for inline CSS).

    ``@import`` targets become ``cs_`` (stylesheets), URLs inside ``@font-face`` ``oe_``
    (fonts), every other ``url()``/``image-set()`` ``im_``. ``@charset`` goes: the replay
    serves the text as UTF-8. A URL with a scheme that loads something other than the web
    (``javascript:``...) becomes an empty ``url()``.
    """
    if not _NEEDS_WORK.search(css):
        return css
    tokens = tinycss2.parse_component_value_list(css, skip_comments=True)
    _Walker(base, links).walk(tokens, "im_", top=True)
    text: str = tinycss2.serialize(tokens)
    return _STYLE_END.sub(r"<\\/", text) if in_style_element else text


class _Walker:
    def __init__(self, base: str, links: ArchiveLinks) -> None:
        self.base = base
        self.links = links

    def walk(self, tokens: list[Any], modifier: str, *, top: bool = False) -> None:
        at_keyword: str | None = None  # the at-rule whose prelude or block comes next
        index = 0
        while index < len(tokens):
            token = tokens[index]
            if isinstance(token, ast.AtKeywordToken):
                at_keyword = token.lower_value
                if at_keyword == "charset" and top:
                    index = _drop_through_semicolon(tokens, index)
                    at_keyword = None
                    continue
            elif isinstance(token, ast.LiteralToken) and token.value in (";", "}"):
                at_keyword = None
            elif isinstance(token, ast.URLToken):
                self._url_token(token, "cs_" if at_keyword == "import" else modifier)
            elif isinstance(token, ast.StringToken) and at_keyword == "import":
                self._string_token(token, "cs_")  # @import "a.css"
            elif isinstance(token, ast.FunctionBlock):
                self._function(token, "cs_" if at_keyword == "import" else modifier)
            elif isinstance(token, ast.CurlyBracketsBlock):
                self.walk(token.content, "oe_" if at_keyword == "font-face" else modifier)
                at_keyword = None
            elif isinstance(token, (ast.SquareBracketsBlock, ast.ParenthesesBlock)):
                self.walk(token.content, modifier)
            elif isinstance(token, ast.ParseError) and token.kind == "bad-url":
                del tokens[index]  # invalid: browsers ignore it; serialized, it would be a URL
                continue
            index += 1

    def _function(self, token: ast.FunctionBlock, modifier: str) -> None:
        name = token.lower_name
        if name in ("url", "src") or name in _IMAGE_SETS:
            # url("a.png"), src("a.png"), image-set("a.png" 1x, "b.png" 2x): strings are URLs.
            for argument in token.arguments:
                if isinstance(argument, ast.StringToken):
                    self._string_token(argument, modifier)
        self.walk(token.arguments, modifier)

    def _target(self, value: str, modifier: str) -> str:
        return self.links.rewrite(value, self.base, modifier) or ""

    def _url_token(self, token: ast.URLToken, modifier: str) -> None:
        token.value = self._target(token.value, modifier)
        token.representation = f"url({serialize_url(token.value)})"

    def _string_token(self, token: ast.StringToken, modifier: str) -> None:
        token.value = self._target(token.value, modifier)
        token.representation = f'"{serialize_string_value(token.value)}"'


def _drop_through_semicolon(tokens: list[Any], index: int) -> int:
    end = index
    while end < len(tokens):
        token = tokens[end]
        end += 1
        if isinstance(token, ast.LiteralToken) and token.value == ";":
            break
    del tokens[index:end]
    return index
