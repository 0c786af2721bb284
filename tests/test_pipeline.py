"""process_capture over a real archive: WARC files on disk and the SQLite or PostgreSQL index.

Fetches are handed to the archive directly (the crawler is tested on its own), then
processed; each bad input must end as a recorded outcome, never a traceback.
"""

from __future__ import annotations

import gzip
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from newsvault.config import Settings, load_settings
from newsvault.sample_site import (
    ARABIC_ARTICLE_PATH,
    EDITED_ARTICLE_PATH,
    REPUBLISHED_ARTICLE_PATH,
    build_site,
    seed_lines,
)
from storage.archive import Archive
from storage.db import migrate, session_scope
from storage.fetch import Fetch
from storage.models import Article, Capture, Version
from storage.warc import read_record
from tasks.lsh import forget_indexes
from tasks.pipeline import process_capture, process_captures

BASE = "http://127.0.0.1:8741"
T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def page_fetch(path: str, *, edition: int = 1, at: datetime = T0, gzipped: bool = False) -> Fetch:
    page = build_site(BASE, edition=edition).pages[path]
    body = gzip.compress(page.body, mtime=0) if gzipped else page.body
    headers = [("Content-Type", page.content_type), *page.headers.items()]
    if gzipped:
        headers.append(("Content-Encoding", "gzip"))
    return Fetch(
        url=BASE + path,
        canonical_url=BASE + path,
        status=page.status,
        response_headers=headers,
        body=body,
        fetched_at=at,
        kind="article",
    )


def raw_fetch(url: str, body: bytes, content_type: str, *, status: int = 200) -> Fetch:
    return Fetch(
        url=url,
        canonical_url=url,
        status=status,
        response_headers=[("Content-Type", content_type)],
        body=body,
        fetched_at=T0,
        kind="article",
    )


def archive_and_process(settings: Settings, *fetches: Fetch) -> list[str]:
    with Archive(settings) as archive:
        for fetch in fetches:
            archive.add(fetch)
        ids = archive.commit()
    # One batch, as the crawler hands them over.
    return [outcome.result for outcome in process_captures(ids, settings)]


def test_seed_article_is_stored_exactly(settings: Settings) -> None:
    assert archive_and_process(settings, page_fetch(ARABIC_ARTICLE_PATH, gzipped=True)) == [
        "new_article"
    ]
    lines = seed_lines()
    with session_scope(settings.index_url) as session:
        version = session.scalars(select(Version)).one()
        assert version.title == lines[0]
        assert version.text.split("\n") == lines[2:]
        assert version.meta["lead"] == lines[1]  # the standfirst is kept, beside the text
        assert version.language == "ar"
        assert "قاآني" in version.text  # the page's own spelling is kept
        # The WARC conversion record holds the same cleaned version.
        assert version.warc_name is not None and version.warc_offset is not None
        record = read_record(settings.warc_dir, version.warc_name, version.warc_offset)
        assert lines[0] in record.payload.decode("utf-8")
        # Why the page was taken as an article is kept on the capture and the version.
        capture = session.scalars(select(Capture).where(Capture.kind == "article")).one()
        reason = version.meta["recognition"]
        assert reason.startswith("article: ")
        assert capture.process_note == f"version 1: {reason}"


def test_republished_copy_joins_a_cluster_and_unrelated_does_not(settings: Settings) -> None:
    results = archive_and_process(
        settings,
        page_fetch(ARABIC_ARTICLE_PATH),
        page_fetch(REPUBLISHED_ARTICLE_PATH),
        page_fetch(EDITED_ARTICLE_PATH),
    )
    assert results == ["new_article"] * 3
    with session_scope(settings.index_url) as session:
        clusters = {a.canonical_url: a.cluster_id for a in session.scalars(select(Article))}
    assert clusters[BASE + ARABIC_ARTICLE_PATH] is not None
    assert clusters[BASE + ARABIC_ARTICLE_PATH] == clusters[BASE + REPUBLISHED_ARTICLE_PATH]
    assert clusters[BASE + EDITED_ARTICLE_PATH] is None


def test_identical_refetch_adds_no_version(settings: Settings) -> None:
    first = page_fetch(EDITED_ARTICLE_PATH)
    again = page_fetch(EDITED_ARTICLE_PATH, at=T0 + timedelta(hours=1))
    assert archive_and_process(settings, first) == ["new_article"]
    assert archive_and_process(settings, again) == ["unchanged"]
    with session_scope(settings.index_url) as session:
        assert session.scalar(select(func.count(Version.id))) == 1
        types = [c.record_type for c in session.scalars(select(Capture).order_by(Capture.id))]
    assert types == ["response", "revisit"]


def test_edited_article_becomes_version_two_with_a_diff(settings: Settings) -> None:
    archive_and_process(settings, page_fetch(EDITED_ARTICLE_PATH))
    later = page_fetch(EDITED_ARTICLE_PATH, edition=2, at=T0 + timedelta(days=1))
    assert archive_and_process(settings, later) == ["new_version"]
    with session_scope(settings.index_url) as session:
        versions = list(session.scalars(select(Version).order_by(Version.number)))
    assert [v.number for v in versions] == [1, 2]
    assert "Correction" in versions[1].text
    assert versions[1].words_added > 0 and versions[1].words_removed > 0


def test_one_batch_holding_an_article_its_edit_and_refetches(settings: Settings) -> None:
    # The crawler queues captures in batches, each stored in one transaction: captures of
    # one article in one batch must see each other as if processed one by one.
    day = timedelta(days=1)
    first = page_fetch(EDITED_ARTICLE_PATH)
    edited = page_fetch(EDITED_ARTICLE_PATH, edition=2, at=T0 + day)
    same_bytes = page_fetch(EDITED_ARTICLE_PATH, edition=2, at=T0 + 2 * day)  # a revisit
    same_text = page_fetch(EDITED_ARTICLE_PATH, edition=2, at=T0 + 3 * day)
    same_text = replace(same_text, body=same_text.body + b"<!-- other bytes, same text -->")
    with Archive(settings) as archive:
        for fetch in (first, edited, same_bytes, same_text):
            archive.add(fetch)
        ids = archive.commit()
    outcomes = process_captures(ids, settings)
    assert [o.result for o in outcomes] == ["new_article", "new_version", "unchanged", "unchanged"]
    assert [o.version for o in outcomes] == [1, 2, 2, 2]
    with session_scope(settings.index_url) as session:
        versions = {v.number: v.id for v in session.scalars(select(Version))}
        captures = [session.get(Capture, capture_id) for capture_id in ids]
        linked = [capture.version_id for capture in captures if capture]
        kinds = [capture.record_type for capture in captures if capture]
        article = session.scalars(select(Article)).one()
    assert kinds == ["response", "response", "revisit", "response"]
    assert linked == [versions[1], versions[2], versions[2], versions[2]]
    assert article.version_count == 2 and article.current_version_id == versions[2]
    assert article.last_seen == T0 + 3 * day
    assert process_captures(ids, settings)[0].result == "already_done"


def test_processing_twice_stores_one_version(settings: Settings) -> None:
    with Archive(settings) as archive:
        archive.add(page_fetch(ARABIC_ARTICLE_PATH))
        (capture_id,) = archive.commit()
    assert process_capture(capture_id, settings).result == "new_article"
    assert process_capture(capture_id, settings).result == "already_done"
    with session_scope(settings.index_url) as session:
        assert session.scalar(select(func.count(Version.id))) == 1


@pytest.mark.parametrize(
    ("body", "content_type", "state", "note"),
    [
        (
            b"<html><body><nav><a href='/a'>A</a></nav></body></html>",
            "text/html",
            "skipped",
            "link list, not an article",
        ),
        (b"", "text/html", "skipped", "empty page"),
        (
            b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj",
            "application/pdf",
            "skipped",
            "not HTML (application/pdf): archived raw only",
        ),
        (
            b"\x00\xff\xfe junk \x00" * 50,
            "text/html",
            "skipped",
            "not HTML (binary or undecodable content); charset: 100 undecodable byte sequences"
            " with utf-8: check the charset",
        ),
    ],
    ids=["no-article", "empty-body", "pdf", "binary-junk"],
)
def test_bad_input_is_recorded_not_raised(
    settings: Settings, body: bytes, content_type: str, state: str, note: str
) -> None:
    url = "http://127.0.0.1:8741/odd"
    archive_and_process(settings, raw_fetch(url, body, content_type))
    with session_scope(settings.index_url) as session:
        capture = session.scalars(select(Capture)).one()
        assert capture.process_state == state
        assert capture.process_note == note  # the reason the web UI shows for the capture
        assert session.scalar(select(func.count(Version.id))) == 0
        # Archived raw all the same: nothing fetched is lost.
        record = read_record(settings.warc_dir, capture.warc_name, capture.warc_offset)
        assert record.payload == body


def test_bad_pages_in_a_batch_do_not_cost_the_good_ones(settings: Settings) -> None:
    junk = raw_fetch("http://127.0.0.1:8741/junk", b"\x00\xff\xfe junk \x00" * 50, "text/html")
    pdf = raw_fetch("http://127.0.0.1:8741/a.pdf", b"%PDF-1.4\n1 0 obj", "application/pdf")
    results = archive_and_process(
        settings, page_fetch(ARABIC_ARTICLE_PATH), junk, pdf, page_fetch(EDITED_ARTICLE_PATH)
    )
    assert results.count("new_article") == 2 and "not_article" in results
    with session_scope(settings.index_url) as session:
        states = {
            url: state for url, state in session.execute(select(Capture.url, Capture.process_state))
        }
        assert session.scalar(select(func.count(Version.id))) == 2
    assert states[junk.url] == states[pdf.url] == "skipped"
    assert "pending" not in states.values()


def test_error_pages_are_archived_and_not_processed(settings: Settings) -> None:
    url = "http://127.0.0.1:8741/gone"
    assert (
        archive_and_process(
            settings, raw_fetch(url, b"<h1>Not found</h1>", "text/html", status=404)
        )
        == []
    )
    with session_scope(settings.index_url) as session:
        capture = session.scalars(select(Capture)).one()
    assert (capture.status, capture.process_state, capture.process_note) == (
        404,
        "skipped",
        "HTTP 404",
    )


@pytest.mark.pg
def test_the_same_pipeline_runs_on_postgresql(pg_url: str, tmp_path: object) -> None:
    forget_indexes()
    settings = load_settings(home=f"{tmp_path}/data", database_url=pg_url)
    migrate(settings.index_url)
    results = archive_and_process(
        settings, page_fetch(ARABIC_ARTICLE_PATH), page_fetch(REPUBLISHED_ARTICLE_PATH)
    )
    assert results == ["new_article", "new_article"]
    with session_scope(settings.index_url) as session:
        titles = set(session.scalars(select(Version.title)))
        clusters = set(session.scalars(select(Article.cluster_id)))
    assert seed_lines()[0] in titles
    assert len(clusters) == 1 and None not in clusters


def test_a_wrong_charset_declaration_is_recorded_on_the_capture(settings: Settings) -> None:
    lines = seed_lines()
    html = (
        "<html lang='ar'><head><meta charset='iso-8859-1'>"
        '<meta property="og:type" content="article"></head><body><article>'
        f"<h1>{lines[0]}</h1>" + "".join(f"<p>{line}</p>" for line in lines[2:])
    ) + "</article></body></html>"
    fetch = raw_fetch(
        "http://127.0.0.1:8741/legacy", html.encode("cp1256"), "text/html; charset=iso-8859-1"
    )
    assert archive_and_process(settings, fetch) == ["new_article"]
    with session_scope(settings.index_url) as session:
        capture = session.scalars(select(Capture)).one()
        version = session.scalars(select(Version)).one()
    # Decoded right (no mojibake stored), and what happened is on the record.
    assert version.text.split("\n") == lines[2:]
    assert capture.process_note is not None
    assert "charset:" in capture.process_note and "cp1256" in capture.process_note
