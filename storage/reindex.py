"""``newsvault reindex``: rebuild the index from the WARC files alone.

The WARC files are the source of truth. Rebuilt here: ``warc_files``, ``captures``,
``articles``, ``versions`` and ``clusters``. Kept as they are: ``sites`` and ``crawl_jobs``
(configuration and history that no WARC record holds; a capture is tied back to its job
through the ``crawl-job`` field of its file's warcinfo record, when that job still exists) and
``fetch_events`` (failed fetches never reach a WARC file, so a deleted database loses them).

What the WARC files do not say, and how it is recovered:

* the crawl-time ``kind`` of a capture: ``robots``/``feed``/``sitemap`` from the path and media
  type, ``article`` for a capture that holds a version, ``page`` otherwise;
* which captures processing linked to an existing version without writing a record ("unchanged"
  responses: new bytes, same cleaned text). These are re-extracted with the pipeline's own
  extraction and matched by content hash. A processable page whose text matches no version
  was never processed: it is left ``pending`` and counted in the report.

Derived indexes are rebuilt as well: full-text search (``storage.search``) in the same
transaction, the near-duplicate LSH index (Redis or memory) after it.

Versions come from the ``conversion`` records (one JSON document per cleaned version), and
clusters are recomputed by replaying :func:`tasks.clusters.join_cluster` over the versions in
the order processing stored them (the conversion records' dates). Row ids are assigned in a
fixed order, so reindexing twice gives identical rows.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Table, bindparam, insert, select, text, update
from sqlalchemy.orm import Session

from storage.archive import mime_type, processing_plan
from storage.db import session_scope
from storage.models import Article, Capture, CrawlJob, Site, Version, WarcFile, utcnow
from storage.warc import (
    IndexedRecord,
    RecoveryReport,
    VerifyProblem,
    iter_records,
    read_record,
    recover_open_files,
)
from storage.warc_writer import KIND_HEADER, OPEN_SUFFIX, WARC_SUFFIX

if TYPE_CHECKING:
    from newsvault.config import Settings

log = logging.getLogger(__name__)

# (stage, done, total): stage "scan" counts bytes of WARC files, "extract" and "versions" count
# items. The CLI draws it as a progress bar.
Progress = Callable[[str, int, int], None]

_REBUILT_TABLES = ("warc_files", "captures", "versions", "articles", "clusters")
_FEED_TYPES = ("application/rss+xml", "application/atom+xml", "application/feed+json")
_BATCH = 5000


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


@dataclass(slots=True)
class _Cap:
    """A capture row being rebuilt (plain attributes: a million of these may be held)."""

    id: int
    url: str
    canonical_url: str
    fetched_at: datetime
    status: int
    mime: str | None
    content_length: int
    payload_digest: str
    record_id: str
    record_type: str
    refers_to: str | None
    warc_name: str
    offset: int
    length: int
    etag: str | None
    last_modified: str | None
    crawl_job_id: int | None
    kind: str = "page"
    recorded_kind: str | None = None  # WARC-Newsvault-Kind, in files written since it exists
    state: str = "pending"
    note: str | None = None
    version_id: int | None = None


@dataclass(slots=True)
class _Conv:
    """A conversion record: where it is and what reindex needs before reading it again."""

    record_id: str
    refers_to: str
    date: datetime
    warc_name: str
    offset: int
    length: int
    url: str
    number: int
    content_hash: str
    id: int = 0  # the version id it becomes


@dataclass
class _Scan:
    files: list[tuple[str, str, int, datetime | None, datetime]] = field(default_factory=list)
    captures: list[_Cap] = field(default_factory=list)
    conversions: list[_Conv] = field(default_factory=list)
    records: int = 0
    problems: list[VerifyProblem] = field(default_factory=list)


def reindex(settings: Settings, *, progress: Progress | None = None) -> ReindexReport:
    """Recover ``.open`` files, then rebuild the index from every WARC file, in one transaction."""
    report = ReindexReport()
    directory = settings.warc_dir
    report.recovered = recover_open_files(directory)
    with session_scope(settings.index_url) as session:
        jobs = _crawl_jobs(session)
    scan = _scan(directory, set(jobs), progress)
    report.files, report.records, report.problems = len(scan.files), scan.records, scan.problems
    conversions = _usable_conversions(scan, report)
    by_record = {cap.record_id: cap for cap in scan.captures}
    _link_versions(conversions, by_record)
    _link_unchanged(settings, scan.captures, conversions, by_record, jobs, progress)
    with session_scope(settings.index_url) as session:
        _empty_tables(session)
        _insert_files(session, scan.files)
        _insert_captures(session, scan.captures)
        report.articles, report.clusters = _replay_versions(
            session, settings, conversions, by_record, jobs, progress
        )
        _set_capture_versions(session, scan.captures)
        _reset_sequences(session)
        _rebuild_search(session)
    report.captures, report.versions = len(scan.captures), len(conversions)
    report.pending = sum(1 for cap in scan.captures if cap.state == "pending")
    _refresh_lsh(settings)
    return report


def recover_and_index(settings: Settings) -> list[RecoveryReport]:
    """At start: close the ``.open`` files a crash left, and index what they hold.

    A crawl killed mid-way leaves a file whose last record may be cut and whose last records
    were written but not yet indexed (the index follows the fsync). Recovery cuts the file at
    its last complete record; this then adds an index row for every capture in it that has
    none, pending processing. Files that live writers hold are left alone.
    """
    reports = recover_open_files(settings.warc_dir)
    closed = [r.file for r in reports if r.action == "closed"]
    if not closed:
        return reports
    with session_scope(settings.index_url) as session:
        jobs = set(_crawl_jobs(session))
        known = set(session.scalars(select(Capture.record_id).where(Capture.warc_name.in_(closed))))
        for name in closed:
            _index_missing(session, settings.warc_dir / name, name, jobs, known)
            warc_file = session.scalar(select(WarcFile).where(WarcFile.name == name))
            if warc_file is None:
                session.add(WarcFile(name=name, state="recovered", closed_at=utcnow()))
            else:
                warc_file.state, warc_file.closed_at = "recovered", utcnow()
    return reports


def _index_missing(
    session: Session, path: Path, name: str, jobs: set[int], known: set[str]
) -> None:
    job: int | None = None
    for record in iter_records(path):
        if record.rec_type == "warcinfo":
            job = _crawl_job_of(record, jobs)
        elif record.rec_type in ("response", "revisit") and record.record_id not in known:
            cap = _capture(record, name, 0, job)
            cap.kind = _infer_kind(cap)
            cap.state, cap.note = processing_plan(cap.status, cap.mime, cap.kind)
            row = _capture_row(cap)
            del row["id"]
            session.add(Capture(**row))


# -- scanning -------------------------------------------------------------------------------


def warc_paths(directory: Path) -> list[Path]:
    """Closed files and ``.open`` ones still being written, in name (= creation) order."""
    paths = [*directory.glob("*" + WARC_SUFFIX), *directory.glob("*" + WARC_SUFFIX + OPEN_SUFFIX)]
    return sorted(paths, key=lambda p: p.name)


def _scan(directory: Path, jobs: set[int], progress: Progress | None) -> _Scan:
    scan = _Scan()
    paths = warc_paths(directory)
    total = sum(path.stat().st_size for path in paths)
    done = 0
    for path in paths:
        name = path.name.removesuffix(OPEN_SUFFIX)
        job: int | None = None
        created: datetime | None = None
        for record in iter_records(path, on_problem=scan.problems.append):
            scan.records += 1
            if record.rec_type == "warcinfo":
                created = created or record.date
                job = _crawl_job_of(record, jobs)
            elif record.rec_type in ("response", "revisit"):
                scan.captures.append(_capture(record, name, len(scan.captures) + 1, job))
            elif record.rec_type == "conversion":
                conversion = _conversion(record, name)
                if conversion is not None:
                    scan.conversions.append(conversion)
            if progress is not None:
                progress("scan", done + record.offset + record.length, total)
        stat = path.stat()
        state = "open" if path.name.endswith(OPEN_SUFFIX) else "closed"
        closed_at = datetime.fromtimestamp(stat.st_mtime, UTC)
        scan.files.append((name, state, stat.st_size, created, closed_at))
        done += stat.st_size
    return scan


def _crawl_job_of(record: IndexedRecord, jobs: set[int]) -> int | None:
    """The ``crawl-job`` field of a warcinfo record, if that job is still in the index."""
    for line in (record.payload or b"").decode("utf-8", "replace").splitlines():
        key, _, value = line.partition(":")
        if key.strip().lower() == "crawl-job" and value.strip().isdigit():
            job = int(value.strip())
            return job if job in jobs else None
    return None


def _capture(record: IndexedRecord, warc_name: str, capture_id: int, job: int | None) -> _Cap:
    from vocabulary.canonical import UnsupportedURL, canonicalize

    url = record.target_uri or ""
    try:
        canonical = canonicalize(url)
    except UnsupportedURL:
        canonical = url  # what the crawler stores for such a URL (crawler.middlewares)
    headers = record.http_headers
    assert record.date is not None, "WARC-Date is mandatory"
    return _Cap(
        id=capture_id,
        url=url,
        canonical_url=canonical,
        fetched_at=record.date.astimezone(UTC),
        status=record.http_status or 0,
        mime=mime_type(_header(headers, "Content-Type")),
        content_length=record.payload_length,
        payload_digest=record.payload_digest or "",
        record_id=record.record_id,
        record_type=record.rec_type,
        refers_to=record.refers_to if record.rec_type == "revisit" else None,
        warc_name=warc_name,
        offset=record.offset,
        length=record.length,
        etag=_header(headers, "ETag"),
        last_modified=_header(headers, "Last-Modified"),
        crawl_job_id=job,
        recorded_kind=_header(record.warc_headers, KIND_HEADER),
    )


def _conversion(record: IndexedRecord, warc_name: str) -> _Conv | None:
    if not record.refers_to or not (record.target_uri or "").startswith("urn:newsvault:version:"):
        return None
    try:
        document = json.loads(record.payload or b"")
        assert record.date is not None
        return _Conv(
            record_id=record.record_id,
            refers_to=record.refers_to,
            date=record.date.astimezone(UTC),
            warc_name=warc_name,
            offset=record.offset,
            length=record.length,
            url=document["url"],
            number=int(document["version"]),
            content_hash=document["content_hash"],
        )
    except (ValueError, KeyError, TypeError, AssertionError) as exc:
        log.warning("%s@%s: unreadable conversion record: %s", warc_name, record.offset, exc)
        return None


def _table(model: type[Any]) -> Table:
    """The Core table of a model (Core statements: no ORM objects for a million rows)."""
    table = model.__table__
    assert isinstance(table, Table)
    return table


def _header(headers: list[tuple[str, str]], name: str) -> str | None:
    wanted = name.lower()
    return next((value for key, value in headers if key.lower() == wanted), None)


# -- deciding what each capture was ---------------------------------------------------------


def _usable_conversions(scan: _Scan, report: ReindexReport) -> list[_Conv]:
    """One conversion per (article, number) and per capture, in processing order.

    A retried processing step can leave two records for one version (written, then the
    database transaction failed); the later one is what the index held.
    """
    known = {cap.record_id for cap in scan.captures}
    in_order = sorted(scan.conversions, key=_processing_order)
    latest = {(c.url, c.number): c for c in in_order if c.refers_to in known}
    per_capture = {c.refers_to: c for c in sorted(latest.values(), key=_processing_order)}
    ordered = sorted(per_capture.values(), key=_processing_order)
    report.orphan_conversions = len(scan.conversions) - len(ordered)
    for number, conv in enumerate(ordered, start=1):
        conv.id = number
    return ordered


def _processing_order(conv: _Conv) -> tuple[datetime, str, int]:
    return conv.date, conv.warc_name, conv.offset


def _infer_kind(cap: _Cap) -> str:
    """The crawl-time kind: recorded in the WARC since it had the field, else guessed."""
    if cap.recorded_kind:
        return cap.recorded_kind
    path = cap.url.split("?", 1)[0]
    if path.endswith("/robots.txt"):
        return "robots"
    if cap.mime in _FEED_TYPES:
        return "feed"
    if cap.mime in ("application/xml", "text/xml") and "sitemap" in path.rsplit("/", 1)[-1]:
        return "sitemap"
    return "page"


def _link_versions(conversions: list[_Conv], by_record: dict[str, _Cap]) -> None:
    """Captures that hold a version, and the plan (processing state) of all the others."""
    for cap in by_record.values():
        cap.kind = _infer_kind(cap)
        cap.state, cap.note = processing_plan(cap.status, cap.mime, cap.kind)
        if cap.record_type == "revisit":
            _revisit_fields(cap, by_record.get(cap.refers_to or ""))
    for conv in conversions:
        cap = by_record[conv.refers_to]
        cap.version_id, cap.kind = conv.id, cap.recorded_kind or "article"
        cap.state, cap.note = "done", f"version {conv.number}"


def _revisit_fields(cap: _Cap, original: _Cap | None) -> None:
    """What the archive copied from the earlier capture when it wrote the revisit."""
    if cap.status == 304:
        # storage.archive does the same: a 304 carries no Content-Type of its own, so it
        # takes the one of the page it confirms.
        cap.mime, cap.content_length = (original.mime if original else None), 0
    if original is not None:
        if cap.status != 304:
            cap.content_length = original.content_length
        cap.etag = cap.etag or original.etag
        cap.last_modified = cap.last_modified or original.last_modified
    if cap.state == "pending":
        cap.note = f"unchanged: revisit of {cap.refers_to}"


def _link_unchanged(
    settings: Settings,
    captures: list[_Cap],
    conversions: list[_Conv],
    by_record: dict[str, _Cap],
    jobs: dict[int, dict[str, Any]],
    progress: Progress | None,
) -> None:
    """Re-extract processable responses that hold no version; link them by content hash."""
    versions: dict[str, list[tuple[datetime, _Conv]]] = defaultdict(list)
    for conv in conversions:
        versions[conv.url].append((by_record[conv.refers_to].fetched_at, conv))
    todo = [
        cap
        for cap in captures
        if cap.record_type == "response" and cap.state == "pending" and cap.version_id is None
    ]
    for number, cap in enumerate(todo, start=1):
        _classify_response(settings, cap, versions.get(cap.canonical_url, []), jobs)
        if progress is not None:
            progress("extract", number, len(todo))
    # Revisits repeat the payload of the capture they refer to: they get its version.
    for cap in captures:
        if cap.record_type != "revisit" or cap.state != "pending":
            continue
        original = by_record.get(cap.refers_to or "")
        if original is None or original.version_id is None:
            cap.state, cap.note = "skipped", "unchanged page that never held an article"
        else:
            cap.version_id, cap.kind = original.version_id, cap.recorded_kind or "article"
            cap.state, cap.note = "done", "unchanged"


def _classify_response(
    settings: Settings,
    cap: _Cap,
    versions: list[tuple[datetime, _Conv]],
    jobs: dict[int, dict[str, Any]],
) -> None:
    from processing.extract import NotAnArticle
    from tasks.pipeline import extract_capture  # the pipeline's own step: the same answer
    from vocabulary.normalize import clean_text, content_hash

    try:
        _, extracted = extract_capture(
            settings,
            capture_id=cap.id,
            url=cap.url,
            warc_name=cap.warc_name,
            warc_offset=cap.offset,
            kind=cap.kind,
            site=jobs.get(cap.crawl_job_id or 0, {}),
        )
    except Exception as exc:  # as in processing: a bad record is recorded, not raised
        cap.state, cap.note = "error", f"extraction failed: {exc}"
        return
    if isinstance(extracted, NotAnArticle):
        cap.state, cap.note = "skipped", extracted.reason
        return
    digest = content_hash(clean_text(extracted.title), clean_text(extracted.text))
    matching = [(at, conv) for at, conv in versions if conv.content_hash == digest]
    if not matching:
        return  # an article that was never processed: stays pending
    # Processing compared it with the version current then: the latest one before it.
    earlier = [item for item in matching if item[0] <= cap.fetched_at]
    _, conv = max(earlier, key=lambda item: item[1].number) if earlier else matching[0]
    cap.version_id, cap.kind = conv.id, cap.recorded_kind or "article"
    cap.state, cap.note = "done", "unchanged"


# -- writing --------------------------------------------------------------------------------


def _crawl_jobs(session: Session) -> dict[int, dict[str, Any]]:
    """Every crawl job still in the index, with its site's definition (extraction hints)."""
    rows = session.execute(
        select(CrawlJob.id, Site.definition).join(Site, Site.id == CrawlJob.site_id, isouter=True)
    )
    return {job_id: dict(definition or {}) for job_id, definition in rows}


def _empty_tables(session: Session) -> None:
    if session.get_bind().dialect.name == "postgresql":
        # RESTART IDENTITY: ids start again at 1, so a second reindex gives the same rows.
        # CASCADE: tables derived from versions (the search index) are rebuilt below too.
        session.execute(text(f"TRUNCATE {', '.join(_REBUILT_TABLES)} RESTART IDENTITY CASCADE"))
        return
    # SQLite checks foreign keys row by row and these tables point at each other: cut the
    # links first. An emptied rowid table numbers again from 1.
    session.execute(update(Capture).values(version_id=None))
    session.execute(update(Article).values(current_version_id=None, cluster_id=None))
    for table in ("versions", "captures", "articles", "clusters", "warc_files"):
        session.execute(text(f"DELETE FROM {table}"))


def _insert_files(
    session: Session, files: Iterable[tuple[str, str, int, datetime | None, datetime]]
) -> None:
    rows = [
        {
            "name": name,
            "state": state,
            "size": size,
            "created_at": created or closed_at,
            "closed_at": closed_at if state == "closed" else None,
        }
        for name, state, size, created, closed_at in files
    ]
    if rows:
        session.execute(insert(_table(WarcFile)), rows)


def _insert_captures(session: Session, captures: list[_Cap]) -> None:
    statement = insert(_table(Capture))
    for start in range(0, len(captures), _BATCH):
        session.execute(
            statement,
            [_capture_row(cap) for cap in captures[start : start + _BATCH]],
        )


def _capture_row(cap: _Cap) -> dict[str, Any]:
    return {
        "id": cap.id,
        "crawl_job_id": cap.crawl_job_id,
        "url": cap.url,
        "canonical_url": cap.canonical_url,
        "fetched_at": cap.fetched_at,
        "status": cap.status,
        "mime_type": cap.mime,
        "content_length": cap.content_length,
        "payload_digest": cap.payload_digest,
        "record_id": cap.record_id,
        "record_type": cap.record_type,
        "refers_to_record_id": cap.refers_to,
        "warc_name": cap.warc_name,
        "warc_offset": cap.offset,
        "warc_length": cap.length,
        "etag": cap.etag,
        "last_modified": cap.last_modified,
        "kind": cap.kind,
        "process_state": cap.state,
        "process_note": cap.note,
        "version_id": None,  # set once the versions exist (they point back at captures)
    }


def _replay_versions(
    session: Session,
    settings: Settings,
    conversions: list[_Conv],
    by_record: dict[str, _Cap],
    jobs: dict[int, dict[str, Any]],
    progress: Progress | None,
) -> tuple[int, int]:
    """Articles, versions and clusters, built in the order processing built them."""
    from processing.dedup import MemoryLshIndex, signature, signature_to_bytes
    from tasks.clusters import join_cluster
    from vocabulary.normalize import matching_key

    job_sites = dict(session.execute(select(CrawlJob.id, CrawlJob.site_id)).all())
    last_seen = _last_seen(by_record.values(), conversions)
    index = MemoryLshIndex()  # fresh: the old one holds the old article ids
    articles: dict[str, Article] = {}
    current_sig: dict[str, Any] = {}  # each article's current signature, as the index holds it
    for number, conv in enumerate(conversions, start=1):
        if progress is not None:
            progress("versions", number, len(conversions))
        cap = by_record[conv.refers_to]
        document = json.loads(read_record(settings.warc_dir, conv.warc_name, conv.offset).payload)
        article = articles.get(conv.url)
        if article is None:
            article = Article(
                id=len(articles) + 1,
                canonical_url=conv.url,
                site_id=job_sites.get(cap.crawl_job_id) if cap.crawl_job_id else None,
                first_seen=cap.fetched_at,
                last_seen=last_seen[conv.url],
                version_count=0,
            )
            articles[conv.url] = article
            session.add(article)
        sig = signature(matching_key(f"{document['title'] or ''}\n{document['text']}"))
        version = _version(conv, cap, document, article.id, signature_to_bytes(sig))
        session.add(version)
        session.flush()  # the version row first: the article's current_version_id points at it
        if conv.number <= article.version_count:
            session.expunge(version)  # an older version stored late: not current, no clustering
            continue
        article.version_count = conv.number
        article.current_version_id = conv.id
        article.title = version.title
        article.language = version.language
        session.flush()
        previous = current_sig.get(conv.url)
        current_sig[conv.url] = sig
        join_cluster(session, article.id, sig, index, previous, created_at=conv.date)
        session.expunge(version)  # text and HTML of every version need not stay in memory
    session.flush()
    clusters = len({a.cluster_id for a in articles.values() if a.cluster_id is not None})
    return len(articles), clusters


def _last_seen(captures: Iterable[_Cap], conversions: list[_Conv]) -> dict[str, datetime]:
    url_of = {conv.id: conv.url for conv in conversions}
    seen: dict[str, datetime] = {}
    for cap in captures:
        if cap.version_id is not None:
            url = url_of[cap.version_id]
            seen[url] = max(seen.get(url, cap.fetched_at), cap.fetched_at)
    return seen


def _version(
    conv: _Conv, cap: _Cap, document: dict[str, Any], article_id: int, minhash: bytes
) -> Version:
    return Version(
        id=conv.id,
        article_id=article_id,
        number=conv.number,
        capture_id=cap.id,
        captured_at=cap.fetched_at,
        content_hash=conv.content_hash,
        title=document.get("title"),
        text=document.get("text") or "",
        html=document.get("html"),
        language=document.get("language"),
        authors=list(document.get("authors") or []),
        published=_when(document.get("published")),
        published_raw=document.get("published_raw"),
        modified=_when(document.get("modified")),
        meta=dict(document.get("meta") or {}),
        words_added=int(document.get("words_added") or 0),
        words_removed=int(document.get("words_removed") or 0),
        minhash=minhash,
        warc_name=conv.warc_name,
        warc_offset=conv.offset,
        warc_length=conv.length,
        record_id=conv.record_id,
    )


def _when(value: str | None) -> datetime | None:
    if not value:
        return None
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _set_capture_versions(session: Session, captures: list[_Cap]) -> None:
    table = _table(Capture)
    statement = (
        update(table).where(table.c.id == bindparam("cid")).values(version_id=bindparam("vid"))
    )
    rows = [{"cid": cap.id, "vid": cap.version_id} for cap in captures if cap.version_id]
    for start in range(0, len(rows), _BATCH):
        session.execute(statement, rows[start : start + _BATCH])


def _reset_sequences(session: Session) -> None:
    """PostgreSQL: explicit ids do not move the sequences; move them past the new rows."""
    if session.get_bind().dialect.name != "postgresql":
        return
    for table in ("captures", "versions", "articles", "warc_files"):
        session.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"COALESCE(MAX(id), 0) + 1, false) FROM {table}"
            )
        )


def _rebuild_search(session: Session) -> None:
    """The full-text index is derived from versions, whose ids reindex renumbered."""
    from storage.search import rebuild_search_index

    rebuild_search_index(session)


def _refresh_lsh(settings: Settings) -> None:
    """The near-duplicate index keys on article ids, which reindex renumbered: rebuild it."""
    from tasks import lsh

    lsh.forget_indexes()
    if not settings.shared_redis_url:
        return  # the in-memory index is rebuilt from the database on first use
    import redis

    from tasks.redis_lsh import RedisLshIndex

    client = redis.Redis.from_url(settings.shared_redis_url)
    keys = list(client.scan_iter(match=lsh.REDIS_PREFIX + "*", count=1000))
    for start in range(0, len(keys), 1000):
        client.delete(*keys[start : start + 1000])
    lsh.rebuild(RedisLshIndex(client, prefix=lsh.REDIS_PREFIX), settings)
