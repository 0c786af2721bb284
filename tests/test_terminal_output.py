"""Page text on the terminal is printed as it is, never read as rich markup (issue 15).

A real page whose title and paragraphs hold ``[/b]``, ``[bold red]x[/]``, ``[link=...]``,
emoji codes and backslashes before brackets goes through ``extract``, a real crawl (its
summary), and then ``articles``, ``show``, ``search``, ``snapshots``, ``diff`` and
``sites validate``: every command exits normally and shows the text verbatim. A property test
feeds arbitrary text to the output helpers.
"""

from __future__ import annotations

import html
import io
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console
from typer.testing import CliRunner, Result

from newsvault import output
from newsvault.cli import app
from newsvault.cli_text import plain_console, styled
from newsvault.summary import ArticleLine, JobSummary
from tests.crawl_fixtures import ScriptedSite, links_page

TITLE = "[/b] Breaking [bold]"
PARAGRAPHS = [
    "The council met on Tuesday [/b] and voted on the new flood barrier, which residents had "
    "asked for since the storms of last winter damaged more than two hundred homes.",
    "Engineers said the design [bold red]x[/] would hold back a surge of four metres, and that "
    "work could begin in the spring if the funding arrives on time.",
    "A campaign site [link=javascript:alert(1)]y[/link] collected eleven thousand signatures in "
    "favour of the plan during the last month of consultation.",
    "قال المتحدث [/b] إن المجلس [bold]وافق[/] على الخطة الجديدة بعد نقاش طويل استمر أكثر من "
    "أربع ساعات في القاعة الكبرى.",
    "Paths like C:\\data\\\\[/] and codes like :cat: or [#ff0000]red[/#ff0000] stay exactly as "
    "they are written in the archive.",
]
CORRECTION = "Correction [/i] the vote was [red]31 to 9[/red] not 30 to 10."
ARTICLE_PATH = "/news/a[1]/b"  # as linked; the crawler asks for /news/a%5B1%5D/b
WIDE = {"COLUMNS": "250"}  # no table cell folds a URL or title in two


def bracket_page(*, corrected: bool = False) -> bytes:
    paragraphs = PARAGRAPHS + ([CORRECTION] if corrected else [])
    body = "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    title = html.escape(TITLE)
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>{title}</title><meta property="og:type" content="article">
<meta property="og:title" content="{title}">
<meta property="article:published_time" content="2024-03-07T09:15:00Z"></head>
<body><article><h1>{title}</h1>{body}</article></body></html>""".encode()


def newsvault(
    *args: str, stdin: bytes = b"", env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """The command as a user runs it, in its own process."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("NEWSVAULT_")}
    return subprocess.run(
        [sys.executable, "-m", "newsvault", *args],
        input=stdin.decode(),
        capture_output=True,
        text=True,
        encoding="utf-8",
        env={**base, **WIDE, "PYTHONIOENCODING": "utf-8", **(env or {})},
        timeout=180,
    )


def test_extract_prints_the_page_text_verbatim() -> None:
    result = newsvault("extract", "--format", "text", stdin=bracket_page())
    assert result.returncode == 0, result.stderr
    lines = result.stdout.split("\n")
    assert lines[0] == TITLE
    for paragraph in PARAGRAPHS:
        assert paragraph in lines
    assert "MarkupError" not in result.stderr


# One archive for the commands below: two crawls of a site serving the page, corrected the
# second time. ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Crawled:
    home: Path
    base: str
    summaries: list[str]

    @property
    def article(self) -> str:
        return self.base + ARTICLE_PATH


def _serve_article(hit: int) -> tuple[int, dict[str, str], bytes]:
    return 200, {}, bracket_page(corrected=hit > 1)


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Crawled]:
    home = tmp_path_factory.mktemp("brackets") / "data"
    routes = {
        "/": (200, {}, links_page([ARTICLE_PATH])),
        "/news/a%5B1%5D/b": _serve_article,
        ARTICLE_PATH: _serve_article,
    }
    env = {"NEWSVAULT_HOME": str(home), "NEWSVAULT_ALLOWED_NETWORKS": "127.0.0.0/8"}
    with ScriptedSite(routes) as site:
        summaries = []
        for _ in range(2):
            result = newsvault("crawl", site.base + "/", "--delay", "0", env=env)
            assert result.returncode == 0, result.stderr[-3000:]
            summaries.append(result.stdout)
        yield Crawled(home, site.base, summaries)


@pytest.fixture
def cli(crawled: Crawled, monkeypatch: pytest.MonkeyPatch) -> Crawled:
    monkeypatch.setenv("NEWSVAULT_HOME", str(crawled.home))
    monkeypatch.setenv("NEWSVAULT_ALLOWED_NETWORKS", "127.0.0.0/8")
    monkeypatch.setenv("COLUMNS", WIDE["COLUMNS"])
    return crawled


def run(*args: str) -> Result:
    result = CliRunner().invoke(app, list(args))
    assert not isinstance(result.exception, Exception) or isinstance(
        result.exception, SystemExit
    ), result.exception
    return result


def test_the_crawl_summary_shows_title_and_url_verbatim(crawled: Crawled) -> None:
    first, second = crawled.summaries
    for summary in (first, second):
        assert TITLE in summary and crawled.article in summary
    assert "│ new " in first and "│ changed " in second


def test_articles_lists_the_title_verbatim(cli: Crawled) -> None:
    result = run("articles")
    assert result.exit_code == 0, result.output
    assert TITLE in result.stdout and cli.article in result.stdout


def test_show_prints_title_and_paragraphs_verbatim(cli: Crawled) -> None:
    result = run("show", cli.article)
    assert result.exit_code == 0, result.output
    lines = result.stdout.split("\n")
    assert lines[0] == TITLE
    for paragraph in [*PARAGRAPHS, CORRECTION]:
        assert paragraph in lines
    assert f"url: {cli.article}" in lines[1]


def test_search_shows_title_snippet_and_url_verbatim(cli: Crawled) -> None:
    result = run("search", "signatures")
    assert result.exit_code == 0, result.output
    assert TITLE in result.stdout and cli.article in result.stdout
    assert "[link=javascript:alert(1)]y[/link]" in result.stdout


def test_snapshots_and_diff_print_page_text_verbatim(cli: Crawled) -> None:
    snapshots = run("snapshots", cli.article)
    assert snapshots.exit_code == 0, snapshots.output
    # The timeline names the URL as fetched, brackets percent-encoded by the crawler.
    assert f"captures of {cli.base}/news/a%5B1%5D/b" in snapshots.stdout
    assert "changed" in snapshots.stdout
    diff = run("diff", cli.article)
    assert diff.exit_code == 0, diff.output
    assert diff.stdout.split("\n")[0] == cli.article
    # Inserted words are marked +[...] around bidi isolates; the words themselves are intact.
    for words in ("Correction [/i] the vote was [red]31", "9[/red] not 30"):
        assert words in diff.stdout


def test_sites_validate_prints_urls_and_errors_verbatim(cli: Crawled, tmp_path: Path) -> None:
    feed = cli.base + "/feed[/b].xml"
    definition = tmp_path / "brackets.toml"
    definition.write_text(
        f'name = "brackets"\n[start]\nfeeds = ["{feed}"]\nsections = ["{cli.article}"]\n'
    )
    result = run("sites", "validate", str(definition))
    assert result.exit_code == 1, result.output  # nothing found: a report, not a crash
    assert feed in result.stdout and cli.article in result.stdout
    assert "FAIL" in result.stdout and "answered HTTP 404" in result.stdout


def test_error_lines_of_a_crawl_summary_are_verbatim() -> None:
    lines = [
        "fetch: http://x/a[1]/b: refused [/b] by [bold]server[/]",
        "processing: http://x/c: note ends in a backslash \\\\",
    ]
    summary = JobSummary(
        job_id=3,
        state="failed",
        target="http://x/[/b]",
        pages_fetched=2,
        captures_archived=1,
        revisits=0,
        articles=1,
        new_versions=1,
        errors=2,
        robots_refused=0,
        not_articles=0,
        articles_seen=[ArticleLine(TITLE, "http://x/a[1]/b", "en", 1, "new")],
        error_lines=lines,
    )
    printed = _printed(lambda console: output.job_summary(console, summary))
    assert "crawl job 3: http://x/[/b] (failed)" in printed
    assert TITLE in printed and "http://x/a[1]/b" in printed
    for line in lines:
        assert f"• {line}" in printed.split("\n")


# Arbitrary text through the output helpers ------------------------------------------------------

# Brackets, slashes, backslashes, colons and equals signs often, anything printable besides:
# rich drops control characters on purpose (no terminal escapes from pages), so none here.
_printable = st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp"))
page_text = st.text(st.sampled_from("[]/\\:=#@ ab") | _printable, max_size=60)


def _printed(draw: Callable[[Console], None]) -> str:
    buffer = io.StringIO()
    draw(plain_console(file=buffer, width=10_000))
    return buffer.getvalue()


@settings(max_examples=200, deadline=None)
@given(page_text, page_text)
def test_styled_inserts_any_value_verbatim(first: str, second: str) -> None:
    text = styled("[bold red]error:[/] {a} [cyan]{b}[/]!", a=first, b=second, highlight=True)
    assert text.plain == f"error: {first} {second}!"


@settings(max_examples=200, deadline=None)
@given(page_text.filter(str.strip), st.lists(page_text.filter(str.strip), max_size=3))
def test_version_text_prints_any_title_and_paragraphs_verbatim(
    title: str, paragraphs: list[str]
) -> None:
    document = {"title": title, "text": "\n".join(paragraphs), "url": "http://x/[/b]"}
    printed = _printed(lambda console: output.version_text(console, document)).split("\n")
    assert printed[0] == title
    assert printed[1] == "url: http://x/[/b]"
    for paragraph in paragraphs:
        assert paragraph in printed


@settings(max_examples=100, deadline=None)
@given(page_text)
def test_error_lines_print_any_text_verbatim(message: str) -> None:
    from newsvault import cli_common

    buffer = io.StringIO()
    # A console of the same kind on a buffer: the shared one must keep following sys.stderr.
    with mock.patch.object(cli_common, "errors", plain_console(file=buffer)):
        cli_common.warn(message)
    assert buffer.getvalue() == f"warning: {message}\n"
