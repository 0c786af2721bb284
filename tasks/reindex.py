"""``newsvault reindex``: rebuild the index from the WARC files alone.

The WARC files are the source of truth. Storage reads them back into rows
(:mod:`storage.warc_scan`) and writes them (:mod:`storage.index_rows`); this module adds what
needs processing, and composes the whole in one transaction:

1. recover ``.open`` files, scan every WARC file;
2. link captures to the versions their conversion records hold, and re-extract processable
   responses that hold none with the pipeline's own extraction, matching them to a version
   by content hash ("unchanged" pages: new bytes, same cleaned text). A processable page
   whose text matches no version was never processed: it is left ``pending`` and counted;
3. replace the rows, replay the versions into articles and clusters (:mod:`tasks.replay`);
4. rebuild the derived indexes: full-text search in the same transaction, the
   near-duplicate LSH index (Redis or memory) after it.

Row ids are assigned in a fixed order, so reindexing twice gives identical rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any

from processing.extract import NotAnArticle
from storage.db import session_scope
from storage.index_rows import crawl_jobs, finish_captures, replace_files_and_captures
from storage.search import rebuild_search_index
from storage.warc import RecoveryReport, VerifyProblem, recover_open_files
from storage.warc_scan import (
    NoVersion,
    Progress,
    ScannedCapture,
    link_unchanged,
    link_versions,
    scan_warcs,
    usable_conversions,
)
from tasks import lsh
from tasks.pipeline import extract_capture
from tasks.replay import replay_versions
from vocabulary.normalize import clean_text, content_hash

if TYPE_CHECKING:
    from tasks.config import TasksConfig

__all__ = ["Progress", "ReindexReport", "reindex"]


@dataclass
class ReindexReport:
    files: int = 0
    records: int = 0
    captures: int = 0
    versions: int = 0
    articles: int = 0
    clusters: int = 0
    # Processable pages whose text matches no archived version: never processed.
    pending: int = 0
    # Conversion records whose response record is in no WARC file (or duplicates).
    orphan_conversions: int = 0
    recovered: list[RecoveryReport] = field(default_factory=list)
    problems: list[VerifyProblem] = field(default_factory=list)


def reindex(settings: TasksConfig, *, progress: Progress | None = None) -> ReindexReport:
    """Recover ``.open`` files, then rebuild the index from every WARC file, in one transaction."""
    report = ReindexReport()
    report.recovered = recover_open_files(settings.warc_dir)
    with session_scope(settings.index_url) as session:
        jobs = crawl_jobs(session)
    scan = scan_warcs(settings.warc_dir, set(jobs), progress)
    report.files, report.records, report.problems = len(scan.files), scan.records, scan.problems
    conversions = usable_conversions(scan)
    report.orphan_conversions = len(scan.conversions) - len(conversions)
    by_record = {cap.record_id: cap for cap in scan.captures}
    link_versions(conversions, by_record)
    hash_of = partial(_content_hash, settings, jobs)
    link_unchanged(scan.captures, conversions, by_record, hash_of, progress)
    with session_scope(settings.index_url) as session:
        replace_files_and_captures(session, scan.files, scan.captures)
        report.articles, report.clusters = replay_versions(
            session, settings, conversions, by_record, progress
        )
        finish_captures(session, scan.captures)
        # Derived from versions, whose ids reindex renumbered.
        rebuild_search_index(session)
    report.captures, report.versions = len(scan.captures), len(conversions)
    report.pending = sum(1 for cap in scan.captures if cap.state == "pending")
    lsh.reset_after_reindex(settings)
    return report


def _content_hash(
    settings: TasksConfig, jobs: dict[int, dict[str, Any]], cap: ScannedCapture
) -> str | NoVersion:
    """The content hash processing would give this response (the pipeline's own extraction)."""
    try:
        _, extracted = extract_capture(
            settings,
            capture_id=cap.id,
            url=cap.url,
            warc_name=cap.warc_name,
            warc_offset=cap.offset,
            kind=cap.kind,
            site=jobs.get(cap.crawl_job_id or 0, {}),
            dom=cap.dom[:2] if cap.dom else None,
        )
    except Exception as exc:  # as in processing: a bad record is recorded, not raised
        return NoVersion("error", f"extraction failed: {exc}")
    if isinstance(extracted, NotAnArticle):
        return NoVersion("skipped", extracted.reason)
    return content_hash(clean_text(extracted.title), clean_text(extracted.text))
