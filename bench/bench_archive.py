"""Archive benchmark (issue 3, "Speed"): writing, retrieval, storage.

    .venv/bin/python bench/bench_archive.py [--captures N] [--lookups N] [--no-pg]

(a) writing: CPU time per 50 KB capture through ``Archive.add`` + ``commit`` against gzip alone
    (the writer's level, 6) of the same bytes; floor: at most 1 ms on top of gzip.
(b) retrieval: N captures (default 1,000,000; 10 per URL) bulk-loaded into a SQLite index and
    into a PostgreSQL database created for the run (and dropped after), then ``snapshots`` and
    the closest-capture lookup (``show --at``) for random URLs, each in its own transaction as
    the CLI runs them; floor: p99 under 5 ms on both.
(c) storage: bytes a re-crawl of unchanged pages adds per page (revisit + request records);
    floor: under 1.5 KB.

Prints a table and appends a dated section to bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import gzip
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rich.console import Console
from rich.table import Table

from bench.results import append_section, markdown_table, ok_mark
from newsvault.config import Settings, load_settings
from storage.archive import Archive
from storage.db import engine_for, migrate, scratch_database, session_scope
from storage.fetch import Fetch
from storage.retrieval import capture_at, snapshots
from storage.warc import WarcWriter

PG_ADMIN = os.environ.get("NEWSVAULT_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
HOST = "http://news.example.org"
T0 = datetime(2025, 1, 1, tzinfo=UTC)
CAPTURES_PER_URL = 10
REQUEST_HEADERS = [
    ("User-Agent", "newsvault/0.1 (+https://example.org/bot)"),
    ("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"),
    ("Accept-Language", "en"),
    ("Accept-Encoding", "gzip, deflate, br"),
]
console = Console()


@dataclass
class Row:
    part: str
    measure: str
    value: str
    floor: str
    ok: bool | None


# -- (a) writing ----------------------------------------------------------------------------


def html_page(rng: random.Random, size: int = 50_000) -> bytes:
    """~``size`` bytes of article-like HTML: words from a vocabulary, so gzip works as on news."""
    vocabulary = [
        "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(2, 10)))
        for _ in range(3000)
    ]
    parts = ["<html><head><title>Bench</title></head><body><article>"]
    length = len(parts[0])
    while length < size:
        paragraph = "<p>" + " ".join(rng.choices(vocabulary, k=60)) + ".</p>\n"
        parts.append(paragraph)
        length += len(paragraph)
    parts.append("</article></body></html>")
    return "".join(parts).encode()[:size]


def page_fetch(url: str, body: bytes, at: datetime) -> Fetch:
    return Fetch(
        url=url,
        canonical_url=url,
        status=200,
        reason="OK",
        response_headers=[
            ("Content-Type", "text/html; charset=utf-8"),
            ("Content-Length", str(len(body))),
            ("Date", "Wed, 01 Jan 2025 00:00:00 GMT"),
            ("Cache-Control", "max-age=60"),
            ("ETag", f'"{uuid.uuid4().hex[:20]}"'),
        ],
        request_headers=list(REQUEST_HEADERS),
        body=body,
        fetched_at=at,
        ip_address="192.0.2.1",
        kind="article",
    )


def bench_writing(home: Path, count: int) -> list[Row]:
    rng = random.Random(1)
    bodies = [html_page(rng) for _ in range(20)]
    fetches = [
        page_fetch(f"{HOST}/w/{n}.html", bodies[n % len(bodies)] + str(n).encode(), T0)
        for n in range(count)
    ]
    settings = load_settings(home=home / "writing")
    migrate(settings.index_url)
    with Archive(settings) as archive:
        archive.add(fetches[0])  # warm up: file creation, first queries
        archive.commit()
        start = time.process_time()
        for number, fetch in enumerate(fetches[1:], start=1):
            archive.add(fetch)
            if number % 64 == 0:  # the crawler commits in batches
                archive.commit()
        archive.commit()
        archive_cpu = (time.process_time() - start) / (count - 1)
    # The WARC writer alone (no index): tells the file format's cost from the index's.
    with WarcWriter(home / "writer-only") as writer:
        writer.write_exchange(fetches[0])
        start = time.process_time()
        for fetch in fetches[1:]:
            writer.write_exchange(fetch)
        writer_cpu = (time.process_time() - start) / (count - 1)
    start = time.process_time()
    for fetch in fetches[1:]:
        gzip.compress(fetch.body, compresslevel=6)
    gzip_cpu = (time.process_time() - start) / (count - 1)
    extra_ms = (archive_cpu - gzip_cpu) * 1000
    return [
        Row(
            "writing",
            "CPU per 50 KB capture, Archive.add+commit",
            f"{archive_cpu * 1000:.3f} ms",
            "",
            None,
        ),
        Row(
            "writing", "CPU per 50 KB capture, gzip -6 alone", f"{gzip_cpu * 1000:.3f} ms", "", None
        ),
        Row(
            "writing",
            "CPU per capture, WarcWriter.write_exchange alone",
            f"{writer_cpu * 1000:.3f} ms",
            "",
            None,
        ),
        Row("writing", "ratio archive / gzip", f"{archive_cpu / gzip_cpu:.2f}x", "", None),
        Row("writing", "on top of gzip", f"{extra_ms:.3f} ms", "<= 1 ms", extra_ms <= 1.0),
    ]


# -- (b) retrieval --------------------------------------------------------------------------

COLUMNS = (
    "url, canonical_url, fetched_at, status, mime_type, content_length, payload_digest, "
    "record_id, record_type, warc_name, warc_offset, warc_length, kind, process_state"
)


def url_of(number: int) -> str:
    return f"{HOST}/section-{number % 20}/2025/story-{number}.html"


def generated_rows(captures: int) -> Iterator[tuple[object, ...]]:
    """``captures`` rows, ``CAPTURES_PER_URL`` per URL, spread over a year, in time order."""
    urls = max(1, captures // CAPTURES_PER_URL)
    step = timedelta(days=365) / captures
    for number in range(captures):
        url = url_of(number % urls)
        at = T0 + step * number
        yield (
            url,
            url,
            at,
            200,
            "text/html",
            50_000,
            f"sha1:{number:032d}",
            f"<urn:uuid:{uuid.UUID(int=number)}>",
            "response",
            f"bench-{number // 20_000:05d}.warc.gz",
            (number % 20_000) * 16_000,
            16_000,
            "article",
            "skipped",
        )


def load_sqlite(settings: Settings, captures: int) -> float:
    start = time.perf_counter()
    placeholders = ", ".join("?" * 14)
    rows = (
        (*row[:2], row[2].strftime("%Y-%m-%d %H:%M:%S.%f"), *row[3:])  # type: ignore[attr-defined]
        for row in generated_rows(captures)
    )
    with engine_for(settings.index_url).begin() as connection:
        # The raw sqlite3 cursor takes a generator: no million-tuple list in memory.
        cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
        cursor.executemany(f"INSERT INTO captures ({COLUMNS}) VALUES ({placeholders})", rows)
        cursor.execute("ANALYZE")
    return time.perf_counter() - start


def load_postgres(url: str, captures: int) -> float:
    import psycopg

    start = time.perf_counter()
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as connection:
        with (
            connection.cursor() as cursor,
            cursor.copy(f"COPY captures ({COLUMNS}) FROM STDIN") as copy,
        ):
            for row in generated_rows(captures):
                copy.write_row(row)
        connection.execute("ANALYZE captures")
    return time.perf_counter() - start


def timed(lookups: list[Callable[[], object]]) -> tuple[float, float]:
    """p50 and p99 in ms."""
    times = []
    for lookup in lookups:
        start = time.perf_counter()
        lookup()
        times.append((time.perf_counter() - start) * 1000)
    quantiles = statistics.quantiles(times, n=100)
    return statistics.median(times), quantiles[98]


def bench_lookups(db_url: str, captures: int, count: int, label: str) -> list[Row]:
    rng = random.Random(2)
    urls = [url_of(rng.randrange(max(1, captures // CAPTURES_PER_URL))) for _ in range(count)]
    moments = [T0 + timedelta(seconds=rng.randrange(365 * 86400)) for _ in range(count)]

    def snapshot_of(url: str) -> Callable[[], object]:
        def run() -> object:
            with session_scope(db_url) as session:
                return snapshots(session, url)

        return run

    def closest_of(url: str, at: datetime) -> Callable[[], object]:
        def run() -> object:
            with session_scope(db_url) as session:
                return capture_at(session, url, at).id

        return run

    timed([snapshot_of(u) for u in urls[:200]])  # warm the cache and the connection pool
    rows = []
    for name, lookups in (
        ("snapshots", [snapshot_of(u) for u in urls]),
        (
            "closest capture (show --at)",
            [closest_of(u, m) for u, m in zip(urls, moments, strict=True)],
        ),
    ):
        p50, p99 = timed(lookups)
        rows.append(Row(f"retrieval {label}", f"{name} p50", f"{p50:.3f} ms", "", None))
        rows.append(Row(f"retrieval {label}", f"{name} p99", f"{p99:.3f} ms", "< 5 ms", p99 < 5))
    return rows


def bench_retrieval(home: Path, captures: int, lookups: int, with_pg: bool) -> list[Row]:
    rows: list[Row] = []
    settings = load_settings(home=home / "retrieval")
    migrate(settings.index_url)
    seconds = load_sqlite(settings, captures)
    rows.append(
        Row("retrieval SQLite", f"bulk load {captures:,} captures", f"{seconds:.1f} s", "", None)
    )
    rows += bench_lookups(settings.index_url, captures, lookups, "SQLite")
    if with_pg:
        rows += _bench_postgres(captures, lookups)
    return rows


def _bench_postgres(captures: int, lookups: int) -> list[Row]:
    with scratch_database(PG_ADMIN, "newsvault_bench") as url:
        migrate(url)
        seconds = load_postgres(url, captures)
        rows = [
            Row("retrieval PostgreSQL", f"COPY {captures:,} captures", f"{seconds:.1f} s", "", None)
        ]
        return rows + bench_lookups(url, captures, lookups, "PostgreSQL")


# -- (c) storage ----------------------------------------------------------------------------


def bench_storage(home: Path, pages: int = 200) -> list[Row]:
    """Crawl ``pages`` pages, then again unchanged: how many bytes did the second crawl add?"""
    from newsvault.sample_site import build_site

    site = build_site("http://127.0.0.1:8741")
    paths = [p for p, page in site.pages.items() if page.status == 200]
    settings = load_settings(home=home / "storage")
    migrate(settings.index_url)

    def crawl(at: datetime) -> None:
        with Archive(settings) as archive:
            for number in range(pages):
                path = paths[number % len(paths)]
                page = site.pages[path]
                url = f"http://127.0.0.1:8741{path}{'&' if '?' in path else '?'}copy={number}"
                fetch = page_fetch(url, page.body, at + timedelta(seconds=number))
                headers = [("Content-Type", page.content_type), *page.headers.items()]
                archive.add(
                    Fetch(**{**fetch.__dict__, "response_headers": headers})  # the site's headers
                )

    def size() -> int:
        return sum(p.stat().st_size for p in settings.warc_dir.glob("*.warc.gz"))

    crawl(T0)
    first = size()
    crawl(T0 + timedelta(days=1))
    added = (size() - first) / pages
    # The second crawl's file also holds one warcinfo record; it is counted in.
    return [
        Row("storage", "first crawl, per page", f"{first / pages:,.0f} B", "", None),
        Row(
            "storage", "unchanged re-crawl, per page", f"{added:,.0f} B", "< 1,536 B", added < 1536
        ),
    ]


# -- main -----------------------------------------------------------------------------------


def report(rows: list[Row], arguments: argparse.Namespace) -> None:
    table = Table(title="newsvault archive benchmark")
    for column in ("part", "measure", "value", "floor", "ok"):
        table.add_column(column)
    marks = {True: "[green]yes[/]", False: "[red]NO[/]", None: ""}
    for row in rows:
        table.add_row(row.part, row.measure, row.value, row.floor, marks[row.ok])
    console.print(table)
    table = markdown_table(
        ["part", "measure", "value", "floor", "ok"],
        [[r.part, r.measure, r.value, r.floor, ok_mark(r.ok)] for r in rows],
    )
    note = f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, {arguments.lookups:,} lookups."
    append_section(f"bench_archive.py --captures {arguments.captures:,}", note, [table])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--captures", type=int, default=1_000_000, help="captures in the index")
    parser.add_argument("--lookups", type=int, default=10_000, help="random URLs looked up")
    parser.add_argument("--writes", type=int, default=500, help="captures for the write test")
    parser.add_argument("--no-pg", action="store_true", help="skip PostgreSQL")
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="newsvault-bench-") as folder:
        home = Path(folder)
        rows = bench_writing(home, arguments.writes)
        rows += bench_storage(home)
        rows += bench_retrieval(home, arguments.captures, arguments.lookups, not arguments.no_pg)
    report(rows, arguments)
    if any(row.ok is False for row in rows):
        sys.exit(1)


if __name__ == "__main__":
    main()
