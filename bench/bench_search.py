"""Full-text search speed over 100,000 synthetic articles, on SQLite and PostgreSQL.

Generates Arabic and English articles (Zipf-distributed synthetic vocabulary, so a few words
are in most articles and most words in few), bulk-inserts them straight into the index
tables and the search index, then times one-word queries through ``storage.search.search``
(the function the API and CLI call, snippets included): p50 and p95 per backend. The issue's
floor: p95 under 50 ms on SQLite.

Prints a table and appends a dated section to bench/RESULTS.md.

    .venv/bin/python bench/bench_search.py [--articles 100000] [--queries 300] [--no-pg]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rich.console import Console
from rich.table import Table
from sqlalchemy import insert, text, update

from bench.results import append_section, markdown_table, ok_mark
from storage.db import engine_for, migrate, scratch_database, session_scope
from storage.models import Article, Capture, Site, Version
from storage.search import document_key, index_documents, search

PG_ADMIN_URL = os.environ.get(
    "NEWSVAULT_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
P95_FLOOR_MS = 50.0
BATCH = 5000
EPOCH = datetime(2020, 1, 1, tzinfo=UTC)

_ARABIC_LETTERS = "ابتثجحخدذرزسشصضطظعغفقكلمنهوية"
_LATIN = "abcdefghijklmnopqrstuvwxyz"


@dataclass(frozen=True)
class Row:
    backend: str
    kind: str
    queries: int
    p50: float
    p95: float
    hits: float

    @property
    def ok(self) -> bool | None:
        return self.p95 < P95_FLOOR_MS if self.backend == "sqlite" else None


def vocabulary(rng: random.Random, letters: str, size: int) -> list[str]:
    words: set[str] = set()
    while len(words) < size:
        words.add("".join(rng.choices(letters, k=rng.randint(3, 8))))
    return sorted(words)


class Corpus:
    """Synthetic articles: 60% Arabic, 40% English, ~120 words each, Zipf word frequencies."""

    def __init__(self, seed: int = 7, size: int = 200_000) -> None:
        self.rng = random.Random(seed)
        self.words = {
            "ar": vocabulary(self.rng, _ARABIC_LETTERS, size),
            "en": vocabulary(self.rng, _LATIN, size),
        }
        # Zipf weights: word k has weight 1/k.
        self.weights = [1.0 / (k + 1) for k in range(size)]
        self.cumulative = list(_accumulate(self.weights))

    def text(self, language: str, count: int) -> str:
        words = self.rng.choices(self.words[language], cum_weights=self.cumulative, k=count)
        sentences = [" ".join(words[i : i + 15]) + "." for i in range(0, count, 15)]
        return "\n".join(" ".join(sentences[i : i + 3]) for i in range(0, len(sentences), 3))

    def query_words(self, language: str, count: int) -> list[tuple[str, str]]:
        """One-word queries across the frequency range: (band, word)."""
        vocab = self.words[language]
        # Over 12M words: a common word is in most articles, a rare one in a handful.
        bands = {"common": (0, 50), "medium": (50, 5000), "rare": (50_000, len(vocab))}
        picks = []
        for number in range(count):
            band = list(bands)[number % 3]
            low, high = bands[band]
            picks.append((band, vocab[self.rng.randrange(low, high)]))
        return picks


def _accumulate(values: list[float]) -> Iterator[float]:
    total = 0.0
    for value in values:
        total += value
        yield total


def fill(url: str, articles: int, corpus: Corpus, console: Console) -> float:
    """Bulk-insert ``articles`` captures, articles, versions and search documents."""
    started = time.perf_counter()
    with session_scope(url) as session:
        session.execute(
            insert(Site),
            [
                {"id": 1, "name": "bench-ar", "definition": {}},
                {"id": 2, "name": "bench-en", "definition": {}},
            ],
        )
    for start in range(1, articles + 1, BATCH):
        ids = range(start, min(start + BATCH, articles + 1))
        captures, rows, versions, documents = [], [], [], []
        for number in ids:
            language = "ar" if number % 5 < 3 else "en"
            when = EPOCH + timedelta(minutes=number * 7)
            url_text = f"http://bench.example/{language}/{number}.html"
            title = corpus.text(language, 10).replace("\n", " ")
            body = corpus.text(language, 120)
            captures.append(
                {
                    "id": number,
                    "url": url_text,
                    "canonical_url": url_text,
                    "fetched_at": when,
                    "status": 200,
                    "mime_type": "text/html",
                    "content_length": len(body),
                    "payload_digest": "sha1:BENCH",
                    "record_id": f"<urn:uuid:{uuid.UUID(int=number)}>",
                    "record_type": "response",
                    "warc_name": "bench.warc.gz",
                    "warc_offset": number,
                    "warc_length": 1,
                    "kind": "article",
                    "process_state": "done",
                }
            )
            rows.append(
                {
                    "id": number,
                    "canonical_url": url_text,
                    "site_id": 1 if language == "ar" else 2,
                    "first_seen": when,
                    "last_seen": when,
                    "title": title,
                    "language": language,
                    "version_count": 1,
                }
            )
            versions.append(
                {
                    "id": number,
                    "article_id": number,
                    "number": 1,
                    "capture_id": number,
                    "captured_at": when,
                    "content_hash": f"{number:064x}",
                    "title": title,
                    "text": body,
                    "language": language,
                    "published": when - timedelta(hours=2),
                    "authors": [],
                    "meta": {},
                }
            )
            documents.append((number, number, document_key(title, body)))
        with session_scope(url) as session:
            session.execute(insert(Capture), captures)
            session.execute(insert(Article), rows)
            session.execute(insert(Version), versions)
            index_documents(session, documents)
        console.print(f"  {ids[-1]:,} articles", end="\r")
    with session_scope(url) as session:
        session.execute(update(Article).values(current_version_id=Article.id))
        session.execute(update(Capture).values(version_id=Capture.id))
        if url.startswith("postgresql"):
            session.execute(text("ANALYZE"))
    if url.startswith("sqlite"):
        with engine_for(url).connect() as connection:
            connection.exec_driver_sql("INSERT INTO search_fts(search_fts) VALUES ('optimize')")
            connection.exec_driver_sql("ANALYZE")
            connection.exec_driver_sql("COMMIT")
    return time.perf_counter() - started


def time_queries(
    url: str, backend: str, queries: list[tuple[str, str, str]], *, lang_filter: bool
) -> list[Row]:
    timings: dict[str, list[float]] = {}
    hits: dict[str, list[int]] = {}
    with session_scope(url) as session:
        for _, _, word in queries[:10]:  # warm caches, as a running server has them
            search(session, word)
        for band, language, word in queries:
            began = time.perf_counter()
            page = search(session, word, lang=language if lang_filter else None, limit=20)
            timings.setdefault(band, []).append((time.perf_counter() - began) * 1000)
            hits.setdefault(band, []).append(len(page.results))
    kind = "one word, lang filter" if lang_filter else "one word"
    rows = [
        Row(
            backend,
            f"{kind} ({band})",
            len(values),
            _pct(values, 50),
            _pct(values, 95),
            statistics.mean(hits[band]),
        )
        for band, values in timings.items()
    ]
    every = [value for values in timings.values() for value in values]
    rows.append(
        Row(
            backend,
            f"{kind} (all)",
            len(every),
            _pct(every, 50),
            _pct(every, 95),
            statistics.mean(h for values in hits.values() for h in values),
        )
    )
    return rows


def _pct(values: list[float], percent: int) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(percent / 100 * (len(ordered) - 1)))]


def run_backend(
    url: str, backend: str, articles: int, queries: list[tuple[str, str, str]], console: Console
) -> tuple[list[Row], float]:
    console.print(f"[bold]{backend}[/]: generating {articles:,} articles…")
    migrate(url)
    fill_seconds = fill(url, articles, Corpus(), console)
    console.print(f"  filled in {fill_seconds:.1f} s; timing {len(queries)} queries…")
    rows = time_queries(url, backend, queries, lang_filter=False)
    rows += time_queries(url, backend, queries, lang_filter=True)
    return rows, fill_seconds


def report(console: Console, rows: list[Row], articles: int, fills: dict[str, float]) -> None:
    table = Table(title=f"search over {articles:,} articles (storage.search.search, limit 20)")
    for column in ("backend", "queries", "n", "p50 ms", "p95 ms", "mean hits", "floor", "ok"):
        table.add_column(column)
    marks = {True: "[green]yes[/]", False: "[red]NO[/]", None: ""}
    for row in rows:
        floor = f"p95 < {P95_FLOOR_MS:.0f} ms" if row.backend == "sqlite" else ""
        table.add_row(
            row.backend,
            row.kind,
            str(row.queries),
            f"{row.p50:.2f}",
            f"{row.p95:.2f}",
            f"{row.hits:.1f}",
            floor,
            marks[row.ok],
        )
    console.print(table)
    fill_text = ", ".join(f"{name} filled in {seconds:.0f} s" for name, seconds in fills.items())
    note = (
        f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs; {fill_text}. One-word queries "
        "through `storage.search.search` (snippets included), 20 results a page; bands by word "
        "frequency (common: in most articles, rare: in a handful)."
    )
    floor = f"p95 < {P95_FLOOR_MS:.0f} ms"
    table = markdown_table(
        ["backend", "queries", "n", "p50 ms", "p95 ms", "mean hits", "floor", "ok"],
        [
            [
                r.backend,
                r.kind,
                str(r.queries),
                f"{r.p50:.2f}",
                f"{r.p95:.2f}",
                f"{r.hits:.1f}",
                floor if r.backend == "sqlite" else "",
                ok_mark(r.ok),
            ]
            for r in rows
        ],
    )
    append_section(f"bench_search.py --articles {articles:,}", note, [table])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=300, help="per language")
    parser.add_argument("--no-pg", action="store_true", help="skip PostgreSQL")
    arguments = parser.parse_args()
    console = Console()
    corpus = Corpus()
    queries = [
        (band, language, word)
        for language in ("ar", "en")
        for band, word in corpus.query_words(language, arguments.queries)
    ]
    random.Random(3).shuffle(queries)
    rows: list[Row] = []
    fills: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="newsvault-bench-search-") as folder:
        url = f"sqlite:///{Path(folder) / 'index.sqlite3'}"
        sqlite_rows, fills["SQLite"] = run_backend(
            url, "sqlite", arguments.articles, queries, console
        )
        rows += sqlite_rows
        engine_for(url).dispose()
    if not arguments.no_pg:
        with scratch_database(PG_ADMIN_URL, "newsvault_bench") as pg_url:
            pg_rows, fills["PostgreSQL"] = run_backend(
                pg_url, "postgresql", arguments.articles, queries, console
            )
            rows += pg_rows
    report(console, rows, arguments.articles, fills)
    if any(row.ok is False for row in rows):
        sys.exit(1)


if __name__ == "__main__":
    main()
