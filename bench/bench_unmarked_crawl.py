"""Zero-configuration crawl of a site whose articles carry no markup (issue 15).

    .venv/bin/python bench/bench_unmarked_crawl.py             # 600 articles
    .venv/bin/python bench/bench_unmarked_crawl.py --articles 60

The site: ``newsvault.sample_site.unmarked`` on 127.0.0.1, half its articles without JSON-LD
or OpenGraph, author, tag and paginated section pages with article markup, a partial feed,
no sitemap. In the same run:

(a) a bare Scrapy spider that follows every in-site link from the home page and stores
    nothing (the baseline; bench/bench_crawl.py's measuring pieces);
(b) ``newsvault crawl http://HOST/`` as a user runs it: zero configuration, embedded mode
    (crawl and processing in one command), SQLite index in a temporary NEWSVAULT_HOME.

Printed and appended to bench/RESULTS.md: articles kept / expected, listing pages kept as
articles (floor: 0), pages refused by reason, wall time and CPU seconds of both.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_crawl import CONCURRENCY, crawl_bare  # noqa: E402  (path above)
from bench.results import RESULTS, append_section, markdown_table  # noqa: E402

ARTICLES = 600


def child_bare(url: str) -> None:
    """The baseline: every in-site link from the home page, robots.txt obeyed, no storage."""
    import scrapy

    host = url.split("//", 1)[1]

    class Bare(scrapy.Spider):
        name = "bare"
        start_urls = (url + "/",)

        def parse(self, response: Any) -> Any:
            if not hasattr(response, "xpath"):
                return
            for href in response.xpath("//a/@href").getall():
                link = response.urljoin(href).split("#", 1)[0]
                parts = urlsplit(link)
                if parts.scheme in ("http", "https") and parts.netloc == host:
                    yield scrapy.Request(link, callback=self.parse)

    crawl_bare(Bare)


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_bare(url: str) -> dict[str, Any]:
    command = [sys.executable, str(Path(__file__).resolve()), "--child", url]
    proc = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=1800)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    if proc.returncode != 0 or not lines:
        raise SystemExit(f"bare spider failed ({proc.returncode}):\n{proc.stderr[-4000:]}")
    return dict(json.loads(lines[-1].removeprefix("RESULT ")))


def run_newsvault(url: str, home: str) -> dict[str, Any]:
    """``newsvault crawl URL`` in a fresh process; wall and CPU of the whole command."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSVAULT_")}
    env.update(NEWSVAULT_HOME=home, NEWSVAULT_ALLOWED_NETWORKS="127.0.0.0/8")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    command = [sys.executable, "-m", "newsvault", "crawl", url + "/", "--format", "json"]
    command += ["--delay", "0", "--concurrency", str(CONCURRENCY)]
    started, cpu0 = time.perf_counter(), _children_cpu()
    proc = subprocess.run(command, env=env, capture_output=True, text=True, timeout=3600)
    wall, cpu = time.perf_counter() - started, _children_cpu() - cpu0
    if proc.returncode != 0:
        raise SystemExit(f"newsvault crawl failed ({proc.returncode}):\n{proc.stderr[-4000:]}")
    listed = subprocess.run(
        [sys.executable, "-m", "newsvault", "articles", "--format", "json"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    summary = json.loads(proc.stdout)
    return {
        "wall_s": wall,
        "cpu_s": cpu,
        "pages": summary.get("pages_fetched", 0),
        "kept": {a["url"] for a in json.loads(listed.stdout)},
    }


def refusals(home: str) -> tuple[Counter[str], dict[str, str]]:
    """Refused captures by (kind, reason), and canonical URL -> kind of every capture."""
    from sqlalchemy import select

    from storage.db import session_scope
    from storage.models import Capture

    reasons: Counter[str] = Counter()
    kinds: dict[str, str] = {}
    with session_scope(f"sqlite:///{Path(home) / 'index.sqlite3'}") as session:
        rows = session.execute(
            select(Capture.canonical_url, Capture.kind, Capture.process_state, Capture.process_note)
        ).all()
    for row in rows:
        kinds[row.canonical_url] = row.kind
        if row.process_state == "skipped":
            # The reason without the page's own details (lengths, counts).
            reason = re.sub(r"\d+", "N", (row.process_note or "").split(";")[0])
            reasons[f"{row.kind}: {reason}"] += 1
    return reasons, kinds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--articles", type=int, default=ARTICLES)
    parser.add_argument("--no-results", action="store_true", help="do not append RESULTS.md")
    parser.add_argument("--child", nargs=1, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child_bare(args.child[0])
        return

    from newsvault.sample_site.unmarked import UnmarkedSiteServer
    from vocabulary.canonical import canonicalize

    with UnmarkedSiteServer(count=args.articles) as server, tempfile.TemporaryDirectory() as home:
        layout = server.layout
        print(f"Unmarked site: {args.articles} articles ({len(layout.unmarked)} without markup),")
        print(f"  {len(layout.listings)} author/tag/section pages with markup, at {server.url}")
        bare = run_bare(server.url)
        print(f"bare Scrapy: {bare['pages']} pages in {bare['wall_s']:.1f} s")
        ours = run_newsvault(server.url, home)
        reasons, kinds = refusals(home)
        articles = {canonicalize(server.url + path) for path in layout.article_paths}
        listings = {canonicalize(server.url + path) for path in layout.listings}
    kept = ours["kept"]
    kept_articles, kept_listings = len(kept & articles), len(kept & listings)
    as_article = sum(1 for url in articles if kinds.get(url) == "article")
    fetched_listings = [url for url in listings if url in kinds]
    as_section = sum(1 for url in fetched_listings if kinds[url] == "section")
    rows = [
        ["articles kept / expected", f"{kept_articles} / {len(articles)}", "all", _ok(kept_articles == len(articles))],  # noqa: E501
        ["listing pages kept as articles", str(kept_listings), "0", _ok(kept_listings == 0)],
        ["articles fetched as 'article'", f"{as_article} / {len(articles)}", "all", _ok(as_article == len(articles))],  # noqa: E501
        ["listings fetched as 'section'", f"{as_section} / {len(fetched_listings)} fetched of {len(listings)}", "all", _ok(as_section == len(fetched_listings))],  # noqa: E501
        ["newsvault: pages, wall s, CPU s", f"{ours['pages']}, {ours['wall_s']:.1f}, {ours['cpu_s']:.1f}", "", ""],  # noqa: E501
        ["bare Scrapy: pages, wall s, CPU s", f"{bare['pages']}, {bare['wall_s']:.1f}, {bare['cpu_s']:.1f}", "", ""],  # noqa: E501
    ]  # fmt: skip
    refused = [[reason, str(count)] for reason, count in sorted(reasons.items())]
    for row in rows:
        print(f"  {row[0]:<36} {row[1]:<32} {row[3]}")
    print("pages refused, by reason:")
    for reason, count in refused:
        print(f"  {count:>5}  {reason}")
    if not args.no_results:
        note = (
            f"Python {platform.python_version()}, {os.cpu_count()} CPUs; site, crawler and "
            f"processing share them. Zero-config `newsvault crawl http://HOST/` (embedded: crawl "
            f"and processing; wall and CPU of the whole command, start-up included), "
            f"concurrency {CONCURRENCY}, no delay; the bare spider fetches only (crawl phase)."
        )
        tables = [
            markdown_table(["measure", "value", "floor", "ok"], rows),
            markdown_table(["refused (capture kind: reason)", "pages"], refused),
        ]
        append_section(f"bench_unmarked_crawl.py --articles {args.articles}", note, tables)
        print(f"Appended to {RESULTS.relative_to(ROOT)}")


def _ok(ok: bool) -> str:
    return "yes" if ok else "NO"


if __name__ == "__main__":
    main()
