"""``newsvault export``: a WARC file that warcio and cdxj-indexer accept, records copied byte
for byte; JSONL of cleaned versions; selection by site (host) and dates."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select
from typer.testing import CliRunner
from warcio.archiveiterator import ArchiveIterator

from newsvault.cli import app
from newsvault.config import Settings
from storage.db import session_scope
from storage.models import Capture, Version
from tests.test_pipeline import T0

BIN = Path(sys.executable).parent
runner = CliRunner()


def records(path: Path) -> list[tuple[str, str | None, int, int]]:
    """(type, record id, offset, length) of every record."""
    found = []
    with path.open("rb") as fh:
        iterator = ArchiveIterator(fh)
        for record in iterator:
            record.raw_stream.read()
            found.append(
                (
                    record.rec_type,
                    record.rec_headers.get_header("WARC-Record-ID"),
                    iterator.get_record_offset(),
                    iterator.get_record_length(),
                )
            )
    return found


def test_warc_export_is_valid_and_copies_records_byte_for_byte(
    archive: Settings, tmp_path: Path
) -> None:
    out = tmp_path / "export.warc.gz"
    result = runner.invoke(app, ["export", "--format", "warc", "--out", str(out)])
    assert result.exit_code == 0, result.output
    check = subprocess.run([BIN / "warcio", "check", "-v", str(out)], capture_output=True)
    assert check.returncode == 0, check.stdout + check.stderr

    exported = records(out)
    assert exported[0][0] == "warcinfo"
    types = [rec_type for rec_type, *_ in exported]
    with session_scope(archive.index_url) as session:
        captures = list(session.scalars(select(Capture)))
        versions = list(session.scalars(select(Version)))
    assert types.count("response") + types.count("revisit") == len(captures)
    assert types.count("request") == len(captures)
    assert types.count("conversion") == len(versions)
    # Every response is the very bytes of its source record.
    data = out.read_bytes()
    by_id = {record_id: (offset, length) for _, record_id, offset, length in exported}
    for capture in captures:
        offset, length = by_id[capture.record_id]
        source = (archive.warc_dir / capture.warc_name).read_bytes()
        original = source[capture.warc_offset : capture.warc_offset + capture.warc_length]
        assert data[offset : offset + length] == original


def test_cdxj_indexer_indexes_every_file(archive: Settings, tmp_path: Path) -> None:
    out = tmp_path / "export.warc.gz"
    assert runner.invoke(app, ["export", "--out", str(out)]).exit_code == 0
    files = [*sorted(archive.warc_dir.glob("*.warc.gz")), out]
    indexed: dict[str, list[str]] = {}
    for path in files:
        index = subprocess.run([BIN / "cdxj-indexer", str(path)], capture_output=True, text=True)
        assert index.returncode == 0, index.stderr
        indexed[path.name] = index.stdout.splitlines()
    # Capture files and the export have lines; a file of conversion records alone has none:
    # their target is a urn, so replay tools never take the JSON for a capture of the page.
    for name, lines in indexed.items():
        assert bool(lines) == (not name.startswith("newsvault-versions")), name
    exported = indexed[out.name]
    assert all('"mime": "application/json"' not in line for line in exported)
    assert sum('"mime": "warc/revisit"' in line for line in exported) == 2


def test_export_by_dates_keeps_the_original_of_a_revisit(archive: Settings, tmp_path: Path) -> None:
    out = tmp_path / "day2.warc.gz"
    day2 = (T0 + timedelta(days=1)).date().isoformat()
    result = runner.invoke(
        app,
        ["export", "--since", day2, "--until", day2, "--site", "127.0.0.1:8741", "--out", str(out)],
    )
    assert result.exit_code == 0, result.output
    types = [rec_type for rec_type, *_ in records(out)]
    # Day two: 2 responses and 2 revisits; the revisits' originals from day one come along.
    assert types.count("revisit") == 2
    assert types.count("response") == 4
    check = subprocess.run([BIN / "warcio", "check", str(out)], capture_output=True)
    assert check.returncode == 0


def test_jsonl_export_has_one_cleaned_version_per_line(archive: Settings, tmp_path: Path) -> None:
    out = tmp_path / "versions.jsonl"
    result = runner.invoke(app, ["export", "--format", "jsonl", "--out", str(out)])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in out.read_text("utf-8").splitlines()]
    with session_scope(archive.index_url) as session:
        assert len(lines) == len(list(session.scalars(select(Version))))
    edited = [
        d for d in lines if d["url"].endswith("edited-article.html") or "Correction" in d["text"]
    ]
    assert any("Correction" in d["text"] for d in edited)
    assert {"url", "version", "title", "text", "captured_at", "content_hash"} <= lines[0].keys()


def test_unknown_site_and_existing_output_are_refused(archive: Settings, tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["export", "--site", "nosuchsite", "--out", str(tmp_path / "a.warc.gz")]
    )
    assert result.exit_code == 2 and "nosuchsite" in result.output
    existing = tmp_path / "b.jsonl"
    existing.write_text("")
    result = runner.invoke(app, ["export", "--format", "jsonl", "--out", str(existing)])
    assert result.exit_code == 2
