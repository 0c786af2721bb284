"""Health flags over crawl history: pure functions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tasks.health import (
    CrawlRecord,
    error_jump,
    evaluate,
    extraction_collapse,
    failing_repeatedly,
    stale_source,
)

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def record(hour: float, **values: object) -> CrawlRecord:
    base: dict[str, object] = {
        "job_id": int(hour),
        "finished_at": T0 + timedelta(hours=hour),
        "state": "done",
        "pages": 100,
        "errors": 2,
        "new_articles": 5,
        "article_pages": 40,
        "empty_extractions": 2,
        "mean_new_words": 600.0,
    }
    base.update(values)
    return CrawlRecord(**base)  # type: ignore[arg-type]


def test_healthy_history_has_no_flags() -> None:
    history = [record(h) for h in range(10)]
    assert evaluate(history, T0 + timedelta(hours=10)) == []


def test_stale_source_when_new_articles_stop_for_longer_than_usual() -> None:
    history = [record(h) for h in range(5)] + [record(h, new_articles=0) for h in range(5, 40)]
    flag = stale_source(history, T0 + timedelta(hours=40))
    assert flag is not None and flag.kind == "stale_source"
    # Within the usual rhythm (and the floor) it is not stale yet.
    assert stale_source(history[:8], T0 + timedelta(hours=7)) is None
    # Not enough history: no judgement.
    assert stale_source(history[:2], T0 + timedelta(days=30)) is None


def test_extraction_collapse_on_empty_or_shrunken_articles() -> None:
    history = [record(h) for h in range(6)]
    empty = [*history, record(6, empty_extractions=30)]
    flag = extraction_collapse(empty)
    assert flag is not None and "no article" in flag.message
    short = [*history, record(6, mean_new_words=120.0)]
    flag = extraction_collapse(short)
    assert flag is not None and "words" in flag.message
    assert extraction_collapse([*history, record(6, mean_new_words=500.0)]) is None


def test_error_jump() -> None:
    history = [record(h) for h in range(6)]
    assert error_jump([*history, record(6, errors=60)]) is not None
    assert error_jump([*history, record(6, errors=5)]) is None


def test_failing_repeatedly() -> None:
    history = [record(0), record(1, state="failed"), record(2, state="failed")]
    assert failing_repeatedly(history)
    assert not failing_repeatedly(history[:2])
