"""Terminal text that is never read as rich markup unless it is our own.

Titles, paragraphs, URLs and error messages come from pages and users; a ``[/b]`` or a
``[link=...]`` in them must print as it is. So the consoles parse no markup and replace no
``:emoji:`` codes, and our own styled messages are built as :class:`rich.text.Text` by
:func:`styled`, which parses only the template we wrote and inserts every value as plain text.
(``rich.markup.escape`` is not enough: a value ending in two backslashes before a tag loses one.)
"""

from __future__ import annotations

import re
from typing import IO

from rich.console import Console
from rich.highlighter import ReprHighlighter
from rich.text import Text

# A place holder that no template of ours contains: markup leaves it alone, so after parsing
# it marks where each value goes, inside whatever tags surround it.
_HOLE = "\x00"
_FIELD = re.compile(r"\{(\w+)\}")
_HIGHLIGHTER = ReprHighlighter()


def plain_console(
    *, stderr: bool = False, file: IO[str] | None = None, width: int | None = None
) -> Console:
    """A console that prints strings as they are: no markup, no emoji codes."""
    return Console(stderr=stderr, file=file, width=width, markup=False, emoji=False)


def styled(template: str, /, *, highlight: bool = False, **values: object) -> Text:
    """``template`` (our rich markup) with each ``{name}`` replaced by ``str(values[name])``.

    A value takes the styles of the tags around its place holder and is never parsed, so any
    text comes out verbatim. ``highlight`` colours numbers and URLs as a printed string would.
    Place holders are bare names (no format specs); a template must not hold ``{`` otherwise.
    """
    names: list[str] = []

    def hole(match: re.Match[str]) -> str:
        names.append(match.group(1))
        return _HOLE

    skeleton = Text.from_markup(_FIELD.sub(hole, template), emoji=False)
    text = _fill(skeleton, [str(values[name]) for name in names])
    if not highlight:
        return text
    # As Console.render_str does: highlight the plain text, then lay our styles over it.
    highlighted = _HIGHLIGHTER(text.plain)
    highlighted.copy_styles(text)
    return highlighted


def _fill(skeleton: Text, values: list[str]) -> Text:
    if not values:
        return skeleton
    holes = [index for index, char in enumerate(skeleton.plain) if char == _HOLE]
    cuts = sorted({cut for index in holes for cut in (index, index + 1)})
    filled = Text(style=skeleton.style, end="")
    remaining = iter(values)
    for piece in skeleton.divide(cuts):
        if piece.plain == _HOLE:
            value = Text(next(remaining), end="")
            for span in piece.spans:
                value.stylize(span.style)
            filled.append_text(value)
        else:
            filled.append_text(piece)
    filled.end = skeleton.end
    return filled
