"""Language detection on trafilatura's real pages: the text's language against the declared one.

    .venv/bin/python bench/real_pages_language.py --trafilatura-dir DIR [--limit N] [--no-record]

Per page that declares a language (<html lang>, Content-Language meta, og:locale) and that
newsvault extracts as an article: py3langid on the extracted text alone
(`processing.language.text_language`, no declaration) against the declaration, and the
language newsvault keeps (`ExtractedArticle.language`, the declaration checked against the
text). A disagreement is not always the detector's error: templates keep lang="en" on
translated pages. Median CPU ms of the detection call alone.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rich.console import Console
from rich.table import Table

from bench.real_pages_data import _LANG_RES, body_cases
from bench.results import append_section, rich_markdown

console = Console(width=160)


def declared_language(body: bytes) -> str | None:
    head = body[:200_000]
    for pattern in _LANG_RES:
        match = pattern.search(head)
        if match:
            return match.group(1).decode("ascii").lower()
    return None


def run(root: Path, limit: int | None, min_pages: int) -> Table:
    from processing.decode import decode_html
    from processing.extract import ExtractedArticle, extract_article
    from processing.language import script_language, text_language

    rows: dict[str, list[tuple[bool, bool]]] = defaultdict(list)
    cpu: list[float] = []
    text_language("the model is loaded once per process " * 3)
    for case in body_cases(root)[:limit]:
        raw = case.path.read_bytes()
        declared = declared_language(raw)
        if not declared or not re.fullmatch(r"[a-z]{2,3}", declared):
            continue
        article = extract_article(decode_html(raw, None).text, case.url)
        if not isinstance(article, ExtractedArticle):
            continue
        text = " ".join(article.paragraphs[:20])
        start = time.process_time()
        script, guess = script_language(text)
        detected = text_language(text, script, guess)
        cpu.append((time.process_time() - start) * 1000)
        rows[declared].append((detected == declared, article.language == declared))
    table = Table(
        title="Language: py3langid on the extracted text vs the page's declaration "
        f"(accepted pages; detection median CPU {statistics.median(cpu or [0]):.2f} ms)"
    )
    for column in ("declared", "pages", "text agrees", "share", "newsvault keeps declared"):
        table.add_column(column, justify="left" if column == "declared" else "right")
    big = sorted((k for k, v in rows.items() if len(v) >= min_pages), key=lambda k: -len(rows[k]))
    rest = [r for k, v in rows.items() if k not in big for r in v]
    groups = [(k, rows[k]) for k in big]
    if rest:
        groups.append((f"other ({len(rows) - len(big)} langs)", rest))
    every = [r for v in rows.values() for r in v]
    groups.append(("all", every))
    for name, group in groups:
        agree = sum(1 for a, _ in group if a)
        kept = sum(1 for _, k in group if k)
        table.add_row(name, str(len(group)), str(agree), f"{agree / len(group):.3f}", str(kept))
    return table


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trafilatura-dir", type=Path, required=True)
    parser.add_argument("--limit", type=int)
    parser.add_argument("--min-pages", type=int, default=5)
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args(argv)
    table = run(args.trafilatura_dir, args.limit, args.min_pages)
    console.print(table)
    if not args.no_record:
        from importlib.metadata import version

        note = (
            f"py3langid {version('py3langid')}; trafilatura's evaldata.json pages that declare "
            "a language and that newsvault accepts; the text's language without the declaration."
        )
        append_section("real_pages_language.py", note, [rich_markdown(table)])


if __name__ == "__main__":
    main()
