"""Crawler benchmark (issue 4, "Speed"): newsvault's crawl next to a bare Scrapy spider.

    .venv/bin/python bench/bench_crawl.py          # 5,000 pages of ~60 KB; 50,000 for memory
    .venv/bin/python bench/bench_crawl.py --quick  # 500 pages; 5,000 for memory

Against a generated site on 127.0.0.1 (bench/generated_site.py), in the same run:

(a) a bare Scrapy spider that follows the same links (sitemap index -> sitemaps -> articles,
    section pages -> pagination and article links, related-article links) and stores nothing;
(b) newsvault's crawl with raw archiving only: ``crawler.run.run_crawl`` with a real
    ``storage.archive.Archive`` (WARC + SQLite index in a temp NEWSVAULT_HOME) and the
    re-crawl validators lookup, processing deferred (``on_committed`` does nothing).

Both: CONCURRENT_REQUESTS=16, per-domain 16, no delay, no AutoThrottle, robots.txt obeyed.
Each runs in its own subprocess and reports its crawl phase (wall time, CPU user+sys of the
process from getrusage, pages); floor: (b) keeps >= 85 % of (a)'s pages per second.

Memory: newsvault's crawl of a 50,000-page site (pages of ~15 KB so the server's table fits
in memory), the child's VmRSS sampled from /proc every 0.2 s; floor: peak < 400 MB.

Prints a table and appends a dated section to bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench.results import RESULTS, append_section, markdown_table  # noqa: E402  (path above)

CONCURRENCY = 16
RATIO_FLOOR = 0.85
RSS_FLOOR_MB = 400


# Children -------------------------------------------------------------------------------------


def _cpu() -> float:
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _report(pages: int, started: float, cpu0: float, **extra: Any) -> None:
    print(
        "RESULT "
        + json.dumps(
            {
                "pages": pages,
                "wall_s": time.perf_counter() - started,
                "cpu_s": _cpu() - cpu0,
                **extra,
            }
        ),
        flush=True,
    )


def crawl_bare(spider: type[Any]) -> None:
    """Run a bare Scrapy spider (the baseline: robots.txt, no storage); print its figures."""
    from scrapy.crawler import CrawlerProcess

    process = CrawlerProcess(
        {
            "CONCURRENT_REQUESTS": CONCURRENCY,
            "CONCURRENT_REQUESTS_PER_DOMAIN": CONCURRENCY,
            "DOWNLOAD_DELAY": 0,
            "AUTOTHROTTLE_ENABLED": False,
            "ROBOTSTXT_OBEY": True,
            "TELNETCONSOLE_ENABLED": False,
            "LOG_LEVEL": "WARNING",
        }
    )
    crawler = process.create_crawler(spider)
    process.crawl(crawler)
    started, cpu0 = time.perf_counter(), _cpu()
    process.start()
    stats = crawler.stats.get_stats() if crawler.stats else {}
    _report(int(stats.get("response_received_count", 0)), started, cpu0)


def child_bare(url: str, pattern: str) -> None:
    """The baseline: a plain Scrapy spider with the same routes and link rules, no storage."""
    import re

    import scrapy
    from scrapy.spiders import SitemapSpider

    article = re.compile(pattern)

    class Bare(SitemapSpider):
        name = "bare"
        sitemap_urls = (f"{url}/sitemap_index.xml",)
        pages = 0

        async def start(self) -> Any:
            async for request in super().start():
                yield request
            for section in ("world", "politics", "business", "science"):
                yield scrapy.Request(f"{url}/section/{section}/", callback=self.parse_page)

        def _parse_sitemap(self, response: Any) -> Any:
            self.pages += 1
            yield from super()._parse_sitemap(response)

        def parse(self, response: Any) -> Any:  # sitemap entries
            yield from self.parse_page(response)

        def parse_page(self, response: Any) -> Any:
            self.pages += 1
            for href in response.xpath("//a/@href").getall():
                link = response.urljoin(href)
                if article.search(link) or "?page=" in link:
                    yield scrapy.Request(link, callback=self.parse_page)

    crawl_bare(Bare)


def child_newsvault(url: str, pattern: str, home: str) -> None:
    """newsvault's crawl, raw archiving only (processing deferred)."""
    from crawler.run import run_crawl
    from crawler.sitedef import parse_site
    from newsvault.config import Settings
    from storage.archive import Archive
    from storage.db import migrate

    settings = Settings(home=Path(home), allowed_networks=["127.0.0.0/8"])
    settings.ensure_home()
    migrate(settings.index_url)
    site = parse_site(
        {
            "name": "generated",
            "start": {
                "sitemaps": [f"{url}/sitemap_index.xml"],
                "sections": [
                    f"{url}/section/{s}/" for s in ("world", "politics", "business", "science")
                ],
            },
            "article_allow": [pattern],
            "limits": {"max_pages": 1_000_000, "max_depth": 10_000},
        }
    )
    archive = Archive(settings)
    started, cpu0 = time.perf_counter(), _cpu()
    stats = run_crawl(
        site,
        settings=settings,
        sink=archive,
        on_committed=lambda ids: None,
        validators=archive.validators,
        concurrency=CONCURRENCY,
        delay=0,
        scrapy_overrides={"LOG_LEVEL": "WARNING"},
    )
    archive.close()
    _report(
        stats.pages_fetched,
        started,
        cpu0,
        captures=stats.captures_archived,
        errors=stats.errors_by_kind,
        finish=stats.finish_reason,
    )


# Parent ---------------------------------------------------------------------------------------


@dataclass
class Run:
    name: str
    pages: int
    wall_s: float
    cpu_s: float
    peak_rss_mb: float
    extra: dict[str, Any]

    @property
    def pages_per_s(self) -> float:
        return self.pages / self.wall_s if self.wall_s else 0.0

    @property
    def cpu_per_1000(self) -> float:
        return self.cpu_s / self.pages * 1000 if self.pages else 0.0


def _rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def run_child(name: str, args: list[str], *, profile: str | None = None) -> Run:
    command = [sys.executable, str(Path(__file__).resolve()), "--child", *args]
    if profile:
        command[1:1] = ["-m", "cProfile", "-o", profile]
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSVAULT_")}
    proc = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    peak = 0.0

    def sample() -> None:
        nonlocal peak
        while proc.poll() is None:
            peak = max(peak, _rss_mb(proc.pid))
            time.sleep(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = proc.communicate()
    sampler.join()
    lines = [line for line in out.splitlines() if line.startswith("RESULT ")]
    if proc.returncode != 0 or not lines:
        raise SystemExit(f"{name} failed ({proc.returncode}):\n{err[-4000:]}")
    data = json.loads(lines[-1].removeprefix("RESULT "))
    pages, wall, cpu = data.pop("pages"), data.pop("wall_s"), data.pop("cpu_s")
    return Run(name, pages, wall, cpu, peak, data)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="500 pages; 5,000 for memory")
    parser.add_argument("--pages", type=int, default=None, help="articles for the speed runs")
    parser.add_argument("--memory-pages", type=int, default=None, help="0 skips the memory run")
    parser.add_argument("--profile", help="cProfile newsvault's speed run into this file")
    parser.add_argument("--no-results", action="store_true", help="do not append RESULTS.md")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, *rest = args.child
        child_bare(*rest) if kind == "bare" else child_newsvault(*rest)
        return

    from generated_site import ARTICLE_PATTERN, GeneratedSite
    from rich.console import Console
    from rich.table import Table

    console = Console()
    pages = args.pages or (500 if args.quick else 5000)
    memory_pages = (
        args.memory_pages if args.memory_pages is not None else (5000 if args.quick else 50_000)
    )
    runs: list[Run] = []
    with GeneratedSite(pages, page_kb=60) as site:
        console.print(
            f"Generated site: {pages:,} articles of {site.raw_bytes / pages / 1024:.0f} KB "
            f"({site.wire_bytes / pages / 1024:.1f} KB gzipped) at {site.url}, "
            f"rendered in {site.render_seconds:.1f} s"
        )
        bare = run_child("bare Scrapy spider", ["bare", site.url, ARTICLE_PATTERN])
        console.print(f"bare: {bare.pages:,} pages in {bare.wall_s:.1f} s")
        with tempfile.TemporaryDirectory() as home:
            ours = run_child(
                "newsvault, raw archiving",
                ["newsvault", site.url, ARTICLE_PATTERN, home],
                profile=args.profile,
            )
            warc_bytes = sum(p.stat().st_size for p in Path(home, "warcs").glob("*"))
        console.print(f"newsvault: {ours.pages:,} pages in {ours.wall_s:.1f} s")
        runs += [bare, ours]
    memory: Run | None = None
    if memory_pages:
        with GeneratedSite(memory_pages, page_kb=15) as big, tempfile.TemporaryDirectory() as home:
            size_kb = big.raw_bytes / memory_pages / 1024
            console.print(
                f"Memory run: {memory_pages:,} articles of {size_kb:.0f} KB, "
                f"rendered in {big.render_seconds:.1f} s"
            )
            memory = run_child(
                "newsvault, memory run", ["newsvault", big.url, ARTICLE_PATTERN, home]
            )
        runs.append(memory)

    ratio = ours.pages_per_s / bare.pages_per_s if bare.pages_per_s else 0.0
    table = Table(title=f"Crawl benchmark ({pages:,} generated articles, 127.0.0.1)")
    for column in ("run", "pages", "wall s", "pages/s", "CPU s / 1,000 pages", "peak RSS MB"):
        table.add_column(column, justify="right" if column != "run" else "left")
    for run in runs:
        table.add_row(
            run.name,
            f"{run.pages:,}",
            f"{run.wall_s:.1f}",
            f"{run.pages_per_s:.1f}",
            f"{run.cpu_per_1000:.2f}",
            f"{run.peak_rss_mb:.0f}",
        )
    console.print(table)
    ok_ratio = ratio >= RATIO_FLOOR
    console.print(
        f"newsvault / bare pages/s: [bold]{ratio:.1%}[/] (floor {RATIO_FLOOR:.0%}): "
        + ("[green]ok[/]" if ok_ratio else "[red]BELOW[/]")
    )
    rows = [
        ["speed", "bare Scrapy pages/s", f"{bare.pages_per_s:.1f}", "", ""],
        ["speed", "newsvault pages/s", f"{ours.pages_per_s:.1f}", "", ""],
        ["speed", "newsvault / bare", f"{ratio:.1%}", f">= {RATIO_FLOOR:.0%}", _yes(ok_ratio)],
        ["CPU", "bare s / 1,000 pages", f"{bare.cpu_per_1000:.2f}", "", ""],
        ["CPU", "newsvault s / 1,000 pages", f"{ours.cpu_per_1000:.2f}", "", ""],
        ["pages", "bare / newsvault", f"{bare.pages:,} / {ours.pages:,}", "", ""],
        ["archive", "WARC bytes per page", f"{warc_bytes / max(ours.pages, 1):,.0f}", "", ""],
    ]
    if memory is not None:
        ok_rss = memory.peak_rss_mb < RSS_FLOOR_MB
        console.print(
            f"memory: peak RSS {memory.peak_rss_mb:.0f} MB over {memory.pages:,} pages "
            f"(floor < {RSS_FLOOR_MB} MB): " + ("[green]ok[/]" if ok_rss else "[red]OVER[/]")
        )
        rows += [
            ["memory", f"{memory.pages:,} pages, pages/s", f"{memory.pages_per_s:.1f}", "", ""],
            [
                "memory",
                "peak RSS of the crawl process",
                f"{memory.peak_rss_mb:.0f} MB",
                f"< {RSS_FLOOR_MB} MB",
                _yes(ok_rss),
            ],
        ]
    if not args.no_results:
        flag = " --quick" if args.quick else ""
        note = (
            f"Python {platform.python_version()}, {os.cpu_count()} CPUs; site and crawler share "
            f"them. {pages:,} articles of ~60 KB (served gzipped); concurrency {CONCURRENCY}, "
            f"no delay. Crawl phase of each child process (imports excluded). Memory run: "
            f"{memory_pages:,} articles of ~15 KB (smaller so the site's table fits in memory)."
        )
        table = markdown_table(["part", "measure", "value", "floor", "ok"], rows)
        append_section(f"bench_crawl.py{flag}", note, [table])
        console.print(f"Appended to {RESULTS.relative_to(ROOT)}")


def _yes(ok: bool) -> str:
    return "yes" if ok else "NO"


if __name__ == "__main__":
    main()
