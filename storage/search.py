"""Full-text search over cleaned versions.

Documents and queries both go through ``vocabulary.normalize.matching_key``, so a search for
"قآني" finds a page that spells it "قاآني", and diacritics, tatweel, case, digit script and
punctuation never matter. The backends only ever see folded tokens:

- SQLite (embedded): a contentless FTS5 table ``search_fts``, rowid = version id;
- PostgreSQL: ``search_documents`` with a GIN-indexed tsvector built from the key's tokens
  (``array_to_tsvector``: the same as the ``simple`` configuration on the key, but without
  depending on the database locale's idea of which characters are letters).

Every version is indexed, so words an editor removed stay findable; results are one hit per
article (its newest matching version), newest first. Ordering by version id is what both
backends can walk in index order, which keeps one-word queries fast over 100,000 articles and
gives a stable keyset cursor. Snippets are cut from the stored text, so the reader sees the
page's own spelling, with the words that matched in ``<mark>``.
"""

from __future__ import annotations

import base64
import html
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    Boolean,
    ColumnElement,
    Select,
    column,
    func,
    literal_column,
    select,
    table,
    text,
)
from sqlalchemy.orm import Session

from storage.models import Article, Site, Version
from vocabulary.normalize import matching_key

__all__ = [
    "BadQuery",
    "SearchHit",
    "SearchPage",
    "document_key",
    "index_documents",
    "query_tokens",
    "rebuild_search_index",
    "search",
    "snippet_html",
]

MAX_LIMIT = 200
MAX_QUERY_TOKENS = 16

# A select of any columns (SQLAlchemy 2.1 types selects by their column tuple).
AnySelect = Select[*tuple[Any, ...]]

_fts = table("search_fts", column("rowid"), column("key"))
_documents = table(
    "search_documents", column("version_id"), column("article_id"), column("document")
)


class BadQuery(ValueError):
    """The query, cursor or limit cannot be searched; the message says why."""


@dataclass(frozen=True)
class SearchHit:
    article_id: int
    url: str
    title: str | None
    snippet_html: str  # escaped text; only <mark> is markup
    site: str | None
    published: datetime | None
    captured_at: datetime
    language: str | None
    version: int


@dataclass(frozen=True)
class SearchPage:
    results: list[SearchHit]
    next_cursor: str | None


# --- indexing ------------------------------------------------------------------------------


def document_key(title: str | None, body: str) -> str:
    """What the index holds for a version: the matching key of its title and text."""
    return matching_key(f"{title or ''}\n{body}")


def index_documents(session: Session, rows: Iterable[tuple[int, int, str]]) -> int:
    """Bulk-index ``(version_id, article_id, key)`` rows; returns how many were written."""
    batch = list(rows)
    if not batch:
        return 0
    if _dialect(session) == "sqlite":
        session.execute(
            text("INSERT INTO search_fts(rowid, key) VALUES (:id, :key)"),
            [{"id": version_id, "key": key} for version_id, _, key in batch],
        )
    else:
        session.execute(
            text(
                "INSERT INTO search_documents (version_id, article_id, document) "
                "VALUES (:id, :article, array_to_tsvector(CAST(:tokens AS text[]))) "
                "ON CONFLICT (version_id) DO UPDATE SET document = excluded.document"
            ),
            [
                {"id": version_id, "article": article_id, "tokens": sorted(set(key.split()))}
                for version_id, article_id, key in batch
            ],
        )
    return len(batch)


def rebuild_search_index(session: Session, *, batch_size: int = 2000) -> int:
    """Drop every search document and index all versions again (``newsvault reindex``)."""
    if _dialect(session) == "sqlite":
        # The only way to empty a contentless FTS5 table before SQLite 3.43.
        session.execute(text("INSERT INTO search_fts(search_fts) VALUES ('delete-all')"))
    else:
        session.execute(text("DELETE FROM search_documents"))
    total = 0
    last_id = 0
    while True:
        # Plain columns and keyset batches: runs inside a migration, and over millions of rows.
        rows = session.execute(
            select(Version.id, Version.article_id, Version.title, Version.text)
            .where(Version.id > last_id)
            .order_by(Version.id)
            .limit(batch_size)
        ).all()
        if not rows:
            return total
        total += index_documents(
            session, ((row.id, row.article_id, document_key(row.title, row.text)) for row in rows)
        )
        last_id = rows[-1].id


# --- searching -----------------------------------------------------------------------------


def query_tokens(query: str) -> list[str]:
    """The query's folded words, in order, without repeats."""
    tokens = list(dict.fromkeys(matching_key(query).split()))
    if not tokens:
        raise BadQuery("the query has no words to search for")
    if len(tokens) > MAX_QUERY_TOKENS:
        raise BadQuery(f"the query has more than {MAX_QUERY_TOKENS} words")
    return tokens


def search(
    session: Session,
    query: str,
    *,
    site: str | None = None,
    lang: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 20,
    cursor: str | None = None,
) -> SearchPage:
    """Articles whose versions contain every word of ``query``, newest first.

    ``since``/``until`` bound the article's date: its published date when known, else when it
    was captured. ``cursor`` is the ``next_cursor`` of the previous page.
    """
    if not 1 <= limit <= MAX_LIMIT:
        raise BadQuery(f"limit must be between 1 and {MAX_LIMIT}")
    tokens = query_tokens(query)
    base = _base_query(session, tokens, site=site, lang=lang, since=since, until=until)
    key_column = _key_column(session)
    order_key = key_column
    if _dialect(session) != "sqlite":
        # psycopg prepares a statement run five times; PostgreSQL's generic plan for it
        # cannot see the words or filters and scans the whole table. Plan every search anew.
        session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
    if _dialect(session) != "sqlite" and _few_matches(session, tokens):
        # PostgreSQL's estimate for a rare word is far too high, so it walks the primary key
        # backwards hoping to meet matches soon and reads the whole table. "+ 0" hides the
        # key's index: the GIN bitmap fetches the few matches and a top-N sort orders them.
        order_key = key_column + literal_column("0")
    after = _decode_cursor(cursor)
    hits: list[SearchHit] = []
    last_shown = 0
    batch = limit * 2 + 1
    # Fetch in batches: older versions of an article already shown are skipped, so a page
    # may need more rows than ``limit``.
    while True:
        page_query = base.order_by(order_key.desc()).limit(batch)
        if after is not None:
            page_query = page_query.where(key_column < after)
        rows = session.execute(page_query).all()
        for row in rows:
            after = row.version_id
            if _superseded(session, base, key_column, row):
                continue
            if len(hits) == limit:
                # One more hit exists: the next page starts after the last one shown.
                return SearchPage(hits, _encode_cursor(last_shown))
            hits.append(_hit(row, tokens))
            last_shown = row.version_id
        if len(rows) < batch:
            return SearchPage(hits, None)


def _base_query(
    session: Session,
    tokens: Sequence[str],
    *,
    site: str | None,
    lang: str | None,
    since: datetime | None,
    until: datetime | None,
) -> AnySelect:
    key_column = _key_column(session)
    query: AnySelect = (
        select(
            Version.id.label("version_id"),
            Version.article_id,
            Version.number,
            Version.title,
            Version.text,
            Version.language,
            Version.published,
            Version.captured_at,
            Article.canonical_url,
            Article.version_count,
            Site.name.label("site"),
        )
        .select_from(_index_table(session))
        .join(Version, Version.id == key_column)
        .join(Article, Article.id == Version.article_id)
        .outerjoin(Site, Site.id == Article.site_id)
        .where(_match(session, tokens))
    )
    if site is not None:
        query = query.where(Site.name == site)
    if lang is not None:
        query = query.where(Version.language == lang)
    day = func.coalesce(Version.published, Version.captured_at)
    if since is not None:
        query = query.where(day >= since)
    if until is not None:
        query = query.where(day <= until)
    return query


def _few_matches(session: Session, tokens: Sequence[str], threshold: int = 1000) -> bool:
    """Whether at most ``threshold`` documents match (PostgreSQL; one GIN bitmap, capped)."""
    probe = (
        select(literal_column("1"))
        .select_from(_documents)
        .where(_match(session, tokens))
        .limit(threshold + 1)
        .subquery()
    )
    count = session.scalar(select(func.count()).select_from(probe)) or 0
    return count <= threshold


def _superseded(session: Session, base: AnySelect, key_column: Any, row: Any) -> bool:
    """True when a newer version of the same article matches too (and is the one shown)."""
    if row.number >= row.version_count:
        return False
    newer = base.where(Version.article_id == row.article_id, key_column > row.version_id)
    return session.execute(newer.limit(1)).first() is not None


def _hit(row: Any, tokens: Sequence[str]) -> SearchHit:
    return SearchHit(
        article_id=row.article_id,
        url=row.canonical_url,
        title=row.title,
        snippet_html=snippet_html(row.text, tokens),
        site=row.site,
        published=row.published,
        captured_at=row.captured_at,
        language=row.language,
        version=row.number,
    )


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def _index_table(session: Session) -> Any:
    return _fts if _dialect(session) == "sqlite" else _documents


def _key_column(session: Session) -> Any:
    return _fts.c.rowid if _dialect(session) == "sqlite" else _documents.c.version_id


def _match(session: Session, tokens: Sequence[str]) -> ColumnElement[bool]:
    if _dialect(session) == "sqlite":
        # Each token a quoted FTS5 string: folded words can still hold FTS5 syntax ("and", "-").
        expression = " ".join('"' + token.replace('"', '""') + '"' for token in tokens)
        return literal_column("search_fts").op("MATCH", return_type=Boolean)(expression)
    # A tsquery literal of exact lexemes: no parser or dictionary touches the folded tokens.
    expression = " & ".join(
        "'" + token.replace("\\", "\\\\").replace("'", "''") + "'" for token in tokens
    )
    # Inlined, not bound: psycopg prepares a statement run five times, and PostgreSQL's
    # generic plan for an unknown tsquery walks the whole table. A literal is planned for
    # its own words. Quotes are doubled for SQL; the tokens hold no control characters.
    sql = "'" + expression.replace("'", "''") + "'::tsquery"
    return _documents.c.document.op("@@", return_type=Boolean)(literal_column(sql))


def _encode_cursor(version_id: int) -> str:
    raw = json.dumps({"v": version_id}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str | None) -> int | None:
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value = json.loads(base64.urlsafe_b64decode(padded.encode()))["v"]
    except (ValueError, KeyError, TypeError):
        raise BadQuery("cursor is not one this server gave out") from None
    if not isinstance(value, int) or value < 0:
        raise BadQuery("cursor is not one this server gave out")
    return value


# --- snippets ------------------------------------------------------------------------------

_WORD = re.compile(r"\S+")


@lru_cache(maxsize=65536)
def _word_tokens(word: str) -> frozenset[str]:
    return frozenset(matching_key(word).split())


def snippet_html(body: str, tokens: Sequence[str], *, before: int = 12, after: int = 24) -> str:
    """A window of ``body`` around the first match, escaped, with matched words in ``<mark>``.

    Each original word is folded on its own and compared with the query's tokens, so the
    snippet shows the page's spelling ("قاآني") for the query's ("قآني").
    """
    wanted = set(tokens)
    words = _WORD.findall(body)
    first = next((i for i, word in enumerate(words) if _word_tokens(word) & wanted), 0)
    start = max(0, first - before)
    end = min(len(words), first + after)
    parts = []
    for word in words[start:end]:
        escaped = html.escape(word)
        parts.append(f"<mark>{escaped}</mark>" if _word_tokens(word) & wanted else escaped)
    prefix = "… " if start > 0 else ""
    suffix = " …" if end < len(words) else ""
    return prefix + " ".join(parts) + suffix
