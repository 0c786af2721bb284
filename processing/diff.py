"""Word-level diff of two versions of an article, and its renderings for terminal and web.

The diff works on tokens that are words, runs of spaces and line breaks, so that joining the
ops of one side gives that text back exactly, and a paragraph boundary is a token of its own.

Right-to-left text: strings are never reversed and the ops stay in logical (reading) order;
display order is the terminal's or browser's job. What we add is bidi isolation around each
marked run (U+2068 FSI ... U+2069 PDI in the terminal, an element with ``dir="auto"`` in
HTML), so the ASCII brackets and +/- markers stay attached to their run inside Arabic text
instead of being pulled to the other end of the line by the bidi algorithm.
"""

from __future__ import annotations

import difflib
import html
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal

from rich.text import Text

__all__ = ["DiffOp", "WordDiff", "render_html", "render_terminal", "word_diff"]

OpKind = Literal["equal", "insert", "delete"]

_TOKEN = re.compile(r"\n|[^\S\n]+|\S+")
_FIRST_STRONG_ISOLATE = "\u2068"
_POP_DIRECTIONAL_ISOLATE = "\u2069"
_PILCROW = "¶"  # shows a line break that was added or removed


@dataclass(frozen=True)
class DiffOp:
    kind: OpKind
    text: str


@dataclass(frozen=True)
class WordDiff:
    ops: list[DiffOp] = field(default_factory=list)

    @property
    def added(self) -> int:
        """Words inserted (whitespace and line breaks do not count)."""
        return sum(len(op.text.split()) for op in self.ops if op.kind == "insert")

    @property
    def removed(self) -> int:
        """Words deleted."""
        return sum(len(op.text.split()) for op in self.ops if op.kind == "delete")

    @property
    def old_text(self) -> str:
        return "".join(op.text for op in self.ops if op.kind != "insert")

    @property
    def new_text(self) -> str:
        return "".join(op.text for op in self.ops if op.kind != "delete")


def tokenize(text: str) -> list[str]:
    """Words, horizontal-space runs and line breaks; ``"".join(tokenize(t)) == t``."""
    return _TOKEN.findall(text)


@dataclass
class _Change:
    deleted: str = ""
    inserted: str = ""


def word_diff(old: str, new: str) -> WordDiff:
    """Word diff of ``old`` -> ``new``; see ``WordDiff`` for counts and the text of each side."""
    old_tokens, new_tokens = tokenize(old), tokenize(new)
    # autojunk stays on: it keeps spaces and very common words from seeding matches (which
    # would be slow and give scattered, meaningless alignments) while still letting matches
    # extend across them.
    matcher = difflib.SequenceMatcher(None, old_tokens, new_tokens)
    pieces: list[str | _Change] = []
    for tag, old_start, old_end, new_start, new_end in matcher.get_opcodes():
        if tag == "equal":
            pieces.append("".join(old_tokens[old_start:old_end]))
        else:
            deleted = "".join(old_tokens[old_start:old_end])
            inserted = "".join(new_tokens[new_start:new_end])
            pieces.append(_Change(deleted, inserted))
    return WordDiff(_to_ops(_absorb_lone_spaces(pieces)))


def _absorb_lone_spaces(pieces: list[str | _Change]) -> list[str | _Change]:
    """Merge changes separated only by spaces: "-[a] -[b]+[x] +[y]" reads "-[a b]+[x y]".

    A line break between two changes is kept as an equal piece: paragraphs stay visible.
    """
    merged: list[str | _Change] = []
    index = 0
    while index < len(pieces):
        piece = pieces[index]
        previous = merged[-1] if merged else None
        following = pieces[index + 1] if index + 1 < len(pieces) else None
        if (
            isinstance(piece, str)
            and isinstance(previous, _Change)
            and isinstance(following, _Change)
            and piece.isspace()
            and "\n" not in piece
        ):
            previous.deleted += piece + following.deleted
            previous.inserted += piece + following.inserted
            index += 2
            continue
        merged.append(piece)
        index += 1
    return merged


def _to_ops(pieces: list[str | _Change]) -> list[DiffOp]:
    ops: list[DiffOp] = []
    for piece in pieces:
        if isinstance(piece, str):
            ops.append(DiffOp("equal", piece))
            continue
        if piece.deleted:
            ops.append(DiffOp("delete", piece.deleted))
        if piece.inserted:
            ops.append(DiffOp("insert", piece.inserted))
    return ops


# --- rendering ------------------------------------------------------------------------------

_LINE_BREAK = object()  # marker in a changed run's segments, distinct from any text


def _segments(text: str) -> Iterator[str | object]:
    """A changed run cut at line breaks: bidi isolates cannot span paragraphs."""
    for number, line in enumerate(text.split("\n")):
        if number:
            yield _LINE_BREAK
        if line:
            yield line


def _split_outer_space(text: str) -> tuple[str, str, str]:
    """(leading spaces, core, trailing spaces): spaces stay outside the brackets."""
    core = text.strip()
    if not core:
        return text, "", ""
    start = text.index(core)
    return text[:start], core, text[start + len(core) :]


_TERMINAL_STYLES = {"insert": ("+[", "bold green underline"), "delete": ("-[", "bold red strike")}


def render_terminal(diff: WordDiff) -> Text:
    """A rich ``Text``: insertions ``+[...]`` green underlined, deletions ``-[...]`` red struck.

    The brackets make it readable without colour (logs, pipes); each marked run is a bidi
    isolate, so in Arabic text the markers stay with their words.
    """
    rendered = Text()
    for op in diff.ops:
        if op.kind == "equal":
            rendered.append(op.text)
            continue
        opener, style = _TERMINAL_STYLES[op.kind]
        for segment in _segments(op.text):
            if segment is _LINE_BREAK:
                rendered.append(f"{opener}{_PILCROW}]", style=style)
                if op.kind == "insert":
                    rendered.append("\n")
                continue
            assert isinstance(segment, str)
            before, core, after = _split_outer_space(segment)
            rendered.append(before)
            if core:
                rendered.append(_FIRST_STRONG_ISOLATE)
                rendered.append(opener, style=style)
                rendered.append(core, style=style)
                rendered.append("]", style=style)
                rendered.append(_POP_DIRECTIONAL_ISOLATE)
            rendered.append(after)
    return rendered


_HTML_TAGS = {"insert": "ins", "delete": "del"}


def render_html(diff: WordDiff) -> str:
    """HTML fragment: ``<ins>``/``<del>`` runs (``dir="auto"``, hence isolated), ``<br>``
    for line breaks, all text escaped, in a ``<div dir="auto">`` so an Arabic article is laid
    out right to left and an English one left to right."""
    parts = ['<div dir="auto">']
    for op in diff.ops:
        if op.kind == "equal":
            parts.append(html.escape(op.text).replace("\n", "<br>\n"))
            continue
        tag = _HTML_TAGS[op.kind]
        for segment in _segments(op.text):
            if segment is _LINE_BREAK:
                parts.append(f"<{tag}>{_PILCROW}</{tag}>")
                if op.kind == "insert":
                    parts.append("<br>\n")
                continue
            assert isinstance(segment, str)
            parts.append(f'<{tag} dir="auto">{html.escape(segment)}</{tag}>')
    parts.append("</div>")
    return "".join(parts)
