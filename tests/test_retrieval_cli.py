"""The archive commands through the real CLI (typer's runner, in process), on an index built
from sample-site fetches: snapshots, show --at, diff, verify, reindex, bad arguments."""

from __future__ import annotations

import json
import shutil
from datetime import timedelta

import pytest
from sqlalchemy import select
from typer.testing import CliRunner, Result

from newsvault.cli import app
from newsvault.config import Settings
from storage.db import session_scope
from storage.models import Capture
from tests.test_pipeline import T0
from tests.test_reindex import ARABIC, EDITED

runner = CliRunner()


def run(*args: str) -> Result:
    return runner.invoke(app, list(args))


def test_snapshots_lists_the_timeline(archive: Settings) -> None:
    result = run("snapshots", EDITED, "--format", "json")
    assert result.exit_code == 0, result.output
    timeline = json.loads(result.stdout)
    assert [(s["version"], s["changed"], s["record_type"]) for s in timeline] == [
        (1, True, "response"),
        (2, True, "response"),
        (2, False, "response"),
    ]
    revisits = json.loads(run("snapshots", ARABIC, "--format", "json").stdout)
    assert [s["record_type"] for s in revisits] == ["response", "revisit"]
    assert revisits[0]["payload_digest"] == revisits[1]["payload_digest"]
    text = run("snapshots", EDITED + "?utm_source=x")  # a variant of the URL
    assert text.exit_code == 0 and "unchanged" in text.stdout and "sha1:" in text.stdout


def test_snapshots_of_an_unknown_url_fails(archive: Settings) -> None:
    result = run("snapshots", "http://127.0.0.1:8741/nowhere")
    assert result.exit_code == 1 and "nothing archived" in result.output


@pytest.mark.parametrize(
    ("offset", "version"),
    [
        (timedelta(hours=-5), 1),
        (timedelta(hours=12), 1),  # halfway between the two captures: the earlier one
        (timedelta(hours=12, microseconds=1), 2),
        (timedelta(days=9), 2),
    ],
)
def test_show_at_picks_the_closest_capture(
    archive: Settings, offset: timedelta, version: int
) -> None:
    at = (T0 + offset).isoformat()
    result = run("show", EDITED, "--at", at, "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["version"] == version


def test_diff_shows_the_correction_as_an_insertion(archive: Settings) -> None:
    result = run("diff", EDITED, "--format", "json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert (document["from"]["version"], document["to"]["version"]) == (1, 2)
    inserted = " ".join(op["text"] for op in document["ops"] if op["op"] == "insert")
    assert "Correction" in inserted and document["added"] > 0
    text = run("diff", EDITED, "--from", "1", "--to", "2")
    assert text.exit_code == 0
    assert "+[" in text.stdout and "Correction" in text.stdout


def test_diff_of_a_single_version_says_so(archive: Settings) -> None:
    result = run("diff", ARABIC)  # one version only
    assert result.exit_code == 1 and "only 1 version" in result.output


@pytest.mark.parametrize(
    "args",
    [
        ("diff", EDITED, "--from", "7"),
        ("diff", EDITED, "--to", "0"),
        ("export", "--format", "warc", "--since", "yesterday", "--out", "x.warc.gz"),
        ("export", "--format", "csv", "--out", "x.csv"),
        ("export", "--format", "jsonl", "--out", "x.warc.gz"),
        ("verify", "--since", "someday"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(archive: Settings, args: tuple[str, ...]) -> None:
    result = run(*args)
    assert result.exit_code == 2, result.output


def test_verify_reports_a_flipped_byte_by_file_and_offset(archive: Settings) -> None:
    assert run("verify").exit_code == 0
    with session_scope(archive.index_url) as session:
        capture = session.scalars(
            select(Capture).where(Capture.record_type == "response").order_by(Capture.id)
        ).first()
        assert capture is not None
    source = archive.warc_dir / capture.warc_name
    copy = archive.warc_dir / ("copy-" + capture.warc_name)
    shutil.copyfile(source, copy)
    with copy.open("r+b") as fh:
        fh.seek(capture.warc_offset + capture.warc_length // 2)
        byte = fh.read(1)
        fh.seek(-1, 1)
        fh.write(bytes([byte[0] ^ 0xFF]))
    result = run("verify", "--format", "json")
    assert result.exit_code == 1
    bad = json.loads(result.stdout)["bad"]
    assert [(b["file"], b["offset"]) for b in bad] == [(copy.name, capture.warc_offset)]
    text = run("verify")
    assert text.exit_code == 1
    assert copy.name in text.stdout and f"offset {capture.warc_offset}" in text.stdout


def test_reindex_command_rebuilds_the_same_timeline(archive: Settings) -> None:
    before = run("snapshots", EDITED, "--format", "json").stdout
    result = run("reindex")
    assert result.exit_code == 0, result.output
    assert "captures" in result.stdout and "versions" in result.stdout
    assert run("snapshots", EDITED, "--format", "json").stdout == before
