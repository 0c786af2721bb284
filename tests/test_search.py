"""Full-text search on the matching key, on SQLite (FTS5) and PostgreSQL (tsvector + GIN)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update
from typer.testing import CliRunner

from newsvault.config import Settings, load_settings
from newsvault.sample_site import ARABIC_ARTICLE_PATH, EDITED_ARTICLE_PATH, REPUBLISHED_ARTICLE_PATH
from storage.db import migrate, session_scope
from storage.models import Article, Site
from storage.search import BadQuery, rebuild_search_index, search, snippet_html
from tests.test_pipeline import BASE, T0, archive_and_process, page_fetch

SEED = BASE + ARABIC_ARTICLE_PATH
COPY = BASE + REPUBLISHED_ARTICLE_PATH
EDITED = BASE + EDITED_ARTICLE_PATH


def _fill(settings: Settings) -> Settings:
    from tasks.lsh import forget_indexes, near_duplicate_index

    forget_indexes()
    near_duplicate_index(settings)  # opened outside the processing transaction
    archive_and_process(
        settings,
        page_fetch(ARABIC_ARTICLE_PATH),
        page_fetch(REPUBLISHED_ARTICLE_PATH),
        page_fetch(EDITED_ARTICLE_PATH),
    )
    archive_and_process(
        settings, page_fetch(EDITED_ARTICLE_PATH, edition=2, at=T0 + timedelta(days=1))
    )
    with session_scope(settings.index_url) as session:
        site = Site(name="ledger", definition={"name": "ledger"})
        session.add(site)
        session.flush()
        session.execute(
            update(Article).where(Article.canonical_url == SEED).values(site_id=site.id)
        )
    return settings


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.pg)])
def index(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    if request.param == "sqlite":
        yield _fill(request.getfixturevalue("settings"))
        return
    pg_url = request.getfixturevalue("pg_url")
    settings = load_settings(home=tmp_path / "data", database_url=pg_url)
    settings.ensure_home()
    migrate(settings.index_url)
    yield _fill(settings)


def urls(settings: Settings, query: str, **filters: object) -> list[str]:
    with session_scope(settings.index_url) as session:
        return [hit.url for hit in search(session, query, **filters).results]  # type: ignore[arg-type]


def test_the_republished_spelling_finds_the_seed_article(index: Settings) -> None:
    with session_scope(index.index_url) as session:
        hits = search(session, "قآني").results
    assert {hit.url for hit in hits} == {SEED, COPY}
    seed = next(hit for hit in hits if hit.url == SEED)
    # The snippet shows the page's own spelling, marked.
    assert "<mark>قاآني" in seed.snippet_html
    assert seed.language == "ar" and seed.version == 1 and seed.site == "ledger"
    assert seed.published is not None and seed.published.year == 2021


@pytest.mark.parametrize("query", ["قَاآنِي", "قــآني", "إسماعيل قآني", "  قآني،  "])
def test_diacritics_tatweel_and_punctuation_in_the_query_do_not_matter(
    index: Settings, query: str
) -> None:
    assert SEED in urls(index, query)


def test_filters(index: Settings) -> None:
    assert urls(index, "قآني", site="ledger") == [SEED]
    assert urls(index, "قآني", site="nowhere") == []
    assert urls(index, "قآني", lang="en") == []
    assert urls(index, "skylark", lang="en") == [EDITED]
    # The seed story was published in May 2021.
    assert urls(index, "قآني", since=datetime(2021, 5, 1, tzinfo=UTC), site="ledger") == [SEED]
    assert urls(index, "قآني", until=datetime(2021, 1, 1, tzinfo=UTC)) == []


def test_one_hit_per_article_with_its_newest_matching_version(index: Settings) -> None:
    with session_scope(index.index_url) as session:
        (hit,) = search(session, "skylark profit").results
        assert (hit.url, hit.version) == (EDITED, 2)
        (correction,) = search(session, "Correction").results
        assert "<mark>Correction:</mark>" in correction.snippet_html


def test_cursor_pages_through_every_hit_once(index: Settings) -> None:
    with session_scope(index.index_url) as session:
        first = search(session, "قآني", limit=1)
        assert len(first.results) == 1 and first.next_cursor
        second = search(session, "قآني", limit=1, cursor=first.next_cursor)
        assert second.next_cursor is None
    assert {first.results[0].url, second.results[0].url} == {SEED, COPY}


def test_rebuild_gives_the_same_answers(index: Settings) -> None:
    before = urls(index, "قآني")
    with session_scope(index.index_url) as session:
        assert rebuild_search_index(session) == 4
    assert urls(index, "قآني") == before


@pytest.mark.parametrize("query", ["", "  ", "...", "؟!"])
def test_a_query_without_words_is_refused(settings: Settings, query: str) -> None:
    with session_scope(settings.index_url) as session, pytest.raises(BadQuery):
        search(session, query)


def test_fts_syntax_in_the_query_is_just_words(index: Settings) -> None:
    # No syntax error reaches the user: operators' punctuation is dropped like any other,
    # so each of these finds exactly what the bare word finds.
    assert urls(index, "skylark") == [EDITED]
    for query in ['"skylark', "skylark*", "-skylark", "(skylark)", "^skylark", "skylark:"]:
        assert urls(index, query) == [EDITED], query
    # Operator words are words too: every one must be in the page, so nothing has them all.
    assert urls(index, "skylark OR nowhereword") == []
    assert urls(index, "col:skylark") == urls(index, "col skylark")
    assert urls(index, "NEAR(skylark nowhereword)") == []


def test_snippet_escapes_and_marks_original_words() -> None:
    body = "<b>Tag</b> then قاآني، said & left"
    snippet = snippet_html(body, ["قاني"])
    assert snippet.startswith("&lt;b&gt;Tag&lt;/b&gt;")
    assert "<mark>قاآني،</mark>" in snippet and "&amp;" in snippet


def test_search_command(index: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    from newsvault.cli import app

    monkeypatch.setenv("NEWSVAULT_HOME", str(index.home))
    if index.database_url:
        monkeypatch.setenv("NEWSVAULT_DATABASE_URL", index.database_url)
    runner = CliRunner()
    result = runner.invoke(app, ["search", "قآني", "--lang", "ar", "--format", "json"])
    assert result.exit_code == 0, result.output
    found = json.loads(result.stdout)["results"]
    assert {hit["url"] for hit in found} == {SEED, COPY}
    text = runner.invoke(app, ["search", "skylark", "--since", "2025-01-01"])
    assert text.exit_code == 0 and "Skylark" in text.stdout
    assert runner.invoke(app, ["search", "nothing-like-this-anywhere"]).exit_code == 1
    assert runner.invoke(app, ["search", "x", "--since", "soon"]).exit_code == 2


def test_the_pipeline_indexes_new_versions(settings: Settings) -> None:
    from sqlalchemy import text

    _fill(settings)
    with session_scope(settings.index_url) as session:
        indexed = session.scalar(
            text("SELECT count(*) FROM search_fts WHERE search_fts MATCH 'skylark'")
        )
        assert indexed == 2  # both versions of the edited article
        assert session.scalar(select(Article.id).where(Article.canonical_url == EDITED))
