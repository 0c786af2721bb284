"""Body text on trafilatura's real-page set, scored the way trafilatura's tests/evaluate.py does.

A "with" snippet found (whitespace-normalised substring) in a tool's output is a true positive,
one missing a false negative; a "without" snippet found is a false positive, one absent a true
negative. No output (or a crash) misses every "with" snippet and keeps every "without" one out.

newsvault runs its own path (what ``newsvault extract --format json`` does):
``processing.decode.decode_html`` then ``processing.extract.extract_article``; its scored text
is the JSON ``text`` field (``clean_text`` of the paragraphs). A second row adds the standfirst
(``lead``), which newsvault keeps apart from the body, as the page shows it above the text.
trafilatura runs as in its own benchmark: bytes in, ``fast=False``, tables kept, no comments,
no formatting; once as is, once with ``favor_precision``, once with ``favor_recall``.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from bench.real_pages_data import BodyCase

NEWSVAULT = "newsvault"
NEWSVAULT_LEAD = "newsvault +lead"
TRAFILATURA = "trafilatura"
TRAFILATURA_PRECISION = "trafilatura precision"
TRAFILATURA_RECALL = "trafilatura recall"
# favor_precision with its metadata (title, author, date, site name, categories, tags): the
# same fields newsvault's extraction returns, so the fair yardstick for its cost.
TRAFILATURA_METADATA = "trafilatura precision +metadata"
TOOLS = (
    NEWSVAULT,
    NEWSVAULT_LEAD,
    TRAFILATURA,
    TRAFILATURA_PRECISION,
    TRAFILATURA_RECALL,
    TRAFILATURA_METADATA,
)

_WS = re.compile(r"\s+")


def norm(text: str) -> str:
    """trafilatura's eval_common.norm: whitespace variants do not cost recall."""
    return _WS.sub(" ", text).strip()


@dataclass
class Matrix:
    """(tp, fp, fn, tn) with trafilatura's derived scores (0.0 on an empty denominator)."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0

    def add(self, counts: tuple[int, int, int, int]) -> None:
        self.tp += counts[0]
        self.fp += counts[1]
        self.fn += counts[2]
        self.tn += counts[3]

    def scores(self) -> tuple[float, float, float, float]:
        """precision, recall, accuracy, F1."""
        tp, fp, fn, tn = self.tp, self.fp, self.fn, self.tn
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        total = tp + fp + fn + tn
        accuracy = (tp + tn) / total if total else 0.0
        f1 = 2 * tp / (2 * tp + fp + fn) if 2 * tp + fp + fn else 0.0
        return precision, recall, accuracy, f1


def count(case: BodyCase, output: str | None) -> tuple[int, int, int, int]:
    """trafilatura's eval_common.count_item: per-page (tp, fp, fn, tn)."""
    if output:
        text = norm(output)
        tp = sum(1 for w in case.with_ if norm(w) in text)
        fp = sum(1 for w in case.without if norm(w) in text)
    else:
        tp = fp = 0
    return tp, fp, len(case.with_) - tp, len(case.without) - fp


@dataclass
class ToolResult:
    output: str | None
    counts: tuple[int, int, int, int]
    cpu_ms: float
    error: str | None = None


@dataclass
class PageResult:
    case: BodyCase
    language: str
    tools: dict[str, ToolResult] = field(default_factory=dict)
    refused: str | None = None  # newsvault's NotAnArticle reason


# --- runners ----------------------------------------------------------------------------------


def _trafilatura_runners() -> dict[str, Callable[[bytes], str | None]]:
    from trafilatura import extract

    opts: dict[str, Any] = {
        "fast": False,
        "include_comments": False,
        "include_tables": True,
        "include_formatting": False,
    }
    return {
        TRAFILATURA: partial(extract, **opts),
        TRAFILATURA_PRECISION: partial(extract, favor_precision=True, **opts),
        TRAFILATURA_RECALL: partial(extract, favor_recall=True, **opts),
        TRAFILATURA_METADATA: partial(_text_with_metadata, **opts),
    }


def _text_with_metadata(body: bytes, **opts: Any) -> str | None:
    from trafilatura import bare_extraction

    document = bare_extraction(body, favor_precision=True, with_metadata=True, **opts)
    return getattr(document, "text", None)


def run_newsvault(body: bytes, url: str) -> tuple[str | None, str | None, str | None]:
    """(text, lead + text, refusal reason) through newsvault's extract path."""
    from processing.decode import decode_html
    from processing.extract import NotAnArticle, extract_article
    from vocabulary.normalize import clean_text

    page = decode_html(body, None)
    result = extract_article(page.text, url)
    if isinstance(result, NotAnArticle):
        return None, None, result.reason
    text = clean_text(result.text)
    with_lead = clean_text(f"{result.lead}\n{result.text}") if result.lead else text
    return text, with_lead, None


def _timed(fn: Callable[[], Any]) -> tuple[Any, float, str | None]:
    start = time.process_time()
    try:
        value, error = fn(), None
    except Exception as exc:  # a crash is a full miss, as in trafilatura's benchmark
        value, error = None, f"{type(exc).__name__}: {exc}"
    return value, (time.process_time() - start) * 1000, error


def warm_up() -> None:
    """Pay lazy imports and one-time setup before any timing."""
    page = b"<html><body><article><p>" + b"Some words here. " * 30 + b"</p></article></body></html>"
    run_newsvault(page, "http://localhost/")
    for fn in _trafilatura_runners().values():
        fn(page)


def run_page(case: BodyCase, language: str, body: bytes) -> PageResult:
    result = PageResult(case, language)
    nv, cpu, error = _timed(lambda: run_newsvault(body, case.url))
    text, with_lead, refused = nv if nv else (None, None, None)
    result.refused = refused
    result.tools[NEWSVAULT] = ToolResult(text, count(case, text), cpu, error)
    result.tools[NEWSVAULT_LEAD] = ToolResult(with_lead, count(case, with_lead), cpu, error)
    for name, fn in _trafilatura_runners().items():
        output, cpu, error = _timed(partial(fn, body))
        result.tools[name] = ToolResult(output, count(case, output), cpu, error)
    return result


def matrices(pages: Iterable[PageResult]) -> dict[str, Matrix]:
    totals = {name: Matrix() for name in TOOLS}
    for page in pages:
        for name, tool in page.tools.items():
            totals[name].add(tool.counts)
    return totals


_DIGITS = re.compile(r"\d+")


def reason_kind(reason: str) -> str:
    """A refusal reason without its numbers, so reasons tally ("too short ... (N words)")."""
    if reason.startswith("extraction failed:"):
        return reason.split(":", 2)[0] + ": " + reason.split(":", 2)[1].strip()
    return _DIGITS.sub("N", reason)
