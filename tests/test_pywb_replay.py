"""pywb, given newsvault's WARC files as a collection, replays every capture byte for byte.

Real parts: pywb's own `wb-manager` indexes the files and its `wayback` server replays them
over HTTP on 127.0.0.1. pywb lives in .venv-pywb (scripts/pywb.sh): it pins library versions
newsvault's environment cannot share.
"""

from __future__ import annotations

import gzip
import os
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from newsvault.config import Settings
from newsvault.sample_site import ARABIC_ARTICLE_PATH, EDITED_ARTICLE_PATH, build_site
from storage.archive import Archive
from storage.fetch import Fetch

pytestmark = pytest.mark.slow

PYWB = Path(__file__).parent.parent / ".venv-pywb" / "bin"
BASE = "http://127.0.0.1:8741"


def _pywb_or_skip() -> None:
    if (PYWB / "wayback").exists():
        return
    message = "pywb is not installed: run scripts/pywb.sh"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _fetches() -> list[Fetch]:
    site = build_site(BASE)
    fetches = []
    for n, (path, gzipped) in enumerate(
        [(ARABIC_ARTICLE_PATH, True), (EDITED_ARTICLE_PATH, False), ("/feed.xml", False)]
    ):
        page = site.pages[path]
        body = gzip.compress(page.body, mtime=0) if gzipped else page.body
        headers = [("Content-Type", page.content_type), *page.headers.items()]
        if gzipped:
            headers.append(("Content-Encoding", "gzip"))
        fetches.append(
            Fetch(
                url=BASE + path,
                canonical_url=BASE + path,
                status=200,
                response_headers=headers,
                body=body,
                fetched_at=datetime(2026, 11, 1, 12, n, tzinfo=UTC),
                kind="article",
            )
        )
    return fetches


@pytest.fixture
def wayback(settings: Settings, tmp_path: Path) -> Iterator[tuple[str, list[Fetch]]]:
    _pywb_or_skip()
    fetches = _fetches()
    with Archive(settings) as archive:
        for fetch in fetches:
            archive.add(fetch)
    root = tmp_path / "pywb"
    root.mkdir()
    files = sorted(str(p) for p in settings.warc_dir.glob("*.warc.gz"))
    subprocess.run([PYWB / "wb-manager", "init", "news"], cwd=root, check=True, capture_output=True)
    subprocess.run(
        [PYWB / "wb-manager", "add", "news", *files], cwd=root, check=True, capture_output=True
    )
    port = _free_port()
    server = subprocess.Popen(
        [PYWB / "wayback", "--port", str(port), "--bind", "127.0.0.1"],
        cwd=root,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.2)
        else:
            pytest.fail("pywb's wayback server did not start")
        yield f"http://127.0.0.1:{port}/news", fetches
    finally:
        server.terminate()
        server.wait(timeout=20)


def test_pywb_replays_every_capture_with_the_exact_payload(
    wayback: tuple[str, list[Fetch]], settings: Settings
) -> None:
    collection, fetches = wayback
    for fetch in fetches:
        timestamp = fetch.fetched_at.strftime("%Y%m%d%H%M%S")
        request = urllib.request.Request(
            f"{collection}/{timestamp}id_/{fetch.url}", headers={"Accept-Encoding": "gzip"}
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            replayed = response.read()
            encoding = response.headers.get("Content-Encoding")
        # pywb may pass the archived gzip through or decode it; either way, the same payload.
        archived_gzip = fetch.header("Content-Encoding") == "gzip"
        expected = gzip.decompress(fetch.body) if archived_gzip and not encoding else fetch.body
        assert replayed == expected, fetch.url
