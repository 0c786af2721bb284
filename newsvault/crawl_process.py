"""``python -m newsvault.crawl_process``: one crawl in this (fresh) process.

    python -m newsvault.crawl_process --job-id N               # a crawl job in the index
    python -m newsvault.crawl_process --site-file sites/x.toml # records a job, then runs it
    python -m newsvault.crawl_process --url https://news.example/  # zero configuration

A process per crawl because a Twisted reactor cannot be restarted. This is the composition
root of one crawl: it wires the crawler (fetching) to the archive (storage) and to processing
(``tasks.dispatch``), which know nothing of each other. Prints the crawl's counts as one JSON
line on stdout; exit status 0 when the crawl ran, 2 on bad input.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from typing import Any

from crawler.lifecycle import set_parent_death_signal
from crawler.sitedef import SiteDefinition, SiteDefinitionError, load_site, parse_site, site_for_url
from newsvault.config import ConfigError, Settings, load_settings


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m newsvault.crawl_process", description=__doc__.split("\n")[0]
    )
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--job-id", type=int, help="crawl job row in the index")
    target.add_argument("--site-file", help="TOML site definition")
    target.add_argument("--url", help="home page of a site to crawl with zero configuration")
    parser.add_argument("--home", help="data folder (NEWSVAULT_HOME)")
    parser.add_argument("--concurrency", type=int, default=None, help="parallel requests per host")
    parser.add_argument("--delay", type=float, default=None, help="seconds between requests")
    return parser


def _job_for(
    args: argparse.Namespace, settings: Settings
) -> tuple[int, SiteDefinition, dict[str, Any]]:
    from storage.db import migrate
    from storage.jobs import start_job
    from storage.models import CrawlJob

    migrate(settings.index_url)
    if args.job_id is None:
        from storage.db import session_scope

        site = load_site(args.site_file) if args.site_file else site_for_url(args.url)
        with session_scope(settings.index_url) as session:
            job = CrawlJob(target=args.url or site.name, state="queued", stats={})
            session.add(job)
            session.flush()
            job_id = job.id
        start_job(settings.index_url, job_id)
        return job_id, site, {}
    spec = start_job(settings.index_url, args.job_id)
    if spec.definition is not None:
        site = parse_site(spec.definition, source=f"site of crawl job {spec.job_id}")
    else:
        site = site_for_url(spec.target)
    return spec.job_id, site, spec.options


def main(argv: list[str] | None = None) -> int:
    set_parent_death_signal()  # first: die with the supervising worker (crawler/lifecycle.py)
    args = _parser().parse_args(argv)
    if args.concurrency is not None and args.concurrency < 1:
        print("--concurrency: give 1 or more", file=sys.stderr)
        return 2
    if args.delay is not None and args.delay < 0:
        print("--delay: give 0 or more seconds", file=sys.stderr)
        return 2

    from storage.jobs import JobNotRunnable, finish_job

    try:
        overrides: dict[str, Any] = {"home": args.home} if args.home else {}
        settings = load_settings(**overrides)
        job_id, site, options = _job_for(args, settings)
    except (SiteDefinitionError, ConfigError, JobNotRunnable) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2

    from crawler.run import run_crawl
    from newsvault.services.crawls import record_health
    from storage.archive import close_version_writers, open_archive_for_job
    from storage.recovery import recover_and_index
    from tasks.dispatch import submit_captures

    # A crawl killed before this one left its file `.open`: cut it at its last complete
    # record and index what it holds (its captures then wait for processing).
    for report in recover_and_index(settings):
        if report.action != "skipped":
            print(
                f"recovered {report.file}: {report.action}, {report.records_kept} records "
                f"kept, {report.bytes_cut} bytes cut",
                file=sys.stderr,
            )

    def on_committed(capture_ids: list[int]) -> None:
        submit_captures(capture_ids, settings)

    def close_archive() -> None:
        ids = sink.close()
        try:
            on_committed(ids)
        except Exception as exc:  # e.g. the broker is down: the reconciler re-queues them
            print(f"warning: {len(ids)} captures archived but not queued: {exc}", file=sys.stderr)
        close_version_writers()  # embedded mode processed inline and wrote cleaned versions

    sink = open_archive_for_job(settings, job_id)
    try:
        stats = run_crawl(
            site,
            settings=settings,
            sink=sink,
            on_committed=on_committed,
            validators=sink.validators,
            concurrency=args.concurrency or options.get("concurrency"),
            delay=args.delay if args.delay is not None else options.get("delay"),
        )
    except BaseException as exc:
        close_archive()
        finish_job(settings.index_url, job_id, state="failed", stats={}, message=repr(exc))
        raise
    close_archive()
    counts = asdict(stats)
    failed = stats.finish_reason not in ("finished", "closespider_pagecount")
    finish_job(
        settings.index_url,
        job_id,
        state="failed" if failed else "done",
        stats=counts,
        message=None if not failed else f"crawl ended: {stats.finish_reason}",
    )
    record_health(settings, job_id)
    print(json.dumps({"site": site.name, "job_id": job_id, **counts}))
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
