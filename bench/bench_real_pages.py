"""Real-page benchmark (issue 15): newsvault beside trafilatura and htmldate, in the same run.

    .venv/bin/python bench/bench_real_pages.py --trafilatura-dir DIR --htmldate-dir DIR
        [--limit N] [--only body|dates] [--details out.json] [--no-record]

The data is public but not in this repository: fetch the GitHub repositories adbar/trafilatura
and adbar/htmldate (e.g. ``git clone --depth 1 https://github.com/adbar/trafilatura``) and pass
their folders (or their ``tests/`` folders). trafilatura's ``tests/evaldata.json`` holds ~990
real pages with "with"/"without" snippets; htmldate's ``tests/eval_*.json`` holds 1,000 pages
with a human-annotated publication day.

Body (``bench/real_pages_body.py``): newsvault's extract path, trafilatura (default,
favor_precision, favor_recall), scored as trafilatura's own tests/evaluate.py; overall and per
page language (declared in the HTML), newsvault's refusals (NotAnArticle) by reason, median
CPU ms per page. Dates (``bench/real_pages_dates.py``): newsvault's published day against
htmldate ``find_date`` with and without extensive search, scored as htmldate's evaluation.
Appends a dated section to bench/RESULTS.md (unless --no-record).
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
from collections import Counter, defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rich.console import Console
from rich.table import Table

from bench import real_pages_body as body_mod
from bench import real_pages_dates as dates_mod
from bench.real_pages_data import body_cases, date_cases, page_language
from bench.results import append_section, rich_markdown

console = Console(width=160)
HELP_DATA = (
    "fetch github adbar/trafilatura and adbar/htmldate; pass --trafilatura-dir and "
    "--htmldate-dir (the repository folders or their tests/ folders)"
)


def _pct(value: float) -> str:
    return f"{value:.3f}"


def _languages(pages: Sequence[Any], min_pages: int) -> list[tuple[str, list[Any]]]:
    """Languages with at least min_pages pages, most pages first; the rest as "other"."""
    groups: dict[str, list[Any]] = defaultdict(list)
    for page in pages:
        groups[page.language].append(page)
    big = sorted(
        (k for k, v in groups.items() if len(v) >= min_pages and k != "unknown"),
        key=lambda k: -len(groups[k]),
    )
    rest = [p for k, v in groups.items() if k not in big and k != "unknown" for p in v]
    out = [(k, groups[k]) for k in big]
    if rest:
        out.append((f"other ({len({p.language for p in rest})} langs)", rest))
    if groups.get("unknown"):
        out.append(("unknown", groups["unknown"]))
    return out


def _median_ms(pages: Sequence[Any], tool: str) -> str:
    return f"{statistics.median(p.tools[tool].cpu_ms for p in pages):.1f}"


# --- body ---------------------------------------------------------------------------------------


def _run_cases(part: str, cases: Sequence[Any], run_page: Any) -> list[Any]:
    """Each case's page scored by ``run_page(case, language, raw)``, with progress."""
    pages = []
    for i, case in enumerate(cases, 1):
        raw = case.path.read_bytes()
        pages.append(run_page(case, page_language(raw), raw))
        if i % 100 == 0:
            console.print(f"{part}: {i}/{len(cases)} pages")
    return pages


def run_body(root: Path, limit: int | None) -> list[body_mod.PageResult]:
    body_mod.warm_up()
    return _run_cases("body", body_cases(root)[:limit], body_mod.run_page)


def body_tables(pages: Sequence[body_mod.PageResult], min_pages: int) -> list[Table]:
    overall = Table(title=f"Body text, {len(pages)} pages (trafilatura's evaldata.json)")
    for column in ("tool", "precision", "recall", "accuracy", "F1", "tp", "fp", "fn", "tn"):
        overall.add_column(column, justify="left" if column == "tool" else "right")
    overall.add_column("no output", justify="right")
    overall.add_column("errors", justify="right")
    overall.add_column("median CPU ms", justify="right")
    totals = body_mod.matrices(pages)
    for tool in body_mod.TOOLS:
        m = totals[tool]
        empty = sum(1 for p in pages if not p.tools[tool].output)
        errors = sum(1 for p in pages if p.tools[tool].error)
        overall.add_row(
            tool,
            *map(_pct, m.scores()),
            *map(str, (m.tp, m.fp, m.fn, m.tn)),
            str(empty),
            str(errors),
            _median_ms(pages, tool),
        )

    per_lang = Table(title="Body text F1 by page language (declared in the HTML)")
    per_lang.add_column("language")
    per_lang.add_column("pages", justify="right")
    per_lang.add_column("newsvault refused", justify="right")
    for tool in body_mod.TOOLS:
        per_lang.add_column(tool, justify="right")
    for language, group in _languages(pages, min_pages):
        lang_totals = body_mod.matrices(group)
        refused = sum(1 for p in group if p.refused)
        per_lang.add_row(
            language,
            str(len(group)),
            str(refused),
            *(_pct(lang_totals[t].scores()[3]) for t in body_mod.TOOLS),
        )

    reasons = Counter(body_mod.reason_kind(p.refused) for p in pages if p.refused)
    refusals = Table(title=f"newsvault refusals (NotAnArticle): {sum(reasons.values())} pages")
    refusals.add_column("reason")
    refusals.add_column("pages", justify="right")
    for reason, n in reasons.most_common():
        refusals.add_row(reason, str(n))
    ours = statistics.median(p.tools[body_mod.NEWSVAULT].cpu_ms for p in pages)
    cost = Table(title="Extraction cost: newsvault's median CPU per page over each tool's")
    cost.add_column("against")
    cost.add_column("its median CPU ms", justify="right")
    cost.add_column("newsvault / it", justify="right")
    for tool in body_mod.TOOLS[2:]:
        theirs = statistics.median(p.tools[tool].cpu_ms for p in pages)
        cost.add_row(tool, f"{theirs:.1f}", f"{ours / theirs:.2f}" if theirs else "-")
    return [overall, per_lang, refusals, cost]


def body_details(pages: Sequence[body_mod.PageResult]) -> list[dict[str, Any]]:
    return [
        {
            "file": p.case.file,
            "url": p.case.url,
            "language": p.language,
            "refused": p.refused,
            "with": list(p.case.with_),
            "without": list(p.case.without),
            "tools": {
                name: {
                    "counts": t.counts,
                    "cpu_ms": round(t.cpu_ms, 2),
                    "error": t.error,
                    "chars": len(t.output or ""),
                    "output": t.output,
                }
                for name, t in p.tools.items()
            },
        }
        for p in pages
    ]


# --- dates --------------------------------------------------------------------------------------


def run_dates(root: Path, limit: int | None) -> list[dates_mod.DatePage]:
    dates_mod.warm_up()
    return _run_cases("dates", date_cases(root)[:limit], dates_mod.run_page)


def date_tables(pages: Sequence[dates_mod.DatePage], min_pages: int) -> list[Table]:
    overall = Table(title=f"Published date, {len(pages)} pages (htmldate's eval_*.json)")
    for column in ("tool", "precision", "recall", "accuracy", "F-score", "tp", "fp", "tn", "fn"):
        overall.add_column(column, justify="left" if column == "tool" else "right")
    overall.add_column("median CPU ms", justify="right")
    totals = dates_mod.matrices(pages)
    for tool in dates_mod.TOOLS:
        m = totals[tool]
        overall.add_row(
            tool,
            *map(_pct, m.scores()),
            *map(str, (m.tp, m.fp, m.tn, m.fn)),
            _median_ms(pages, tool),
        )

    per_lang = Table(title="Published date: share of pages with the annotated day, by language")
    per_lang.add_column("language")
    per_lang.add_column("pages", justify="right")
    per_lang.add_column("newsvault refused", justify="right")
    for tool in dates_mod.TOOLS:
        per_lang.add_column(tool, justify="right")
    for language, group in _languages(pages, min_pages):
        lang_totals = dates_mod.matrices(group)
        per_lang.add_row(
            language,
            str(len(group)),
            str(sum(1 for p in group if p.refused)),
            *(_pct(lang_totals[t].tp / len(group)) for t in dates_mod.TOOLS),
        )
    return [overall, per_lang]


def date_details(pages: Sequence[dates_mod.DatePage]) -> list[dict[str, Any]]:
    return [
        {
            "file": p.case.file,
            "url": p.case.url,
            "source": p.case.source,
            "language": p.language,
            "reference": p.case.date,
            "refused": p.refused,
            "raw": p.raw,
            "search_raw": p.search_raw,
            "tools": {
                name: {"date": t.date, "cpu_ms": round(t.cpu_ms, 2), "error": t.error}
                for name, t in p.tools.items()
            },
        }
        for p in pages
    ]


# --- command line -------------------------------------------------------------------------------


def _versions() -> str:
    from importlib.metadata import version

    return ", ".join(f"{name} {version(name)}" for name in ("trafilatura", "htmldate", "lxml"))


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0] + " Data: " + HELP_DATA + ".",
        epilog="Getting the data: " + HELP_DATA + ".",
    )
    parser.add_argument("--trafilatura-dir", type=Path, help="adbar/trafilatura (or its tests/)")
    parser.add_argument("--htmldate-dir", type=Path, help="adbar/htmldate (or its tests/)")
    parser.add_argument("--only", choices=("body", "dates"), help="run one part only")
    parser.add_argument("--limit", type=int, help="first N pages of each set (a quick look)")
    parser.add_argument("--min-pages", type=int, default=20, help="pages for a language row")
    parser.add_argument("--details", type=Path, help="write per-page results here (JSON)")
    parser.add_argument("--no-record", action="store_true", help="do not append to RESULTS.md")
    args = parser.parse_args(argv)
    want_body = args.only in (None, "body")
    want_dates = args.only in (None, "dates")
    if (want_body and not args.trafilatura_dir) or (want_dates and not args.htmldate_dir):
        parser.error("the data folders are needed: " + HELP_DATA)

    tables: list[Table] = []
    details: dict[str, Any] = {}

    if want_body:
        body_pages = run_body(args.trafilatura_dir, args.limit)
        tables.extend(body_tables(body_pages, args.min_pages))
        details["body"] = body_details(body_pages)
    if want_dates:
        date_pages = run_dates(args.htmldate_dir, args.limit)
        tables.extend(date_tables(date_pages, args.min_pages))
        details["dates"] = date_details(date_pages)
    for table in tables:
        console.print(table)
    if args.details:
        args.details.write_text(json.dumps(details, ensure_ascii=False), "utf-8")
    if not args.no_record:
        command = "bench_real_pages.py" + (f" --only {args.only}" if args.only else "")
        command += f" --limit {args.limit}" if args.limit else ""
        note = (
            f"Python {platform.python_version()}, {_versions()}. Body: trafilatura's "
            "evaldata.json scored as its tests/evaluate.py (snippets found/missing); newsvault "
            "= `decode_html` + `extract_article`, JSON `text` (+lead: with the standfirst); "
            "trafilatura fast=False, tables, no comments. Dates: htmldate's eval_mediacloud_2020 "
            "+ eval_default scored as its tests/evaluation.py; newsvault = `published` as a UTC "
            "day (none when refused); htmldate original_date=True, no URL. CPU = process time "
            "per page; newsvault's includes decoding. Languages as the pages declare them."
        )
        append_section(command, note, [rich_markdown(t) for t in tables])


if __name__ == "__main__":
    main()
