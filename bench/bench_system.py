"""System benchmark (issue 6, "Speed"): the whole distributed stack next to a bare spider.

    .venv/bin/python bench/bench_system.py              # 5,000 articles
    .venv/bin/python bench/bench_system.py --pages 500  # a quick run

Against the generated site (bench/generated_site.py), in the same run:

(a) the bare Scrapy spider of bench/bench_crawl.py (same links, stores nothing);
(b) newsvault distributed: Redis (databases 5-7 of 127.0.0.1:6379, flushed), a fresh
    PostgreSQL database, one crawl worker and two process workers (`newsvault worker`
    subprocesses, concurrency 1 each), the crawl queued as `newsvault crawl` queues it. Timed
    from queueing until the last article is queryable (no capture left pending).

Reports articles per second and the time until the last article is queryable; floor: the
whole system takes at most 2x the bare spider's time. Appends a dated section to
bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench.results import append_section, markdown_table  # noqa: E402  (needs the path above)
from storage.db import scratch_database  # noqa: E402

PG_ADMIN_URL = os.environ.get(
    "NEWSVAULT_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REDIS_DBS = (5, 6, 7)
FLOOR = 2.0


def _flush_redis() -> None:
    import redis

    for db in REDIS_DBS:
        redis.Redis(db=db).flushdb()


def run_system(site_url: str, pattern: str, home: Path, db_url: str) -> dict[str, Any]:
    """The distributed crawl, end to end; returns its timings and counts."""
    from sqlalchemy import func, select

    from newsvault.config import load_settings
    from newsvault.demo import register_site
    from newsvault.services.crawls import create_job
    from storage.db import migrate, session_scope
    from storage.models import Article, Capture, CrawlJob, Version
    from tasks.celery_app import make_app
    from tests.workers import start_worker

    values = {
        "NEWSVAULT_HOME": str(home),
        "NEWSVAULT_DATABASE_URL": db_url,
        "NEWSVAULT_BROKER_URL": f"redis://127.0.0.1:6379/{REDIS_DBS[0]}",
        "NEWSVAULT_REDIS_URL": f"redis://127.0.0.1:6379/{REDIS_DBS[1]}",
        "NEWSVAULT_REDBEAT_URL": f"redis://127.0.0.1:6379/{REDIS_DBS[2]}",
        "NEWSVAULT_ALLOWED_NETWORKS": "127.0.0.0/8",
    }
    os.environ.update(values)
    env = dict(os.environ)
    settings = load_settings()
    settings.ensure_home()
    migrate(settings.index_url)
    register_site(
        settings,
        {
            "name": "generated",
            "start": {
                "sitemaps": [f"{site_url}/sitemap_index.xml"],
                "sections": [
                    f"{site_url}/section/{s}/" for s in ("world", "politics", "business", "science")
                ],
            },
            "article_allow": [pattern],
            "allowed_networks": ["127.0.0.0/8"],
            "limits": {"max_pages": 1_000_000, "max_depth": 10_000},
            "politeness": {"delay": 0, "concurrency": 16},
        },
    )
    logs = home / "worker-logs"
    procs = [
        start_worker(env, logs, queues="crawl", name="crawl1"),
        start_worker(env, logs, queues="process", name="procA"),
        start_worker(env, logs, queues="process", name="procB"),
    ]
    app = make_app(settings)
    try:
        started = time.perf_counter()
        job_id = create_job(settings, "generated")
        app.send_task("tasks.crawl_site", args=[job_id], queue="crawl", task_id=f"crawl-{job_id}")
        crawl_s: float | None = None
        while True:
            time.sleep(0.5)
            with session_scope(settings.index_url) as session:
                job = session.get(CrawlJob, job_id)
                assert job is not None
                state = job.state
                pending = session.scalar(
                    select(func.count(Capture.id)).where(Capture.process_state == "pending")
                )
            if crawl_s is None and state in ("done", "failed"):
                crawl_s = time.perf_counter() - started
            if crawl_s is not None and not pending:
                break
        total_s = time.perf_counter() - started
        with session_scope(settings.index_url) as session:
            articles = session.scalar(select(func.count(Article.id))) or 0
            versions = session.scalar(select(func.count(Version.id))) or 0
            captures = session.scalar(select(func.count(Capture.id))) or 0
            job = session.get(CrawlJob, job_id)
            stats = dict(job.stats or {}) if job else {}
    finally:
        for proc in procs:
            proc.stop()
        app.close()
    return {
        "state": state,
        "crawl_s": crawl_s,
        "total_s": total_s,
        "articles": articles,
        "versions": versions,
        "captures": captures,
        "pages_fetched": stats.get("pages_fetched"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=int, default=5000, help="articles on the site")
    parser.add_argument("--no-results", action="store_true", help="do not append RESULTS.md")
    args = parser.parse_args()

    import bench_crawl
    from generated_site import ARTICLE_PATTERN, GeneratedSite
    from rich.console import Console
    from rich.table import Table

    console = Console()
    _flush_redis()
    try:
        with (
            scratch_database(PG_ADMIN_URL, "newsvault_bench") as db_url,
            GeneratedSite(pages=args.pages, port=0) as site,
            tempfile.TemporaryDirectory() as tmp,
        ):
            console.print(f"generated site: {args.pages:,} articles at {site.url}")
            bare = bench_crawl.run_child("bare Scrapy spider", ["bare", site.url, ARTICLE_PATTERN])
            console.print(f"bare: {bare.pages:,} pages in {bare.wall_s:.1f} s")
            ours = run_system(site.url, ARTICLE_PATTERN, Path(tmp) / "home", db_url)
    finally:
        _flush_redis()
    ratio = ours["total_s"] / bare.wall_s if bare.wall_s else float("inf")
    ok = ratio <= FLOOR
    rows = [
        ["bare Scrapy spider", "pages / time", f"{bare.pages:,} / {bare.wall_s:.1f} s", "", ""],
        ["system", "crawl done after", f"{ours['crawl_s']:.1f} s", "", ""],
        ["system", "last article queryable after", f"{ours['total_s']:.1f} s", "", ""],
        [
            "system",
            "articles/s (end to end)",
            f"{ours['articles'] / ours['total_s']:.1f}" if ours["total_s"] else "-",
            "",
            "",
        ],
        [
            "system",
            "articles / versions / captures",
            f"{ours['articles']:,} / {ours['versions']:,} / {ours['captures']:,}",
            "",
            "",
        ],
        ["system / bare", "time ratio", f"{ratio:.2f}x", f"<= {FLOOR:.0f}x", "yes" if ok else "NO"],
    ]
    table = Table(title=f"bench_system.py --pages {args.pages}")
    for column in ("part", "measure", "value", "floor", "ok"):
        table.add_column(column)
    for row in rows:
        table.add_row(*row)
    console.print(table)
    if not args.no_results:
        note = (
            f"Python {platform.python_version()}, {os.cpu_count()} CPUs; Redis, PostgreSQL, "
            "1 crawl worker + 2 process workers (concurrency 1) on this machine; crawl state "
            f"{ours['state']}."
        )
        table = markdown_table(["part", "measure", "value", "floor", "ok"], rows)
        append_section(f"bench_system.py --pages {args.pages:,}", note, [table])


if __name__ == "__main__":
    main()
