"""The command line as a user runs it: `extract` on standard input, `crawl` of a bare URL."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from newsvault.sample_site import ARABIC_ARTICLE_PATH, SampleSiteServer, build_site, seed_lines


def newsvault(
    *args: str, stdin: bytes = b"", env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[bytes]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("NEWSVAULT_")}
    return subprocess.run(
        [sys.executable, "-m", "newsvault", *args],
        input=stdin,
        capture_output=True,
        env={**base, **(env or {})},
        timeout=180,
    )


def test_extract_reads_a_page_from_standard_input() -> None:
    page = build_site("http://127.0.0.1:8741").pages[ARABIC_ARTICLE_PATH]
    result = newsvault(
        "extract",
        "--url",
        "http://127.0.0.1:8741" + ARABIC_ARTICLE_PATH,
        "--format",
        "json",
        stdin=page.body,
    )
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    lines = seed_lines()
    assert document["title"] == lines[0]
    assert document["lead"] == lines[1]
    assert document["text"].split("\n") == lines[2:]
    assert document["language"] == "ar"
    assert document["encoding"] == "utf-8"


def test_extract_of_a_legacy_arabic_encoding() -> None:
    html = (
        f"<html lang='ar'><head><meta charset='windows-1256'><title>t</title></head><body>"
        f"<article><h1>{seed_lines()[0]}</h1>"
        + "".join(f"<p>{line}</p>" for line in seed_lines()[2:])
        + "</article></body></html>"
    )
    result = newsvault("extract", "--format", "json", stdin=html.encode("cp1256"))
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["encoding"] in {"cp1256", "windows-1256"}
    assert document["text"].split("\n")[0] == seed_lines()[2]


def test_extract_says_why_a_page_is_not_an_article() -> None:
    result = newsvault(
        "extract", stdin=b"<html><body><nav><a href='/'>Home</a></nav></body></html>"
    )
    assert result.returncode == 1
    assert b"not an article:" in result.stderr
    assert b"Traceback" not in result.stderr


def test_extract_with_nothing_on_standard_input() -> None:
    result = newsvault("extract")
    assert result.returncode == 2
    assert b"no HTML on standard input" in result.stderr


@pytest.mark.slow
def test_crawl_a_url_with_zero_configuration(tmp_path: Path) -> None:
    env = {"NEWSVAULT_HOME": str(tmp_path), "NEWSVAULT_ALLOWED_NETWORKS": "127.0.0.0/8"}
    with SampleSiteServer(port=0) as server:
        result = newsvault(
            "crawl",
            server.url + "/",
            "--delay",
            "0",
            "--concurrency",
            "8",
            "--format",
            "json",
            env=env,
        )
    assert result.returncode == 0, result.stderr[-3000:]
    summary = json.loads(result.stdout)
    assert summary["state"] == "done"
    titles = {line["title"] for line in summary["articles_seen"]}
    assert seed_lines()[0] in titles
    assert summary["articles"] >= 7


@pytest.mark.slow
def test_crawl_refuses_private_addresses_unless_allowed(tmp_path: Path) -> None:
    with SampleSiteServer(port=0) as server:
        result = newsvault(
            "crawl", server.url + "/", "--format", "json", env={"NEWSVAULT_HOME": str(tmp_path)}
        )
        assert server.requests == []
    summary = json.loads(result.stdout)
    assert summary["captures_archived"] == 0
    assert any(line.startswith("ssrf:") for line in summary["error_lines"])


def test_crawl_of_an_unknown_name_is_a_clear_error(tmp_path: Path) -> None:
    result = newsvault("crawl", "no-such-site", env={"NEWSVAULT_HOME": str(tmp_path)})
    assert result.returncode == 2
    assert b"'no-such-site' is neither a site" in result.stderr


def test_status_in_embedded_mode_says_there_is_no_broker(tmp_path: Path) -> None:
    result = newsvault("status", "--format", "json", env={"NEWSVAULT_HOME": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["sites"] == []
    assert "embedded mode" in report["schedules_error"]


def test_worker_starts_over_after_dying_of_an_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # Mocked: Celery's worker and os.execv. The failure being recovered from (kombu stopping a
    # worker when Redis goes away with a late-acked task in flight) is a race that cannot be
    # triggered on demand; tests/test_celery_ops.py runs the real worker through a Redis loss.
    from celery.signals import worker_ready
    from typer.testing import CliRunner

    from newsvault import cli
    from tasks.celery_app import app as celery_app

    monkeypatch.setenv("NEWSVAULT_HOME", str(tmp_path))
    monkeypatch.setenv("NEWSVAULT_BROKER_URL", "redis://127.0.0.1:6379/9")
    monkeypatch.setattr(cli, "WORKER_RESTART_DELAY", 0.0)

    def ran_then_died(argv: list[str]) -> None:
        worker_ready.send(sender=None)
        raise SystemExit(1)

    def never_ready(argv: list[str]) -> None:
        raise SystemExit(1)

    restarts: list[list[str]] = []
    monkeypatch.setattr(os, "execv", lambda path, argv: restarts.append(argv))
    monkeypatch.setattr(celery_app, "worker_main", ran_then_died)
    result = CliRunner().invoke(cli.app, ["worker", "--queues", "process"])
    assert len(restarts) == 1 and restarts[0][0] == sys.executable
    assert "starting again" in result.output

    # A worker that never got going (bad configuration, say) exits instead of looping.
    monkeypatch.setattr(celery_app, "worker_main", never_ready)
    result = CliRunner().invoke(cli.app, ["worker", "--queues", "process"])
    assert result.exit_code == 1 and len(restarts) == 1
