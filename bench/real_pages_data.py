"""The public real-page evaluation sets (issue 15): loading them and telling a page's language.

- trafilatura's ``tests/evaldata.json``: ``{url: {"file", "with": [...], "without": [...]}}``,
  pages under ``tests/cache/`` or ``tests/eval/``;
- htmldate's ``tests/eval_mediacloud_2020.json`` and ``tests/eval_default.json``:
  ``{url: {"file", "date": "YYYY-MM-DD" | None}}``, pages under ``tests/test_set/``,
  ``tests/cache/`` or ``tests/eval/``.

Either repository's root or its ``tests/`` folder may be given. The data is never part of
this repository; see ``bench/bench_real_pages.py --help``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

BODY_SUBDIRS = ("cache", "eval")
DATE_SUBDIRS = ("test_set", "cache", "eval")
DATE_FILES = ("eval_mediacloud_2020.json", "eval_default.json")  # htmldate's order


@dataclass(frozen=True)
class BodyCase:
    url: str
    file: str
    path: Path
    with_: tuple[str, ...]
    without: tuple[str, ...]


@dataclass(frozen=True)
class DateCase:
    url: str
    file: str
    path: Path
    date: str | None
    source: str  # which eval_*.json it came from


def tests_dir(root: Path) -> Path:
    """``root/tests`` when root is a repository, else root itself."""
    return root / "tests" if (root / "tests").is_dir() else root


def _resolve(tests: Path, name: str, subdirs: tuple[str, ...]) -> Path:
    for sub in subdirs:
        path = tests / sub / name
        if path.is_file():
            return path
    raise FileNotFoundError(f"{name} not under {tests} ({', '.join(subdirs)})")


def body_cases(root: Path) -> list[BodyCase]:
    tests = tests_dir(root)
    data = json.loads((tests / "evaldata.json").read_text("utf-8"))
    return [
        BodyCase(
            url=url,
            file=item["file"],
            path=_resolve(tests, item["file"], BODY_SUBDIRS),
            with_=tuple(item["with"]),
            without=tuple(item["without"]),
        )
        for url, item in sorted(data.items())  # trafilatura's read_corpus order
    ]


def date_cases(root: Path) -> list[DateCase]:
    tests = tests_dir(root)
    pages: dict[str, DateCase] = {}
    for name in DATE_FILES:
        for url, item in json.loads((tests / name).read_text("utf-8")).items():
            pages[url] = DateCase(
                url=url,
                file=item["file"],
                path=_resolve(tests, item["file"], DATE_SUBDIRS),
                date=item["date"],
                source=name,
            )
    return list(pages.values())


# The page's declared language: <html lang>, Content-Language meta, og:locale (in that order).
_LANG_RES = (
    re.compile(rb"""<html\b[^>]*?\s(?:xml:)?lang\s*=\s*["']?\s*([A-Za-z]{2,3})\b""", re.I),
    re.compile(
        rb"""<meta\b[^>]*?http-equiv\s*=\s*["']?content-language["']?[^>]*?"""
        rb"""content\s*=\s*["']?\s*([A-Za-z]{2,3})\b""",
        re.I,
    ),
    re.compile(
        rb"""<meta\b[^>]*?property\s*=\s*["']?og:locale["']?[^>]*?"""
        rb"""content\s*=\s*["']?\s*([A-Za-z]{2,3})\b""",
        re.I,
    ),
)


def page_language(body: bytes) -> str:
    """The language the page declares (primary subtag, lower case), else py3langid's guess on
    the visible text if py3langid is installed, else "unknown"."""
    head = body[:200_000]
    for pattern in _LANG_RES:
        match = pattern.search(head)
        if match:
            return match.group(1).decode("ascii").lower()
    return _guess_language(body)


def _guess_language(body: bytes) -> str:
    try:
        import py3langid
    except ImportError:
        return "unknown"
    text = re.sub(rb"<script.*?</script>|<style.*?</style>|<[^>]+>", b" ", body, flags=re.S | re.I)
    code, _score = py3langid.classify(text.decode("utf-8", "replace")[:20_000])
    return str(code)
