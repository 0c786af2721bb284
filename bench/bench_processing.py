"""End-to-end processing benchmark (issue 5): two Celery workers against extraction alone.

    .venv/bin/python bench/bench_processing.py [--articles 400] [--quick]

Generated ~60 KB article pages (``bench/corpus.py``) are archived with
``storage.archive.Archive`` into a temporary data folder and a fresh PostgreSQL database
(created for the run, dropped after). Then, in the same run:

- extraction alone: ``decode_html`` + ``extract_article`` (trafilatura) over the same pages in
  this one process;
- the whole task: two ``newsvault worker --queues process --concurrency 1`` subprocesses with
  Redis as broker and near-duplicate index (db 11); the capture ids are queued with
  ``tasks.dispatch.submit_captures`` once both workers are ready, and the clock stops when
  every capture has left ``pending``.

Reported: articles/s for both, their ratio (floor: the whole task keeps at least 75% of
extraction alone; two workers on two cores against one process), and CPU seconds of each
(the workers' process trees, read from /proc). Appends a dated section to bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import redis
from rich.console import Console
from rich.table import Table
from sqlalchemy import func, select

from bench.corpus import Doc, article_page, article_path, generate_corpus
from bench.results import append_section, rich_markdown
from storage.db import scratch_database

ROOT = Path(__file__).resolve().parents[1]
WARM_UP = 6  # captures each run processes untimed first: workers import trafilatura lazily
PG_ADMIN_URL = os.environ.get(
    "NEWSVAULT_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
BROKER_DB = 11
BROKER_URL = f"redis://127.0.0.1:6379/{BROKER_DB}"
BASE = "http://127.0.0.1:8741"
RATIO_FLOOR = 0.75
console = Console(width=150)


@dataclass(frozen=True)
class Run:
    label: str
    articles: int
    seconds: float
    cpu_seconds: float

    @property
    def rate(self) -> float:
        return self.articles / self.seconds


# --- /proc accounting (no psutil in the environment) -----------------------------------------

_TICKS = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return raw[raw.rindex(")") + 2 :].split()  # the command name may hold spaces


def tree_cpu_seconds(root: int) -> float:
    """user + system CPU of ``root`` and every live descendant."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := _stat(int(entry.name))):
            parents[int(entry.name)] = int(fields[1])
    tree, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, ppid in parents.items() if ppid == parent]
        tree.update(children)
        frontier += children
    total = 0
    for pid in tree:
        if fields := _stat(pid):
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / _TICKS


# --- setup ----------------------------------------------------------------------------------


def pages_for(count: int) -> list[tuple[Doc, bytes]]:
    corpus = generate_corpus(max(count * 2, 200), seed=21, near_share=0.0, exact_share=0.0)
    docs = corpus.docs[:count]
    return [(doc, article_page(doc, corpus.docs[doc.doc_id : doc.doc_id + 400])) for doc in docs]


def archive_pages(settings: object, pages: list[tuple[Doc, bytes]]) -> list[int]:
    from storage.archive import Archive
    from storage.fetch import Fetch

    started = datetime(2026, 1, 1, tzinfo=UTC)
    with Archive(settings) as writer:  # type: ignore[arg-type]
        for number, (doc, body) in enumerate(pages):
            url = BASE + article_path(doc)
            writer.add(
                Fetch(
                    url=url,
                    canonical_url=url,
                    status=200,
                    response_headers=[("Content-Type", "text/html; charset=utf-8")],
                    body=body,
                    fetched_at=started + timedelta(seconds=number),
                    kind="article",
                )
            )
        return writer.commit()


# --- the two measurements ---------------------------------------------------------------------


def extraction_alone(pages: list[tuple[Doc, bytes]]) -> Run:
    from processing.decode import decode_html
    from processing.extract import extract_article

    cpu, wall = time.process_time(), time.perf_counter()
    for doc, body in pages:
        page = decode_html(body, "text/html; charset=utf-8")
        extract_article(page.text, BASE + article_path(doc))
    return Run(
        "extraction alone (1 process)",
        len(pages),
        time.perf_counter() - wall,
        time.process_time() - cpu,
    )


def start_workers(env: dict[str, str], logs: Path, count: int) -> list[subprocess.Popen[bytes]]:
    workers = []
    for number in range(count):
        log = (logs / f"worker-{number}.log").open("wb")
        command = [str(ROOT / ".venv/bin/newsvault"), "worker", "--queues", "process"]
        command += ["--concurrency", "1", "--loglevel", "INFO"]
        workers.append(
            subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        ready = [(logs / f"worker-{n}.log").read_text(errors="replace") for n in range(count)]
        if all(" ready." in log for log in ready):
            return workers
        if any(worker.poll() is not None for worker in workers):
            break
        time.sleep(0.2)
    stop_workers(workers)
    raise RuntimeError(f"workers did not start; see {logs}")


def stop_workers(workers: list[subprocess.Popen[bytes]]) -> None:
    for worker in workers:
        worker.terminate()
    for worker in workers:
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()


def wait_processed(settings: object, capture_ids: list[int], timeout: float) -> Counter[str]:
    from storage.db import session_scope
    from storage.models import Capture

    deadline = time.monotonic() + timeout
    while True:
        with session_scope(settings.index_url) as session:  # type: ignore[attr-defined]
            left = session.scalar(
                select(func.count(Capture.id)).where(
                    Capture.id.in_(capture_ids), Capture.process_state == "pending"
                )
            )
            if not left:
                notes = session.scalars(
                    select(Capture.process_state).where(Capture.id.in_(capture_ids))
                )
                return Counter(notes)
        if time.monotonic() > deadline:
            raise TimeoutError(f"{left} captures still pending after {timeout:.0f} s")
        time.sleep(0.05)


def whole_task(pages: list[tuple[Doc, bytes]], workers: int) -> tuple[Run, Counter[str]]:
    home = Path(tempfile.mkdtemp(prefix="newsvault-bench-"))
    broker = redis.Redis.from_url(BROKER_URL)
    broker.flushdb()
    try:
        with scratch_database(PG_ADMIN_URL, "newsvault_bench") as database_url:
            env = {
                **os.environ,
                "NEWSVAULT_BROKER_URL": BROKER_URL,
                "NEWSVAULT_DATABASE_URL": database_url,
                "NEWSVAULT_HOME": str(home),
                "NEWSVAULT_CONFIG": str(home / "absent.toml"),
            }
            os.environ.update(env)  # the Celery app of this process reads them at import
            from newsvault.config import load_settings
            from storage.db import migrate

            settings = load_settings()
            settings.ensure_home()
            migrate(settings.index_url)
            capture_ids = archive_pages(settings, pages)
            processes = start_workers(env, home, workers)
            try:
                from tasks.dispatch import submit_captures

                submit_captures(capture_ids[:WARM_UP], settings)
                wait_processed(settings, capture_ids[:WARM_UP], timeout=120)
                return _timed_run(processes, capture_ids[WARM_UP:], settings, workers)
            finally:
                stop_workers(processes)
    finally:
        broker.flushdb()
        shutil.rmtree(home, ignore_errors=True)


def _timed_run(
    processes: list[subprocess.Popen[bytes]], capture_ids: list[int], settings: object, n: int
) -> tuple[Run, Counter[str]]:
    from tasks.dispatch import submit_captures

    cpu_before = sum(tree_cpu_seconds(p.pid) for p in processes)
    started = time.perf_counter()
    submit_captures(capture_ids, settings)  # type: ignore[arg-type]
    states = wait_processed(settings, capture_ids, timeout=30 + 2 * len(capture_ids))
    seconds = time.perf_counter() - started
    cpu = sum(tree_cpu_seconds(p.pid) for p in processes) - cpu_before
    label = f"whole task ({n} workers, Redis broker, PostgreSQL)"
    return Run(label, len(capture_ids), seconds, cpu), states


# --- report -----------------------------------------------------------------------------------


def results_table(alone: Run, whole: Run, states: Counter[str]) -> Table:
    ratio = whole.rate / alone.rate
    table = Table(title=f"end to end, {whole.articles} article pages (~60 KB)")
    for column in ("run", "articles", "wall s", "articles/s", "CPU s", "CPU ms/article"):
        table.add_column(column, justify="left" if column == "run" else "right")
    for run in (alone, whole):
        table.add_row(
            run.label,
            str(run.articles),
            f"{run.seconds:.2f}",
            f"{run.rate:.1f}",
            f"{run.cpu_seconds:.2f}",
            f"{run.cpu_seconds / run.articles * 1000:.1f}",
        )
    verdict = "yes" if ratio >= RATIO_FLOOR else "NO"
    table.add_row(
        "ratio whole / alone", "", "", f"{ratio:.2f}", f">= {RATIO_FLOOR} ok: {verdict}", ""
    )
    table.add_row(
        "capture states", "", "", "", ", ".join(f"{k} {v}" for k, v in states.items()), ""
    )
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=400)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="Small run: 60 articles.")
    parser.add_argument("--no-results", action="store_true", help="Do not append RESULTS.md.")
    args = parser.parse_args()
    if args.quick:
        args.articles = 60
    pages = pages_for(args.articles + WARM_UP)
    size = sum(len(body) for _, body in pages) / len(pages) / 1000
    console.print(f"{len(pages)} pages, {size:.1f} KB on average")
    extraction_alone(pages[:10])  # warm-up: imports, trafilatura's caches
    alone = extraction_alone(pages[WARM_UP:])
    whole, states = whole_task(pages, args.workers)
    table = results_table(alone, whole, states)
    console.print(table)
    if not args.no_results:
        summary = (
            f"Python {platform.python_version()}, {os.cpu_count()} CPUs; {len(pages)} generated "
            f"article pages of {size:.1f} KB on average, Arabic and English; the whole task is "
            "decode, extract, normalize, dedup (Redis), version, search index and WARC "
            "conversion record, per capture. Load average at the end "
            f"{os.getloadavg()[0]:.2f} (other work on the machine skews both runs)."
        )
        command = f"bench_processing.py --articles {args.articles}"
        append_section(command, summary, [rich_markdown(table)])


if __name__ == "__main__":
    main()
