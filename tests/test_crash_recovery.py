"""SIGKILL a crawl mid-way: the next start recovers its `.open` WARC file and indexes it.

Real parts: the sample site over HTTP, `python -m newsvault.crawl_process` as its own process
killed with SIGKILL, WARC files on disk, the SQLite index.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
from sqlalchemy import select

from newsvault.config import Settings
from newsvault.demo import register_site, sample_site_definition
from newsvault.sample_site import SampleSiteServer
from storage.db import session_scope
from storage.models import Capture, WarcFile
from storage.recovery import recover_and_index
from storage.warc import iter_records, verify_file

pytestmark = pytest.mark.slow


def _crawl(settings: Settings) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSVAULT_")}
    env["NEWSVAULT_HOME"] = str(settings.home)
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "newsvault.crawl_process",
            "--site-file",
            str(settings.home / "sample.toml"),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _write_site(settings: Settings, base_url: str) -> None:
    definition = sample_site_definition(base_url)
    # Slow enough that the kill lands in the middle of the crawl.
    definition["politeness"] = {"delay": 0.3, "concurrency": 1}
    register_site(settings, definition)
    lines = [
        'name = "sample"',
        'allowed_networks = ["127.0.0.1/32"]',
        "[start]",
        f'feeds = ["{base_url}/feed.xml"]',
        f'sections = ["{base_url}/"]',
        "[politeness]",
        "delay = 0.3",
        "concurrency = 1",
    ]
    (settings.home / "sample.toml").write_text("\n".join(lines) + "\n")


def test_sigkill_mid_crawl_then_next_start_recovers_and_indexes(settings: Settings) -> None:
    with SampleSiteServer(port=0) as server:
        _write_site(settings, server.url)
        crawl = _crawl(settings)
        deadline = time.monotonic() + 60
        while len(server.requests) < 8 and time.monotonic() < deadline:
            time.sleep(0.1)
        os.kill(crawl.pid, signal.SIGKILL)
        crawl.wait(timeout=10)

    open_files = list(settings.warc_dir.glob("*.warc.gz.open"))
    assert open_files, "the killed crawl left no .open file"

    # The next start: a crawl (of a site now down) recovers the files before anything else.
    _crawl(settings).wait(timeout=120)
    assert not list(settings.warc_dir.glob("*.open"))
    assert recover_and_index(settings) == []  # nothing left to recover
    with session_scope(settings.index_url) as session:
        recovered = list(
            session.scalars(select(WarcFile.name).where(WarcFile.state == "recovered"))
        )
    assert sorted(recovered) == sorted(p.name.removesuffix(".open") for p in open_files)
    with session_scope(settings.index_url) as session:
        rows = list(session.scalars(select(Capture)))
        files = {f.name: f.state for f in session.scalars(select(WarcFile))}
    indexed = {(c.warc_name, c.warc_offset) for c in rows}
    written: set[tuple[str, int]] = set()
    for name in recovered:  # the crawl's file, and the file of versions processed inline
        path = settings.warc_dir / name
        assert verify_file(path) == []
        assert files[name] == "recovered"
        written |= {
            (name, r.offset) for r in iter_records(path) if r.rec_type in ("response", "revisit")
        }
    # Every capture written before the kill is readable and indexed ...
    assert written and written <= indexed
    # ... and nothing is indexed that is not in a WARC file.
    for capture in rows:
        path = settings.warc_dir / capture.warc_name
        assert capture.warc_offset + capture.warc_length <= path.stat().st_size
    assert {c.process_state for c in rows} <= {"pending", "skipped", "done"}
