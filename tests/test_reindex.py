"""``reindex``: delete the index, rebuild it from the WARC files, get the same answers.

The archive holds several sample-site pages: a cluster of two copies of one story, an article
edited once (two versions), an identical re-fetch (a revisit), a re-fetch with new bytes but
the same text (an "unchanged" response, which no WARC record marks as such), and pages that are
not articles (a section, a feed, robots.txt, an error page).
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from newsvault.config import Settings, load_settings
from newsvault.sample_site import (
    ARABIC_ARTICLE_PATH,
    EDITED_ARTICLE_PATH,
    REPUBLISHED_ARTICLE_PATH,
)
from storage.archive import close_version_writers
from storage.db import engine_for, migrate, session_scope
from storage.models import Article, Capture, Cluster, Version, WarcFile
from storage.retrieval import list_articles, snapshots, version_at
from tasks.lsh import forget_indexes
from tasks.reindex import reindex
from tests.test_pipeline import BASE, T0, archive_and_process, page_fetch, raw_fetch

EDITED = BASE + EDITED_ARTICLE_PATH
ARABIC = BASE + ARABIC_ARTICLE_PATH
REPUBLISHED = BASE + REPUBLISHED_ARTICLE_PATH
SECTION = BASE + "/world/"


def build_archive(settings: Settings) -> None:
    """Three crawls of the sample site, processed like the pipeline does after each."""
    feed = dataclasses.replace(page_fetch("/feed.xml"), kind="feed")
    robots = dataclasses.replace(page_fetch("/robots.txt"), kind="robots")
    missing = raw_fetch(BASE + "/gone", b"<h1>Not found</h1>", "text/html", status=404)
    archive_and_process(
        settings,
        page_fetch(ARABIC_ARTICLE_PATH),
        page_fetch(REPUBLISHED_ARTICLE_PATH),
        page_fetch(EDITED_ARTICLE_PATH),
        page_fetch("/world/"),
        feed,
        robots,
        missing,
    )
    day = T0 + timedelta(days=1)
    archive_and_process(
        settings,
        page_fetch(EDITED_ARTICLE_PATH, edition=2, at=day),
        page_fetch(ARABIC_ARTICLE_PATH, at=day),  # identical bytes: a revisit
        page_fetch("/world/", at=day),
    )
    # New bytes (gzip-encoded this time), same cleaned text: processing links it, no record.
    archive_and_process(
        settings,
        page_fetch(EDITED_ARTICLE_PATH, edition=2, at=day + timedelta(hours=5), gzipped=True),
    )
    close_version_writers()


def answers(session: Session) -> dict[str, Any]:
    """What every retrieval query answers, with ids replaced by URLs."""
    cluster_of = {
        a.id: a.cluster_id for a in session.scalars(select(Article)) if a.cluster_id is not None
    }
    members: dict[int, list[str]] = {}
    for article in session.scalars(select(Article).order_by(Article.canonical_url)):
        if article.cluster_id is not None:
            members.setdefault(article.cluster_id, []).append(article.canonical_url)
    result: dict[str, Any] = {
        "articles": [
            {
                **{k: v for k, v in dataclasses.asdict(a).items() if k not in ("id", "cluster_id")},
                "cluster": members[cluster_of[a.id]] if a.id in cluster_of else None,
            }
            for a in list_articles(session)
        ]
    }
    for url in (EDITED, ARABIC, REPUBLISHED, SECTION, BASE + "/feed.xml", BASE + "/gone"):
        result["snapshots " + url] = [
            {k: v for k, v in dataclasses.asdict(s).items() if k != "capture_id"}
            for s in snapshots(session, url)
        ]
    times = [
        None,
        T0 - timedelta(days=3),
        T0,
        T0 + timedelta(hours=11),
        T0 + timedelta(hours=12),  # exactly between two captures: the earlier one
        T0 + timedelta(hours=13),
        T0 + timedelta(days=1, hours=4),
        T0 + timedelta(days=30),
    ]
    for url in (EDITED, ARABIC, REPUBLISHED):
        for at in times:
            article, version = version_at(session, url, at)
            result[f"version_at {url} {at}"] = (
                article.canonical_url,
                version.number,
                version.title,
                version.text,
                version.content_hash,
                version.captured_at,
            )
    result["captures"] = sorted(
        (
            c.url,
            c.canonical_url,
            c.fetched_at,
            c.status,
            c.mime_type,
            c.content_length,
            c.payload_digest,
            c.record_id,
            c.record_type,
            c.refers_to_record_id,
            c.warc_name,
            c.warc_offset,
            c.warc_length,
            c.etag,
            c.last_modified,
            c.process_state,
            c.process_note,
            _version_key(session, c.version_id),
        )
        for c in session.scalars(select(Capture))
    )
    result["versions"] = sorted(
        (
            session.get(Article, v.article_id).canonical_url,  # type: ignore[union-attr]
            v.number,
            v.captured_at,
            v.content_hash,
            v.title,
            v.text,
            v.html,
            v.language,
            v.authors,
            v.published,
            v.published_raw,
            v.modified,
            v.meta,
            v.words_added,
            v.words_removed,
            v.minhash,
            v.warc_name,
            v.warc_offset,
            v.record_id,
        )
        for v in session.scalars(select(Version))
    )
    return result


def _version_key(session: Session, version_id: int | None) -> tuple[str, int] | None:
    if version_id is None:
        return None
    version = session.get(Version, version_id)
    assert version is not None
    return version.article.canonical_url, version.number


def all_rows(session: Session) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every rebuilt table, ids included (for idempotence)."""
    rows: dict[str, list[tuple[Any, ...]]] = {}
    for model in (WarcFile, Capture, Article, Version, Cluster):
        table = model.__table__
        rows[table.name] = [
            tuple(row) for row in session.execute(select(table).order_by(table.c.id))
        ]
    return rows


def test_reindex_after_deleting_the_database_answers_exactly_as_before(
    settings: Settings,
) -> None:
    build_archive(settings)
    with session_scope(settings.index_url) as session:
        before = answers(session)
    assert len(before["snapshots " + EDITED]) == 3
    assert [s["version"] for s in before["snapshots " + EDITED]] == [1, 2, 2]
    assert [s["record_type"] for s in before["snapshots " + ARABIC]] == ["response", "revisit"]

    database = Path(settings.index_url.removeprefix("sqlite:///"))
    engine_for(settings.index_url).dispose()
    for path in database.parent.glob(database.name + "*"):  # with -wal and -shm
        path.unlink()
    migrate(settings.index_url)
    forget_indexes()

    report = reindex(settings)
    assert report.problems == [] and report.orphan_conversions == 0
    expected = (len(before["versions"]), len(before["articles"]), 1, 0)
    assert (report.versions, report.articles, report.clusters, report.pending) == expected
    with session_scope(settings.index_url) as session:
        after = answers(session)
    assert after.keys() == before.keys()
    for key in before:
        assert after[key] == before[key], key


def test_reindex_twice_gives_identical_rows(settings: Settings) -> None:
    build_archive(settings)
    reindex(settings)
    with session_scope(settings.index_url) as session:
        first = all_rows(session)
    reindex(settings)
    with session_scope(settings.index_url) as session:
        second = all_rows(session)
    assert first == second
    assert len(first["captures"]) == 11 and len(first["versions"]) >= 4


def test_reindex_keeps_sites_and_recovers_open_files(settings: Settings) -> None:
    from storage.models import Site
    from storage.warc_files import OPEN_SUFFIX

    with session_scope(settings.index_url) as session:
        session.add(Site(name="ledger", definition={}))
    build_archive(settings)
    # A crashed writer's file: the last WARC file, back to .open, with half a record after it.
    last = sorted(settings.warc_dir.glob("newsvault-2*.warc.gz"))[-1]
    crashed = last.with_name(last.name + OPEN_SUFFIX)
    last.rename(crashed)
    with crashed.open("ab") as fh:
        fh.write(b"\x1f\x8b\x08\x00 truncated")
    report = reindex(settings)
    assert [r.action for r in report.recovered] == ["closed"]
    assert last.exists() and not crashed.exists()
    with session_scope(settings.index_url) as session:
        assert session.scalar(select(Site.name)) == "ledger"
        assert len(snapshots(session, EDITED)) == 3


@pytest.mark.pg
def test_reindex_on_postgresql(pg_url: str, tmp_path: Path) -> None:
    forget_indexes()
    settings = load_settings(home=tmp_path / "data", database_url=pg_url)
    migrate(settings.index_url)
    build_archive(settings)
    with session_scope(settings.index_url) as session:
        before = answers(session)
    engine = engine_for(settings.index_url)
    with engine.begin() as connection:  # the whole database gone
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    migrate(settings.index_url)
    forget_indexes()
    reindex(settings)
    with session_scope(settings.index_url) as session:
        after = answers(session)
        first = all_rows(session)
    for key in before:
        assert after[key] == before[key], key
    reindex(settings)
    with session_scope(settings.index_url) as session:
        assert all_rows(session) == first
    # The sequences moved past the rebuilt rows: the archive can go on adding captures.
    archive_and_process(settings, page_fetch("/about/", at=T0 + timedelta(days=2)))
