"""Turning stored text into safe HTML: sanitising, text direction, side-by-side diffs.

Everything here returns markup that is safe to insert into a template with ``|safe``:
archived HTML is sanitised again on every render (so a stricter policy applies to old
versions too), and plain text is escaped.
"""

from __future__ import annotations

import html

from markupsafe import Markup

from processing.diff import DiffOp, WordDiff
from processing.language import RTL_LANGUAGES
from processing.sanitize import ARCHIVE_VIEW, sanitize_html


def text_direction(language: str | None) -> str:
    """``rtl`` or ``ltr`` for a known language, ``auto`` (let the browser look) otherwise."""
    if not language:
        return "auto"
    primary = language.replace("_", "-").split("-", 1)[0].lower()
    return "rtl" if primary in RTL_LANGUAGES else "ltr"


def sanitize(fragment: str | None, base_url: str | None = None) -> Markup:
    """Archived body HTML made safe: no scripts, handlers, styles or non-http(s) links.

    The archive-view variant of processing.sanitize's one policy. Relative links are resolved
    against the capture's URL, so they point at the original site rather than at the archive.
    """
    if not fragment:
        return Markup("")
    return Markup(sanitize_html(fragment, base_url or "", ARCHIVE_VIEW))


def paragraphs(text: str | None) -> Markup:
    """Plain text as escaped ``<p dir="auto">`` paragraphs (one per stored line)."""
    lines = (line for line in (text or "").split("\n") if line.strip())
    return Markup("".join(f'<p dir="auto">{html.escape(line)}</p>' for line in lines))


def side_by_side(diff: WordDiff) -> tuple[Markup, Markup]:
    """The old text with deletions in ``<del>``, the new text with insertions in ``<ins>``.

    Each marked run gets ``dir="auto"`` (a bidi isolate), as in ``processing.diff.render_html``.
    """
    return _side(diff.ops, "delete", "del"), _side(diff.ops, "insert", "ins")


def _side(ops: list[DiffOp], kind: str, tag: str) -> Markup:
    parts: list[str] = []
    for op in ops:
        if op.kind == "equal":
            parts.append(html.escape(op.text).replace("\n", "<br>\n"))
        elif op.kind == kind:
            for number, line in enumerate(op.text.split("\n")):
                if number:
                    parts.append(f"<{tag}>¶</{tag}><br>\n")
                if line:
                    parts.append(f'<{tag} dir="auto">{html.escape(line)}</{tag}>')
    return Markup("".join(parts))
