"""WARC layer: real files in tmp_path, checked with warcio, warcio check and cdxj-indexer."""

from __future__ import annotations

import errno
import gzip
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from warcio.archiveiterator import ArchiveIterator

from storage.fetch import Fetch
from storage.warc import (
    CorruptRecordError,
    RevisitTarget,
    WarcWriter,
    iter_records,
    read_record,
    recover_open_files,
    verify_file,
)

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
HTML = b"<html><head><title>T</title></head><body><p>Hello, archive.</p></body></html>"


def make_fetch(
    url: str = "https://news.example/a/story?id=1",
    *,
    body: bytes = HTML,
    headers: list[tuple[str, str]] | None = None,
    status: int = 200,
    reason: str = "OK",
    when: datetime | None = None,
) -> Fetch:
    return Fetch(
        url=url,
        canonical_url=url,
        status=status,
        reason=reason,
        response_headers=headers or [("Content-Type", "text/html; charset=utf-8")],
        body=body,
        fetched_at=when or datetime(2025, 3, 4, 5, 6, 7, 123456, tzinfo=UTC),
        request_headers=[("User-Agent", "newsvault-test"), ("Accept-Encoding", "gzip")],
        ip_address="127.0.0.1",
    )


def records(path: Path) -> list[Any]:
    """(rec_type, warc headers, http headers, payload) of every record, read by warcio alone."""
    out = []
    with path.open("rb") as fh:
        for record in ArchiveIterator(fh):
            out.append(
                (
                    record.rec_type,
                    record.rec_headers,
                    record.http_headers,
                    record.raw_stream.read(),
                )
            )
    return out


def warcio_check(*paths: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "warcio"), "check", "-v", *map(str, paths)], capture_output=True, text=True
    )


def closed_warcs(directory: Path) -> list[Path]:
    return sorted(directory.glob("*.warc.gz"))


# -- records ------------------------------------------------------------------------------------


def test_exchange_is_standard_warc(tmp_path: Path) -> None:
    gz_body = gzip.compress(HTML * 50)
    fetch = make_fetch(
        headers=[
            ("Content-Type", "text/html"),
            ("Content-Encoding", "gzip"),
            ("Transfer-Encoding", "chunked"),
        ],
        body=gz_body,
    )
    closed: list[str] = []
    with WarcWriter(tmp_path, info={"crawl-job": "42"}, on_close=closed.append) as writer:
        written = writer.write_exchange(fetch)
    path = tmp_path / written.warc_name
    assert closed == [written.warc_name] and path.exists()
    assert not list(tmp_path.glob("*.open"))

    kinds = [r[0] for r in records(path)]
    assert kinds == ["warcinfo", "response", "request"]
    info = records(path)[0][3].decode()
    assert "software: newsvault/" in info and "crawl-job: 42" in info
    assert "format: WARC File Format 1.1" in info and "conformsTo:" in info

    _, warc, http, payload = records(path)[1]
    assert warc.protocol == "WARC/1.1"
    assert payload == gz_body  # bytes as received, still gzip
    assert http.get_header("Content-Encoding") == "gzip"
    assert http.get_header("Transfer-Encoding") is None
    assert http.get_header("X-Archive-Orig-Transfer-Encoding") == "chunked"
    assert http.get_header("Content-Length") == str(len(gz_body))
    assert warc.get_header("WARC-IP-Address") == "127.0.0.1"
    assert warc.get_header("WARC-Payload-Digest") == written.payload_digest
    assert warc.get_header("WARC-Block-Digest", "").startswith("sha1:")
    assert warc.get_header("WARC-Record-ID") == written.record_id

    _, req_warc, req_http, _ = records(path)[2]
    assert req_warc.get_header("WARC-Concurrent-To") == written.record_id
    assert req_http.protocol == "GET" and req_http.statusline == "/a/story?id=1 HTTP/1.1"
    assert req_http.get_header("Host") == "news.example"

    check = warcio_check(path)
    assert check.returncode == 0, check.stdout + check.stderr
    cdxj = subprocess.run(
        [str(BIN / "cdxj-indexer"), str(path)], capture_output=True, text=True, check=True
    )
    lines = [line for line in cdxj.stdout.splitlines() if line.strip()]
    assert any('"url": "https://news.example/a/story?id=1"' in line for line in lines)
    assert any(f'"offset": "{written.offset}"' in line for line in lines)


def test_read_record_while_open_and_after_close(tmp_path: Path) -> None:
    body = gzip.compress(HTML)
    fetch = make_fetch(headers=[("Content-Type", "text/html"), ("Content-Encoding", "gzip")])
    fetch = Fetch(**{**fetch.__dict__, "body": body})
    writer = WarcWriter(tmp_path)
    written = writer.write_exchange(fetch)
    assert writer.current_path is not None and writer.current_path.name.endswith(".open")

    stored = read_record(tmp_path, written.warc_name, written.offset)  # file still .open
    assert stored.rec_type == "response" and stored.http_status == 200
    assert stored.header("content-encoding") == "gzip"
    assert stored.payload == body and stored.decoded_payload() == HTML
    writer.close()
    assert writer.current_path is None
    stored = read_record(tmp_path, written.warc_name, written.offset)
    assert stored.warc_header("WARC-Record-ID") == written.record_id


def test_non_ascii_url_and_microsecond_date(tmp_path: Path) -> None:
    when = datetime(2025, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
    with WarcWriter(tmp_path) as writer:
        written = writer.write_exchange(make_fetch("https://news.example/أخبار/é?q=ü", when=when))
    _, warc, _, _ = records(tmp_path / written.warc_name)[1]
    uri = warc.get_header("WARC-Target-URI")
    assert uri == "https://news.example/%D8%A3%D8%AE%D8%A8%D8%A7%D8%B1/%C3%A9?q=%C3%BC"
    assert warc.get_header("WARC-Date") == "2025-01-02T03:04:05.678901Z"
    assert written.date == when


@pytest.mark.parametrize(
    ("profile", "status"), [("identical-payload-digest", 200), ("server-not-modified", 304)]
)
def test_revisit_record(tmp_path: Path, profile: str, status: int) -> None:
    with WarcWriter(tmp_path) as writer:
        first = writer.write_exchange(make_fetch())
        again = make_fetch(
            status=status,
            reason="Not Modified" if status == 304 else "OK",
            body=b"" if status == 304 else HTML,
            when=first.date + timedelta(days=1),
        )
        target = RevisitTarget(
            first.record_id, again.url, first.date, first.payload_digest, profile=profile
        )
        revisit = writer.write_exchange(again, revisit_of=target)
    path = tmp_path / revisit.warc_name
    rec_type, warc, http, payload = records(path)[3]
    assert rec_type == "revisit" and payload == b""
    assert warc.get_header("WARC-Profile") == f"http://netpreserve.org/warc/1.1/revisit/{profile}"
    assert warc.get_header("WARC-Refers-To") == first.record_id
    assert warc.get_header("WARC-Refers-To-Target-URI") == again.url
    assert warc.get_header("WARC-Refers-To-Date") == "2025-03-04T05:06:07.123456Z"
    assert warc.get_header("WARC-Payload-Digest") == first.payload_digest
    assert http.get_statuscode() == str(status)
    assert revisit.payload_digest == first.payload_digest
    assert warcio_check(path).returncode == 0
    assert verify_file(path) == []


def test_conversion_record(tmp_path: Path) -> None:
    with WarcWriter(tmp_path) as writer:
        response = writer.write_exchange(make_fetch())
        payload = '{"title": "عنوان", "text": "x"}'.encode()
        conversion = writer.write_conversion(
            refers_to=response.record_id,
            target_uri="urn:newsvault:version:7:1",
            payload=payload,
        )
    path = tmp_path / conversion.warc_name
    by_offset = {r.offset: r for r in iter_records(path)}
    indexed = by_offset[conversion.offset]
    assert indexed.rec_type == "conversion" and indexed.payload == payload
    assert indexed.refers_to == response.record_id
    assert indexed.target_uri == "urn:newsvault:version:7:1"
    assert indexed.mime == "application/json" and indexed.length == conversion.length
    assert warcio_check(path).returncode == 0


def test_iter_records_index_fields(tmp_path: Path) -> None:
    with WarcWriter(tmp_path) as writer:
        written = writer.write_exchange(make_fetch())
    rows = list(iter_records(tmp_path / written.warc_name))
    response = next(r for r in rows if r.rec_type == "response")
    assert (response.offset, response.length) == (written.offset, written.length)
    assert response.http_status == 200 and response.mime == "text/html"
    assert response.date == written.date and response.payload_length == len(HTML)
    assert response.payload_digest == written.payload_digest and response.payload is None
    ends = [r.offset + r.length for r in rows]
    assert ends[-1] == (tmp_path / written.warc_name).stat().st_size


# -- files ----------------------------------------------------------------------------------


def test_rotation(tmp_path: Path) -> None:
    closed: list[str] = []
    writer = WarcWriter(tmp_path, max_size=4000, on_close=closed.append)
    written = [writer.write_exchange(make_fetch(body=os.urandom(1500))) for _ in range(10)]
    assert writer.close() == closed
    files = closed_warcs(tmp_path)
    assert len(files) >= 3 and [f.name for f in files] == sorted(closed)
    assert writer.close() == []  # all were reported by the first close()
    assert not list(tmp_path.glob("*.open"))
    for path in files:
        assert records(path)[0][0] == "warcinfo"
        assert records(path)[0][1].get_header("WARC-Filename") == path.name
    assert warcio_check(*files).returncode == 0
    for record in written:  # every location still valid after the rename
        stored = read_record(tmp_path, record.warc_name, record.offset)
        assert stored.warc_header("WARC-Record-ID") == record.record_id


def test_never_appends_to_existing_file(tmp_path: Path) -> None:
    writer = WarcWriter(tmp_path)
    writer.write_exchange(make_fetch())
    assert writer.current_path is not None
    name = writer.current_path.name
    writer.close()
    other = WarcWriter(tmp_path)
    other.write_exchange(make_fetch())
    assert other.current_path is not None and other.current_path.name != name
    other.close()


class FailingFile:
    """Writes half of what it is given, then fails as a full disk would."""

    def __init__(self, real: Any) -> None:
        self.real = real

    def write(self, data: Any) -> int:
        self.real.write(bytes(data)[: len(data) // 2])
        raise OSError(errno.ENOSPC, "No space left on device")

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


def test_write_error_truncates_to_record_start(tmp_path: Path) -> None:
    writer = WarcWriter(tmp_path)
    writer.write_exchange(make_fetch())
    path = writer.current_path
    assert path is not None
    size = path.stat().st_size
    real = writer._fh
    writer._fh = FailingFile(real)  # type: ignore[assignment]
    with pytest.raises(OSError) as failure:
        writer.write_exchange(make_fetch(body=os.urandom(5000)))
    assert failure.value.errno == errno.ENOSPC
    assert path.stat().st_size == size  # the half record is gone
    writer._fh = real
    second = writer.write_exchange(make_fetch())
    assert second.offset == size
    writer.close()
    final = tmp_path / second.warc_name
    assert verify_file(final) == [] and warcio_check(final).returncode == 0


CHILD = """
import sys
from datetime import UTC, datetime
from pathlib import Path
from storage.fetch import Fetch
from storage.warc import WarcWriter

writer = WarcWriter(Path(sys.argv[1]), fsync_every=8)
body = bytes(range(256)) * 40
for n in range(1_000_000):
    writer.write_exchange(Fetch(url=f"https://news.example/{n}", canonical_url="x", status=200,
        response_headers=[("Content-Type", "text/html")], body=body,
        fetched_at=datetime.now(UTC)))
    if n == 50:
        print("going", flush=True)
"""


def test_sigkill_then_recover(tmp_path: Path) -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(tmp_path)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "going"
    time.sleep(0.1)
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=10)

    [open_file] = list(tmp_path.glob("*.open"))
    rows = list(iter_records(open_file, on_problem=lambda problem: None))
    assert len(rows) > 100
    last = rows[-1]
    cut_at = last.offset + last.length // 2  # in the middle of the last record's gzip member
    with open_file.open("r+b") as fh:
        fh.truncate(cut_at)

    [report] = recover_open_files(tmp_path)
    assert report.action == "closed"
    assert report.records_kept == len(rows) - 1
    assert report.bytes_cut == cut_at - last.offset
    assert report.saved_tail and (tmp_path / report.saved_tail).exists()
    final = tmp_path / report.file
    assert final.exists() and not open_file.exists()
    assert final.stat().st_size == last.offset
    kept = list(iter_records(final))
    assert [r.record_id for r in kept] == [r.record_id for r in rows[:-1]]
    assert warcio_check(final).returncode == 0
    assert recover_open_files(tmp_path) == []


def test_recovery_quarantines_file_without_records(tmp_path: Path) -> None:
    name = "newsvault-20250101000000000000-host-999999-00001.warc.gz.open"
    (tmp_path / name).write_bytes(b"\x1f\x8b\x08\x00garbage")
    [report] = recover_open_files(tmp_path)
    assert report.action == "quarantined" and report.records_kept == 0
    assert (tmp_path / "quarantine" / name).exists()


def test_recovery_skips_file_of_live_writer(tmp_path: Path) -> None:
    writer = WarcWriter(tmp_path)
    written = writer.write_exchange(make_fetch())
    [report] = recover_open_files(tmp_path)
    assert report.action == "skipped"
    assert writer.close() == [written.warc_name]
    assert recover_open_files(tmp_path) == []


def test_truncated_gzip_member_detected(tmp_path: Path) -> None:
    """warcio alone reads a truncated final gzip member without any error."""
    with WarcWriter(tmp_path) as writer:
        written = writer.write_exchange(make_fetch(body=os.urandom(20_000)))
    path = tmp_path / written.warc_name
    size = path.stat().st_size
    with path.open("r+b") as fh:
        fh.truncate(size - 10)  # cuts only into the request record's gzip trailer
    problems = verify_file(path)
    assert problems and problems[0].offset == written.offset + written.length
    with pytest.raises(CorruptRecordError):
        list(iter_records(path))


def test_verify_reports_bad_digest_by_offset(tmp_path: Path) -> None:
    with WarcWriter(tmp_path) as writer:
        written = writer.write_exchange(make_fetch())
        writer.write_exchange(make_fetch("https://news.example/b"))
    path = tmp_path / written.warc_name
    data = path.read_bytes()
    start, end = written.offset, written.offset + written.length
    record = gzip.decompress(data[start:end]).replace(b"Hello, archive.", b"Hello, ARCHIVE.")
    path.write_bytes(data[:start] + gzip.compress(record) + data[end:])
    problems = verify_file(path)
    assert [p.offset for p in problems] == [written.offset]
    assert "digest failed" in problems[0].problem and problems[0].file == path.name
