"""Published dates on htmldate's human-annotated pages, scored as htmldate's tests/evaluation.py.

Per page: no date found is a false negative (and also a true negative when the annotation says
the page has no date); the annotated day is a true positive; any other day a false positive.

newsvault's date is the ``published_day`` of its extract path (``decode_html`` then
``extract_article``): the day in the page's own offset (UTC when the string names none; for
a UTC timestamp, the day of the same instant in another of the page's date strings with the
site's offset, else the URL's day when one day off); a page it refuses as not an article has
no date.
"newsvault dates" is the date search alone (``processing.dates.page_dates``) on every page,
refused or not.
htmldate runs as in its own benchmark: ``find_date(html, original_date=True,
extensive_search=True|False)`` on the page text, without the URL.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import partial

from bench.real_pages_data import DateCase

NEWSVAULT = "newsvault"
NEWSVAULT_DATES = "newsvault dates"
HTMLDATE_EXTENSIVE = "htmldate extensive"
HTMLDATE_FAST = "htmldate fast"
TOOLS = (NEWSVAULT, NEWSVAULT_DATES, HTMLDATE_EXTENSIVE, HTMLDATE_FAST)


def evaluate(result: str | None, reference: str | None) -> tuple[int, int, int, int]:
    """htmldate's evaluate_result: (tp, fp, tn, fn)."""
    if result is None:
        return (0, 0, 1, 1) if reference is None else (0, 0, 0, 1)
    return (1, 0, 0, 0) if result == reference else (0, 1, 0, 0)


@dataclass
class DateMatrix:
    tp: int = 0
    fp: int = 0
    tn: int = 0
    fn: int = 0

    def add(self, counts: tuple[int, int, int, int]) -> None:
        self.tp += counts[0]
        self.fp += counts[1]
        self.tn += counts[2]
        self.fn += counts[3]

    def scores(self) -> tuple[float, float, float, float]:
        """htmldate comparison.py's precision, recall, accuracy, F-score (0.0 if undefined)."""
        tp, fp, tn, fn = self.tp, self.fp, self.tn, self.fn
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        total = tp + tn + fp + fn
        accuracy = (tp + tn) / total if total else 0.0
        fscore = 2 * tp / (2 * tp + fp + fn) if 2 * tp + fp + fn else 0.0
        return precision, recall, accuracy, fscore


@dataclass
class DateResult:
    date: str | None
    counts: tuple[int, int, int, int]
    cpu_ms: float
    error: str | None = None


@dataclass
class DatePage:
    case: DateCase
    language: str
    tools: dict[str, DateResult] = field(default_factory=dict)
    refused: str | None = None
    raw: str | None = None  # newsvault's published_raw
    search_raw: str | None = None  # the raw string of the date search alone


def as_text(body: bytes) -> str | bytes:
    """htmldate's load_document: UTF-8 text, else the bytes (find_date then guesses)."""
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return body


def run_newsvault(body: bytes, url: str) -> tuple[str | None, str | None, str | None]:
    """(the page's local day or None, published_raw, refusal reason)."""
    from processing.decode import decode_html
    from processing.extract import NotAnArticle, extract_article

    result = extract_article(decode_html(body, None).text, url)
    if isinstance(result, NotAnArticle):
        return None, None, result.reason
    day = result.published_day.isoformat() if result.published_day else None
    return day, result.published_raw, None


def run_date_search(body: bytes, url: str) -> tuple[str | None, str | None]:
    """(local day or None, raw string) from the date search alone, as the extractor parses."""
    from processing.dates import page_dates
    from processing.decode import decode_html
    from processing.text import clean_source, parse_html

    source = clean_source(decode_html(body, None).text)
    tree = parse_html(source)
    if tree is None:
        return None, None
    published, _ = page_dates(tree, source, url)
    return (published.day.isoformat() if published.day else None), published.raw


def _htmldate(extensive: bool) -> Callable[[str | bytes], str | None]:
    from htmldate import find_date

    def run(html: str | bytes) -> str | None:
        return find_date(html, original_date=True, extensive_search=extensive)

    return run


def _timed(fn: Callable[[], object]) -> tuple[object, float, str | None]:
    start = time.process_time()
    try:
        value, error = fn(), None
    except Exception as exc:  # a crash finds no date
        value, error = None, f"{type(exc).__name__}: {exc}"
    return value, (time.process_time() - start) * 1000, error


def warm_up() -> None:
    page = b"<html><head><meta property='article:published_time' content='2020-01-02'></head>"
    run_newsvault(page + b"<body><p>x</p></body></html>", "http://localhost/")
    run_date_search(page + b"<body><p>x</p></body></html>", "http://localhost/")
    from processing.date_strings import parse_local
    from processing.language import detect_language

    parse_local("23 مايو 2021")  # dateparser's locale data, once
    detect_language("the model is loaded once per process " * 3)
    for extensive in (True, False):
        _htmldate(extensive)(page.decode())


def run_page(case: DateCase, language: str, body: bytes) -> DatePage:
    page = DatePage(case, language)
    value, cpu, error = _timed(lambda: run_newsvault(body, case.url))
    day, page.raw, page.refused = value if isinstance(value, tuple) else (None, None, None)
    page.tools[NEWSVAULT] = DateResult(day, evaluate(day, case.date), cpu, error)
    value, cpu, error = _timed(lambda: run_date_search(body, case.url))
    day, page.search_raw = value if isinstance(value, tuple) else (None, None)
    page.tools[NEWSVAULT_DATES] = DateResult(day, evaluate(day, case.date), cpu, error)
    html = as_text(body)
    for name, extensive in ((HTMLDATE_EXTENSIVE, True), (HTMLDATE_FAST, False)):
        fn = _htmldate(extensive)
        found, cpu, error = _timed(partial(fn, html))
        date = found if isinstance(found, str) else None
        page.tools[name] = DateResult(date, evaluate(date, case.date), cpu, error)
    return page


def matrices(pages: Iterable[DatePage]) -> dict[str, DateMatrix]:
    totals = {name: DateMatrix() for name in TOOLS}
    for page in pages:
        for name, tool in page.tools.items():
            totals[name].add(tool.counts)
    return totals
