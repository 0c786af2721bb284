"""The index database: what is in the WARC files, arranged for retrieval.

The WARC files are the source of truth; every row here can be rebuilt from them
(``newsvault reindex``). The schema is the same on SQLite and PostgreSQL; migrations live in
``storage/migrations`` (Alembic).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the index; use a UTC-aware one")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime,
        dict[str, Any]: JSON,
        list[Any]: JSON,
    }


class Site(Base):
    __tablename__ = "sites"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    definition: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CrawlJob(Base):
    """One crawl of one site (or of a bare URL)."""

    __tablename__ = "crawl_jobs"
    __table_args__ = (Index("ix_crawl_jobs_site_state", "site_id", "state"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"))
    # The site's name or the start URL: what the user asked to crawl.
    target: Mapped[str] = mapped_column(String(2000))
    # queued | running | done | failed | skipped
    state: Mapped[str] = mapped_column(String(20), default="queued")
    started_at: Mapped[datetime | None] = mapped_column()
    finished_at: Mapped[datetime | None] = mapped_column()
    lease_until: Mapped[datetime | None] = mapped_column()
    # (schedule entry, scheduled time) for schedule-fired crawls: a second beat cannot fire twice.
    schedule_key: Mapped[str | None] = mapped_column(String(300), unique=True)
    stats: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    message: Mapped[str | None] = mapped_column(Text)
    pid: Mapped[int | None] = mapped_column(Integer)
    # Columns of migration 0003 (scheduled operation).
    # crawl | scheduled | recrawl: what asked for this crawl.
    kind: Mapped[str] = mapped_column(String(20), default="crawl", server_default="crawl")
    queued_at: Mapped[datetime | None] = mapped_column(default=utcnow)
    # "host:pid" of the worker holding the lease (tasks/leases.py).
    lease_owner: Mapped[str | None] = mapped_column(String(200))
    # 1 for a first run; a restart after an expired lease is a new job with attempt + 1.
    attempt: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    restart_of: Mapped[int | None] = mapped_column(Integer)
    # Health flags computed at the end of the crawl (tasks/health.py).
    health: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    site: Mapped[Site | None] = relationship()


class WarcFile(Base):
    __tablename__ = "warc_files"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Path relative to the WARC folder, final name (without ``.open``).
    name: Mapped[str] = mapped_column(String(500), unique=True)
    # open | closed | recovered
    state: Mapped[str] = mapped_column(String(20), default="open")
    size: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column()


class Capture(Base):
    """One archived HTTP exchange: a WARC response (or revisit) record and what it held."""

    __tablename__ = "captures"
    __table_args__ = (
        UniqueConstraint("warc_name", "warc_offset", name="uq_capture_location"),
        Index("ix_captures_canonical_time", "canonical_url", "fetched_at"),
        Index("ix_captures_url_time", "url", "fetched_at"),
        Index("ix_captures_process_state", "process_state"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    crawl_job_id: Mapped[int | None] = mapped_column(ForeignKey("crawl_jobs.id"))
    url: Mapped[str] = mapped_column(Text)
    canonical_url: Mapped[str] = mapped_column(Text)
    fetched_at: Mapped[datetime] = mapped_column()
    status: Mapped[int] = mapped_column(Integer)
    mime_type: Mapped[str | None] = mapped_column(String(200))
    content_length: Mapped[int] = mapped_column(BigInteger, default=0)
    payload_digest: Mapped[str] = mapped_column(String(80))
    # WARC record id of the response or revisit record (``<urn:uuid:...>``).
    record_id: Mapped[str] = mapped_column(String(100), unique=True)
    # response | revisit
    record_type: Mapped[str] = mapped_column(String(20), default="response")
    # For revisits: the record whose payload this one repeats.
    refers_to_record_id: Mapped[str | None] = mapped_column(String(100))
    warc_name: Mapped[str] = mapped_column(String(500))
    warc_offset: Mapped[int] = mapped_column(BigInteger)
    warc_length: Mapped[int] = mapped_column(BigInteger)
    etag: Mapped[str | None] = mapped_column(String(500))
    last_modified: Mapped[str | None] = mapped_column(String(100))
    # What the crawler fetched this as: article | feed | sitemap | section | robots | page,
    # or requisite (loaded by a browser for a page)
    kind: Mapped[str] = mapped_column(String(20), default="page")
    # pending | done | skipped | error
    process_state: Mapped[str] = mapped_column(String(20), default="pending")
    process_note: Mapped[str | None] = mapped_column(Text)
    version_id: Mapped[int | None] = mapped_column(ForeignKey("versions.id", use_alter=True))
    # Migration 0003: when the reconciler last re-queued this pending capture.
    queued_at: Mapped[datetime | None] = mapped_column()
    # Migration 0005: a browser capture's rendered DOM (a ``resource`` record, urn:dom:URL),
    # which is what processing extracts from; the response record stays the raw page.
    dom_warc_name: Mapped[str | None] = mapped_column(String(500))
    dom_warc_offset: Mapped[int | None] = mapped_column(BigInteger)
    dom_warc_length: Mapped[int | None] = mapped_column(BigInteger)

    crawl_job: Mapped[CrawlJob | None] = relationship()


class FetchEvent(Base):
    """Something that happened during a crawl that is not a capture: a failed fetch, a refusal."""

    __tablename__ = "fetch_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    crawl_job_id: Mapped[int | None] = mapped_column(ForeignKey("crawl_jobs.id"), index=True)
    url: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    # dns | timeout | refused | robots | too_large | ssrf | connection | http | other
    kind: Mapped[str] = mapped_column(String(30))
    message: Mapped[str] = mapped_column(Text)


class Cluster(Base):
    """Articles on different URLs that carry the same story (near-duplicates)."""

    __tablename__ = "clusters"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Article(Base):
    """One article: everything archived under one canonical URL."""

    __tablename__ = "articles"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    canonical_url: Mapped[str] = mapped_column(Text, unique=True)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"))
    first_seen: Mapped[datetime] = mapped_column()
    last_seen: Mapped[datetime] = mapped_column()
    title: Mapped[str | None] = mapped_column(Text)
    language: Mapped[str | None] = mapped_column(String(20))
    version_count: Mapped[int] = mapped_column(Integer, default=0)
    current_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("versions.id", use_alter=True)
    )
    cluster_id: Mapped[int | None] = mapped_column(ForeignKey("clusters.id"), index=True)

    versions: Mapped[list[Version]] = relationship(
        back_populates="article", foreign_keys="Version.article_id", order_by="Version.number"
    )
    site: Mapped[Site | None] = relationship()


class Version(Base):
    """One distinct cleaned content of an article, numbered from 1."""

    __tablename__ = "versions"
    __table_args__ = (UniqueConstraint("article_id", "number", name="uq_version_number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id"))
    number: Mapped[int] = mapped_column(Integer)
    # The capture this version was first seen in (one version per capture at most).
    capture_id: Mapped[int] = mapped_column(ForeignKey("captures.id"), unique=True)
    captured_at: Mapped[datetime] = mapped_column()
    # sha256 of the matching key of title + text: equal keys mean "unchanged".
    content_hash: Mapped[str] = mapped_column(String(64), index=True)
    title: Mapped[str | None] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    html: Mapped[str | None] = mapped_column(Text)
    language: Mapped[str | None] = mapped_column(String(20))
    authors: Mapped[list[Any]] = mapped_column(JSON, default=list)
    published: Mapped[datetime | None] = mapped_column()
    published_raw: Mapped[str | None] = mapped_column(String(100))
    modified: Mapped[datetime | None] = mapped_column()
    meta: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    words_added: Mapped[int] = mapped_column(Integer, default=0)
    words_removed: Mapped[int] = mapped_column(Integer, default=0)
    minhash: Mapped[bytes | None] = mapped_column(LargeBinary)
    # Where the WARC conversion record for this version lives.
    warc_name: Mapped[str | None] = mapped_column(String(500))
    warc_offset: Mapped[int | None] = mapped_column(BigInteger)
    warc_length: Mapped[int | None] = mapped_column(BigInteger)
    record_id: Mapped[str | None] = mapped_column(String(100))

    article: Mapped[Article] = relationship(back_populates="versions", foreign_keys=[article_id])
