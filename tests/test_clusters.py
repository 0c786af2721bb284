"""Clusters of near-duplicate articles: the seed story and its republished copy, through the
real pipeline (archive, process) on both LSH indexes, the cluster rule's merges, and the
``clusters`` and ``process`` commands."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import timedelta

import numpy as np
import pytest
import redis
from sqlalchemy import func, select, update
from typer.testing import CliRunner, Result

from newsvault.cli import app
from newsvault.config import Settings, load_settings
from newsvault.sample_site import (
    ARABIC_ARTICLE_PATH,
    EDITED_ARTICLE_PATH,
    REPUBLISHED_ARTICLE_PATH,
    build_site,
)
from processing.dedup import NUM_PERM, MemoryLshIndex, Signature, signature_from_bytes
from storage.archive import Archive
from storage.db import migrate, session_scope
from storage.fetch import Fetch
from storage.models import Article, Capture, Cluster, Version
from tasks.clusters import join_cluster, list_clusters
from tasks.lsh import forget_indexes, near_duplicate_index
from tasks.pipeline import process_capture
from tests.test_dedup import UNRELATED_ARABIC
from tests.test_pipeline import BASE, T0, page_fetch, raw_fetch

REDIS_DB = 10
SEED, COPY, ENGLISH = (
    BASE + p for p in (ARABIC_ARTICLE_PATH, REPUBLISHED_ARTICLE_PATH, EDITED_ARTICLE_PATH)
)
UNRELATED_AR = BASE + "/ar/economy/2021/05/agriculture-plan.html"
runner = CliRunner()


def unrelated_arabic_page(url: str = UNRELATED_AR) -> Fetch:
    sentences = [s.strip() + "." for s in UNRELATED_ARABIC.split(".") if s.strip()]
    paragraphs = "".join(f"<p>{sentence}</p>" for sentence in sentences * 2)
    html = (
        '<!DOCTYPE html><html lang="ar" dir="rtl"><head><meta charset="utf-8">'
        "<title>خطة جديدة لدعم المزارعين</title></head><body><article>"
        f"<h1>خطة جديدة لدعم المزارعين في المناطق الريفية</h1>{paragraphs}</article></body></html>"
    )
    return raw_fetch(url, html.encode("utf-8"), "text/html; charset=utf-8")


def edited_copy(at_hours: int = 24) -> Fetch:
    """The republished copy again, a name expanded in its body: a new version of it."""
    fetch = page_fetch(REPUBLISHED_ARTICLE_PATH, at=T0 + timedelta(hours=at_hours))
    body = fetch.body.decode("utf-8").replace("النخالة", "زياد النخالة")
    assert body != fetch.body.decode("utf-8")
    return Fetch(**{**fetch.__dict__, "body": body.encode("utf-8")})


def archive(settings: Settings, *fetches: Fetch) -> list[int]:
    with Archive(settings) as writer:
        for fetch in fetches:
            writer.add(fetch)
        return writer.commit()


def process_all(settings: Settings, capture_ids: list[int]) -> list[str]:
    return [process_capture(capture_id, settings).result for capture_id in capture_ids]


def cluster_of(settings: Settings) -> dict[str, int | None]:
    with session_scope(settings.index_url) as session:
        return {a.canonical_url: a.cluster_id for a in session.scalars(select(Article))}


def cluster_count(settings: Settings) -> int:
    with session_scope(settings.index_url) as session:
        return len(list_clusters(session, min_size=1))


@pytest.fixture
def redis_db() -> Iterator[str]:
    client = redis.Redis(host="127.0.0.1", port=6379, db=REDIS_DB)
    client.flushdb()
    yield f"redis://127.0.0.1:6379/{REDIS_DB}"
    client.flushdb()
    client.close()


@pytest.fixture(params=["memory", "redis"])
def indexed(request: pytest.FixtureRequest, settings: Settings) -> Settings:
    """Embedded settings whose near-duplicate index is in memory or in Redis (db 10)."""
    if request.param == "memory":
        return settings
    url = request.getfixturevalue("redis_db")
    forget_indexes()
    return settings.model_copy(update={"redis_url": url})


# --- the seed story -------------------------------------------------------------------------


def test_seed_and_republished_copy_share_a_cluster(indexed: Settings) -> None:
    ids = archive(
        indexed,
        page_fetch(ARABIC_ARTICLE_PATH),
        page_fetch(EDITED_ARTICLE_PATH),
        unrelated_arabic_page(),
        page_fetch(REPUBLISHED_ARTICLE_PATH),
    )
    assert process_all(indexed, ids) == ["new_article"] * 4
    clusters = cluster_of(indexed)
    assert clusters[SEED] is not None and clusters[SEED] == clusters[COPY]
    assert clusters[ENGLISH] is None and clusters[UNRELATED_AR] is None
    assert cluster_count(indexed) == 1


@pytest.mark.parametrize("order", ["seed first", "copy first"])
def test_either_order_gives_one_cluster(settings: Settings, order: str) -> None:
    fetches = [page_fetch(ARABIC_ARTICLE_PATH), page_fetch(REPUBLISHED_ARTICLE_PATH)]
    ids = archive(settings, *fetches)
    if order == "copy first":
        ids.reverse()
    assert process_all(settings, ids) == ["new_article", "new_article"]
    clusters = cluster_of(settings)
    assert clusters[SEED] is not None and clusters[SEED] == clusters[COPY]
    assert cluster_count(settings) == 1


def test_processing_a_capture_twice_gives_one_membership(settings: Settings) -> None:
    ids = archive(settings, page_fetch(ARABIC_ARTICLE_PATH), page_fetch(REPUBLISHED_ARTICLE_PATH))
    process_all(settings, ids)
    before = cluster_of(settings)
    assert process_all(settings, ids) == ["already_done", "already_done"]
    # A refetch of the same story on the same URL links to the version it already has.
    again = archive(settings, page_fetch(REPUBLISHED_ARTICLE_PATH, at=T0 + timedelta(hours=2)))
    assert process_all(settings, again) == ["unchanged"]
    assert cluster_of(settings) == before
    assert cluster_count(settings) == 1
    with session_scope(settings.index_url) as session:
        assert session.scalar(select(func.count(Cluster.id))) == 1


# --- versions -------------------------------------------------------------------------------


def _current_signature(settings: Settings, url: str) -> tuple[int, Signature]:
    with session_scope(settings.index_url) as session:
        article = session.scalars(select(Article).where(Article.canonical_url == url)).one()
        version = session.get(Version, article.current_version_id)
        assert version is not None and version.minhash is not None
        return article.id, signature_from_bytes(version.minhash)


def _candidates(settings: Settings, sig: Signature) -> list[int]:
    """Who the index returns for ``sig``, without leaving the probe in it."""
    index = near_duplicate_index(settings)
    probe = (1 << 40) + 7
    found = index.query_and_insert(probe, sig)
    index.remove(probe, sig)
    return sorted(found)


def test_cluster_survives_a_new_version_of_a_member(indexed: Settings) -> None:
    ids = archive(indexed, page_fetch(ARABIC_ARTICLE_PATH), page_fetch(REPUBLISHED_ARTICLE_PATH))
    process_all(indexed, ids)
    cluster = cluster_of(indexed)[SEED]
    seed_id, _ = _current_signature(indexed, SEED)
    copy_id, first = _current_signature(indexed, COPY)

    assert process_all(indexed, archive(indexed, edited_copy())) == ["new_version"]
    _, second = _current_signature(indexed, COPY)
    assert not np.array_equal(first, second)
    assert cluster_of(indexed)[SEED] == cluster_of(indexed)[COPY] == cluster
    assert _candidates(indexed, second) == sorted([seed_id, copy_id])

    # The copy's URL now carries another story: its old text must no longer match on it.
    replaced = unrelated_arabic_page(COPY)
    replaced = Fetch(**{**replaced.__dict__, "fetched_at": T0 + timedelta(days=2)})
    assert process_all(indexed, archive(indexed, replaced)) == ["new_version"]
    _, third = _current_signature(indexed, COPY)
    assert copy_id not in _candidates(indexed, second)
    assert copy_id not in _candidates(indexed, first)
    assert _candidates(indexed, third) == [copy_id]
    # Nothing is dropped: the member stays in the cluster it joined.
    assert cluster_of(indexed)[COPY] == cluster


# --- the rule: merges -----------------------------------------------------------------------


def _store(session: object, url: str, sig: Signature) -> Article:
    from storage.models import Capture as CaptureRow

    assert hasattr(session, "add")
    number = abs(hash(url)) % 10**9
    capture = CaptureRow(
        url=url,
        canonical_url=url,
        fetched_at=T0,
        status=200,
        payload_digest="sha1:X",
        record_id=f"<urn:uuid:{number}>",
        warc_name="x.warc.gz",
        warc_offset=number,
        warc_length=1,
    )
    article = Article(canonical_url=url, first_seen=T0, last_seen=T0, version_count=1)
    session.add_all([capture, article])  # type: ignore[attr-defined]
    session.flush()  # type: ignore[attr-defined]
    version = Version(
        article_id=article.id,
        number=1,
        capture_id=capture.id,
        captured_at=T0,
        content_hash=url,
        text=url,
        minhash=np.asarray(sig, dtype="<u4").tobytes(),
    )
    session.add(version)  # type: ignore[attr-defined]
    session.flush()  # type: ignore[attr-defined]
    article.current_version_id = version.id
    return article


def test_a_bridging_article_merges_two_clusters(settings: Settings) -> None:
    rng = np.random.default_rng(3)
    story_a = rng.integers(0, 2**32, NUM_PERM, dtype=np.uint32)
    story_b = rng.integers(0, 2**32, NUM_PERM, dtype=np.uint32)
    half = NUM_PERM // 2
    bridge = np.concatenate([story_a[:half], story_b[half:]])  # half of each: matches both
    index = MemoryLshIndex()
    with session_scope(settings.index_url) as session:
        articles = {}
        for url, sig in [("a1", story_a), ("a2", story_a), ("b1", story_b), ("b2", story_b)]:
            articles[url] = _store(session, f"{BASE}/{url}", sig)
            join_cluster(session, articles[url].id, sig, index)
        assert articles["a1"].cluster_id == articles["a2"].cluster_id
        assert articles["b1"].cluster_id == articles["b2"].cluster_id
        assert articles["a1"].cluster_id != articles["b1"].cluster_id
        lowest = min(articles["a1"].cluster_id or 0, articles["b1"].cluster_id or 0)
        articles["c"] = _store(session, f"{BASE}/c", bridge)
        assert join_cluster(session, articles["c"].id, bridge, index).cluster_id == lowest
        session.flush()
        session.expire_all()
        assert {a.cluster_id for a in articles.values()} == {lowest}


# --- commands -------------------------------------------------------------------------------


def run(*args: str) -> Result:
    return runner.invoke(app, list(args))


@pytest.fixture
def cli_home(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("NEWSVAULT_HOME", str(settings.home))
    monkeypatch.setenv("COLUMNS", "200")
    return settings


def test_clusters_command_lists_the_story(cli_home: Settings) -> None:
    ids = archive(
        cli_home,
        page_fetch(ARABIC_ARTICLE_PATH),
        page_fetch(REPUBLISHED_ARTICLE_PATH),
        page_fetch(EDITED_ARTICLE_PATH),
    )
    process_all(cli_home, ids)
    result = run("clusters", "--format", "json")
    assert result.exit_code == 0, result.output
    (cluster,) = json.loads(result.stdout)
    assert [m["url"] for m in cluster["members"]] == [SEED, COPY]
    assert {m["language"] for m in cluster["members"]} == {"ar"}
    assert all(m["title"] and m["first_seen"] for m in cluster["members"])
    assert cluster["size"] == 2
    assert json.loads(run("clusters", "--format", "json", "--min-size", "3").stdout) == []
    text = run("clusters")
    assert text.exit_code == 0 and COPY in text.stdout and "1 clusters" in text.stdout


def test_process_command_runs_pending_and_errors(cli_home: Settings) -> None:
    site = build_site(BASE)
    assert site.pages  # the sample site renders
    ids = archive(cli_home, page_fetch(ARABIC_ARTICLE_PATH), page_fetch(REPUBLISHED_ARTICLE_PATH))
    # As after a crash: both left pending; then one of them marked as failed.
    process_all(cli_home, ids[:1])
    with session_scope(cli_home.index_url) as session:
        session.execute(
            update(Capture)
            .where(Capture.id == ids[0])
            .values(process_state="error", version_id=None)
        )
    result = run("process", "--pending", "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["outcomes"] == {"new_article": 1}
    # The capture in error already has its version: running it again links, never duplicates.
    errors = run("process", "--all-errors", "--format", "json")
    assert errors.exit_code == 0, errors.output
    assert json.loads(errors.stdout)["reset_errors"] == 1
    assert json.loads(errors.stdout)["outcomes"] == {"unchanged": 1}
    assert json.loads(run("process", "--capture", str(ids[1]), "-f", "json").stdout)[
        "outcomes"
    ] == {"already_done": 1}
    nothing = run("process")
    assert nothing.exit_code == 0 and "Nothing to process" in nothing.stdout
    unknown = run("process", "--capture", "999999")
    assert unknown.exit_code == 1 and "no capture 999999" in unknown.output
    assert cluster_count(cli_home) == 1


# --- two workers at once (PostgreSQL) -------------------------------------------------------


@pytest.mark.pg
@pytest.mark.redis
def test_concurrent_copies_join_one_cluster(pg_url: str, redis_db: str, tmp_path: object) -> None:
    """Two threads process the seed and its copy at the same moment, each in its own
    transaction; the shared Redis index sees one before the other commits."""
    forget_indexes()
    settings = load_settings(home=f"{tmp_path}/data", database_url=pg_url, redis_url=redis_db)
    migrate(settings.index_url)
    ids = archive(settings, page_fetch(ARABIC_ARTICLE_PATH), page_fetch(REPUBLISHED_ARTICLE_PATH))
    barrier = threading.Barrier(2)
    results: dict[int, str] = {}

    def work(capture_id: int) -> None:
        barrier.wait()
        results[capture_id] = process_capture(capture_id, settings).result

    threads = [threading.Thread(target=work, args=(capture_id,)) for capture_id in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results.values()) == ["new_article", "new_article"]
    clusters = cluster_of(settings)
    assert clusters[SEED] is not None and clusters[SEED] == clusters[COPY]
    forget_indexes()
