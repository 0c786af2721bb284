"""The whole flow, as a newcomer runs it: `newsvault demo` twice, then retrieval commands.

Real parts only: the sample site over HTTP on 127.0.0.1, Scrapy in its own process, WARC
files on disk, the SQLite index, the newsvault command line as a subprocess.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import func, select

from newsvault.sample_site import ARABIC_ARTICLE_PATH, SampleSiteServer, seed_lines
from storage.db import session_scope
from storage.models import Capture, Version

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class DemoRuns:
    home: Path
    port: int
    env: dict[str, str]
    first: subprocess.CompletedProcess[str]
    second: subprocess.CompletedProcess[str]
    versions_after_first: int
    captures_after_first: int

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def index_url(self) -> str:
        return f"sqlite:///{self.home / 'index.sqlite3'}"

    def newsvault(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "newsvault", *args],
            capture_output=True,
            text=True,
            env=self.env,
            timeout=120,
        )

    def newsvault_bytes(self, *args: str) -> bytes:
        result = subprocess.run(
            [sys.executable, "-m", "newsvault", *args],
            capture_output=True,
            env=self.env,
            timeout=120,
            check=True,
        )
        return result.stdout


def _count(index_url: str, model: type) -> int:
    with session_scope(index_url) as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoRuns]:
    home = tmp_path_factory.mktemp("demo") / "data"
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSVAULT_")}
    env.update(NEWSVAULT_HOME=str(home), NEWSVAULT_SAMPLE_SITE_PORT=str(port), COLUMNS="200")
    command = [sys.executable, "-m", "newsvault", "demo"]
    first = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
    assert first.returncode == 0, first.stdout + first.stderr
    index_url = f"sqlite:///{home / 'index.sqlite3'}"
    versions, captures = _count(index_url, Version), _count(index_url, Capture)
    second = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
    yield DemoRuns(home, port, env, first, second, versions, captures)


def test_demo_prints_a_summary_and_next_steps(demo: DemoRuns) -> None:
    out = demo.first.stdout
    for heading in ("pages fetched", "captures archived", "articles", "new versions", "errors"):
        assert heading in out
    assert "Next, try:" in out
    assert "newsvault show" in out
    assert seed_lines()[0][:30] in out  # the Arabic title is listed


def test_seed_article_comes_back_exactly(demo: DemoRuns) -> None:
    url = demo.base_url + ARABIC_ARTICLE_PATH
    result = demo.newsvault("show", url, "--format", "json")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    lines = seed_lines()
    assert document["title"] == lines[0]
    assert document["text"].split("\n") == lines[2:]
    assert document["language"] == "ar"
    assert document["version"] == 1
    assert document["published"].startswith("2021-05-15T14:00:00")
    assert {"url", "captured_at"} <= document.keys()


def test_republished_copy_joins_the_seed_cluster(demo: DemoRuns) -> None:
    url = demo.base_url + ARABIC_ARTICLE_PATH
    document = json.loads(demo.newsvault("show", url, "--format", "json").stdout)
    assert len(document["cluster"]) == 1
    assert "/ar/region/" in document["cluster"][0]


def test_articles_lists_every_article_once(demo: DemoRuns) -> None:
    result = demo.newsvault("articles", "--format", "json")
    assert result.returncode == 0, result.stderr
    listed = json.loads(result.stdout)
    assert len(listed) >= 6
    assert len({a["url"] for a in listed}) == len(listed)
    assert all(a["versions"] == 1 for a in listed)
    assert {a["language"] for a in listed} >= {"ar", "en"}


def test_raw_payload_is_the_bytes_the_server_sent(demo: DemoRuns) -> None:
    url = demo.base_url + ARABIC_ARTICLE_PATH
    archived = demo.newsvault_bytes("show", url, "--raw")
    headers = demo.newsvault_bytes("show", url, "--raw", "--headers")
    assert headers.endswith(archived)
    sent_encoding = b"content-encoding: gzip" in headers.lower()
    # The demo's server is gone; the same site on the same port serves the same bytes.
    with SampleSiteServer(port=demo.port):
        request = urllib.request.Request(url, headers={"Accept-Encoding": "gzip, deflate"})
        with urllib.request.urlopen(request) as response:
            served = response.read()
            served_encoding = response.headers.get("Content-Encoding") == "gzip"
    assert sent_encoding == served_encoding
    assert archived == served


def test_second_run_adds_no_version_for_unchanged_pages(demo: DemoRuns) -> None:
    assert demo.second.returncode == 0, demo.second.stdout + demo.second.stderr
    assert _count(demo.index_url, Version) == demo.versions_after_first
    assert _count(demo.index_url, Capture) > demo.captures_after_first
    with session_scope(demo.index_url) as session:
        revisits = session.scalar(
            select(func.count(Capture.id)).where(Capture.record_type == "revisit")
        )
    assert revisits and revisits >= demo.versions_after_first


def test_every_warc_file_passes_warcio_check(demo: DemoRuns) -> None:
    files = sorted((demo.home / "warcs").glob("*.warc.gz"))
    assert files, "the demo wrote no WARC file"
    assert not list((demo.home / "warcs").glob("*.open")), "a WARC file was left open"
    warcio = shutil.which("warcio", path=str(Path(sys.executable).parent))
    assert warcio is not None
    result = subprocess.run([warcio, "check", *map(str, files)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_show_unknown_url_is_a_clear_error(demo: DemoRuns) -> None:
    result = demo.newsvault("show", "http://example.invalid/nothing")
    assert result.returncode == 1
    assert "no article archived at http://example.invalid/nothing" in result.stderr
    assert "Traceback" not in result.stderr


def test_show_bad_date_is_a_clear_error(demo: DemoRuns) -> None:
    url = demo.base_url + ARABIC_ARTICLE_PATH
    result = demo.newsvault("show", url, "--at", "last tuesday")
    assert result.returncode == 2
    assert "--at 'last tuesday' is not an ISO date" in result.stderr
