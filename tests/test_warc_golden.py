"""Golden bytes of the record writer, in the style of warcio's own tests (test_writer.py).

With fixed record-id and date hooks the records are fully determined, so the exact bytes are
asserted: header order, digests, Content-Length. The literal was written from the WARC 1.1
spec and warcio's header order; the digests and lengths in it are re-derived with hashlib
below, so the literal cannot silently drift from what it claims.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import subprocess
import sys
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from storage.fetch import Fetch
from storage.warc import RecordWritten, RevisitTarget, WarcRecordWriter, WarcWriter, read_record

T1 = datetime(2025, 3, 4, 5, 6, 7, 123456, tzinfo=UTC)
T2 = datetime(2025, 3, 5, 5, 6, 7, 123456, tzinfo=UTC)
NOW = datetime(2025, 6, 1, 12, 0, 0, 250000, tzinfo=UTC)
URL = "http://example.com/a"


def record_ids() -> Iterator[str]:
    n = 0
    while True:
        n += 1
        yield f"<urn:uuid:00000000-0000-4000-8000-{n:012d}>"


def sha1_b32(data: bytes) -> str:
    return "sha1:" + base64.b32encode(hashlib.sha1(data).digest()).decode("ascii")


def fetch(when: datetime) -> Fetch:
    return Fetch(
        url=URL,
        canonical_url=URL,
        status=200,
        reason="OK",
        response_headers=[("Content-Type", "text/plain")],
        body=b"hello",
        fetched_at=when,
        request_headers=[("User-Agent", "golden")],
        ip_address="192.0.2.1",
        kind="article",
    )


# The blocks, as the spec defines them: what each digest and Content-Length covers.
INFO_BLOCK = b"software: newsvault/golden\r\nformat: WARC File Format 1.1\r\n"
RESPONSE_HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n"
REQUEST_HEAD = b"GET /a HTTP/1.1\r\nHost: example.com\r\nUser-Agent: golden\r\n\r\n"
CONVERSION_BLOCK = b'{"version": 1}'

INFO_DIGEST = "sha1:GNKTMI2ZIUM7YUHSNI4RJABMPHKJGRAB"
HELLO_DIGEST = "sha1:VL2MMHO4YXUKFWV63YHTWSBM3GXKSQ2N"  # payload of response and revisit
RESPONSE_DIGEST = "sha1:ZQYHLXU6LL2UY2FYMVYWL6WISJI5CCED"  # HTTP head + payload
REVISIT_DIGEST = "sha1:J27VOGMUA3L7BPIDPIHGVRAYHWOQB5AV"  # HTTP head alone
REQUEST_DIGEST = "sha1:OGJ47OK27XCBJ5DHWDFI36HMWVNOMMZZ"
EMPTY_DIGEST = "sha1:3I42H3S6NNFQ2MSVX7XZKYAYSCX5QBYJ"  # a request's (empty) payload
CONVERSION_DIGEST = "sha1:AD5OT3GPO3T7RBDJGTEU7BVXMVXVWFVY"

WARCINFO_RECORD = (
    "WARC/1.1\r\n"
    "WARC-Type: warcinfo\r\n"
    "WARC-Record-ID: <urn:uuid:00000000-0000-4000-8000-000000000001>\r\n"
    "WARC-Filename: golden.warc.gz\r\n"
    "WARC-Date: 2025-06-01T12:00:00.250000Z\r\n"
    "WARC-Block-Digest: sha1:GNKTMI2ZIUM7YUHSNI4RJABMPHKJGRAB\r\n"
    "Content-Type: application/warc-fields\r\n"
    "Content-Length: 58\r\n"
    "\r\n"
    "software: newsvault/golden\r\n"
    "format: WARC File Format 1.1\r\n"
    "\r\n\r\n"
)
RESPONSE_RECORD = (
    "WARC/1.1\r\n"
    "WARC-Type: response\r\n"
    "WARC-Date: 2025-03-04T05:06:07.123456Z\r\n"
    "WARC-IP-Address: 192.0.2.1\r\n"
    "WARC-Newsvault-Kind: article\r\n"
    "WARC-Record-ID: <urn:uuid:00000000-0000-4000-8000-000000000002>\r\n"
    "WARC-Target-URI: http://example.com/a\r\n"
    "WARC-Payload-Digest: sha1:VL2MMHO4YXUKFWV63YHTWSBM3GXKSQ2N\r\n"
    "WARC-Block-Digest: sha1:ZQYHLXU6LL2UY2FYMVYWL6WISJI5CCED\r\n"
    "Content-Type: application/http; msgtype=response\r\n"
    "Content-Length: 50\r\n"
    "\r\n"
    "HTTP/1.1 200 OK\r\n"
    "Content-Type: text/plain\r\n"
    "\r\n"
    "hello"
    "\r\n\r\n"
)
REQUEST_RECORD = (
    "WARC/1.1\r\n"
    "WARC-Type: request\r\n"
    "WARC-Date: 2025-03-04T05:06:07.123456Z\r\n"
    "WARC-Concurrent-To: <urn:uuid:00000000-0000-4000-8000-000000000002>\r\n"
    "WARC-Record-ID: <urn:uuid:00000000-0000-4000-8000-000000000003>\r\n"
    "WARC-Target-URI: http://example.com/a\r\n"
    "WARC-Payload-Digest: sha1:3I42H3S6NNFQ2MSVX7XZKYAYSCX5QBYJ\r\n"
    "WARC-Block-Digest: sha1:OGJ47OK27XCBJ5DHWDFI36HMWVNOMMZZ\r\n"
    "Content-Type: application/http; msgtype=request\r\n"
    "Content-Length: 58\r\n"
    "\r\n"
    "GET /a HTTP/1.1\r\n"
    "Host: example.com\r\n"
    "User-Agent: golden\r\n"
    "\r\n"
    "\r\n\r\n"
)
REVISIT_RECORD = (
    "WARC/1.1\r\n"
    "WARC-Type: revisit\r\n"
    "WARC-Date: 2025-03-05T05:06:07.123456Z\r\n"
    "WARC-IP-Address: 192.0.2.1\r\n"
    "WARC-Newsvault-Kind: article\r\n"
    "WARC-Refers-To: <urn:uuid:00000000-0000-4000-8000-000000000002>\r\n"
    "WARC-Record-ID: <urn:uuid:00000000-0000-4000-8000-000000000004>\r\n"
    "WARC-Target-URI: http://example.com/a\r\n"
    "WARC-Profile: http://netpreserve.org/warc/1.1/revisit/identical-payload-digest\r\n"
    "WARC-Refers-To-Target-URI: http://example.com/a\r\n"
    "WARC-Refers-To-Date: 2025-03-04T05:06:07.123456Z\r\n"
    "WARC-Payload-Digest: sha1:VL2MMHO4YXUKFWV63YHTWSBM3GXKSQ2N\r\n"
    "WARC-Block-Digest: sha1:J27VOGMUA3L7BPIDPIHGVRAYHWOQB5AV\r\n"
    "Content-Type: application/http; msgtype=response\r\n"
    "Content-Length: 45\r\n"
    "\r\n"
    "HTTP/1.1 200 OK\r\n"
    "Content-Type: text/plain\r\n"
    "\r\n"
    "\r\n\r\n"
)
REVISIT_REQUEST_RECORD = (
    "WARC/1.1\r\n"
    "WARC-Type: request\r\n"
    "WARC-Date: 2025-03-05T05:06:07.123456Z\r\n"
    "WARC-Concurrent-To: <urn:uuid:00000000-0000-4000-8000-000000000004>\r\n"
    "WARC-Record-ID: <urn:uuid:00000000-0000-4000-8000-000000000005>\r\n"
    "WARC-Target-URI: http://example.com/a\r\n"
    "WARC-Payload-Digest: sha1:3I42H3S6NNFQ2MSVX7XZKYAYSCX5QBYJ\r\n"
    "WARC-Block-Digest: sha1:OGJ47OK27XCBJ5DHWDFI36HMWVNOMMZZ\r\n"
    "Content-Type: application/http; msgtype=request\r\n"
    "Content-Length: 58\r\n"
    "\r\n"
    "GET /a HTTP/1.1\r\n"
    "Host: example.com\r\n"
    "User-Agent: golden\r\n"
    "\r\n"
    "\r\n\r\n"
)
CONVERSION_RECORD = (
    "WARC/1.1\r\n"
    "WARC-Type: conversion\r\n"
    "WARC-Date: 2025-06-01T12:00:00.250000Z\r\n"
    "WARC-Refers-To: <urn:uuid:00000000-0000-4000-8000-000000000002>\r\n"
    "WARC-Record-ID: <urn:uuid:00000000-0000-4000-8000-000000000006>\r\n"
    "WARC-Target-URI: urn:newsvault:version:1:1\r\n"
    "WARC-Payload-Digest: sha1:AD5OT3GPO3T7RBDJGTEU7BVXMVXVWFVY\r\n"
    "WARC-Block-Digest: sha1:AD5OT3GPO3T7RBDJGTEU7BVXMVXVWFVY\r\n"
    "Content-Type: application/json\r\n"
    "Content-Length: 14\r\n"
    "\r\n"
    '{"version": 1}'
    "\r\n\r\n"
)
GOLDEN = [
    WARCINFO_RECORD,
    RESPONSE_RECORD,
    REQUEST_RECORD,
    REVISIT_RECORD,
    REVISIT_REQUEST_RECORD,
    CONVERSION_RECORD,
]


def fixed_writer(*, gzip: bool) -> WarcRecordWriter:
    ids = record_ids()
    return WarcRecordWriter(gzip=gzip, new_record_id=lambda: next(ids), now=lambda: NOW)


def write_all_kinds(records: WarcRecordWriter, out: BytesIO) -> list[RecordWritten]:
    info = records.write_warcinfo(
        out,
        filename="golden.warc.gz",
        fields={"software": "newsvault/golden", "format": "WARC File Format 1.1"},
    )
    response, request = records.write_exchange(out, fetch(T1))
    target = RevisitTarget(response.record_id, URL, response.date, HELLO_DIGEST)
    revisit, revisit_request = records.write_exchange(out, fetch(T2), revisit_of=target)
    conversion = records.write_conversion(
        out,
        refers_to=response.record_id,
        target_uri="urn:newsvault:version:1:1",
        payload=CONVERSION_BLOCK,
    )
    return [info, response, request, revisit, revisit_request, conversion]


def test_literal_digests_and_lengths_are_those_of_the_blocks() -> None:
    """The expected literal, checked against the spec's definitions rather than the code."""
    assert sha1_b32(INFO_BLOCK) == INFO_DIGEST and len(INFO_BLOCK) == 58
    assert sha1_b32(b"hello") == HELLO_DIGEST
    assert sha1_b32(RESPONSE_HEAD + b"hello") == RESPONSE_DIGEST
    assert len(RESPONSE_HEAD + b"hello") == 50
    assert sha1_b32(RESPONSE_HEAD) == REVISIT_DIGEST and len(RESPONSE_HEAD) == 45
    assert sha1_b32(REQUEST_HEAD) == REQUEST_DIGEST and len(REQUEST_HEAD) == 58
    assert sha1_b32(b"") == EMPTY_DIGEST
    assert sha1_b32(CONVERSION_BLOCK) == CONVERSION_DIGEST and len(CONVERSION_BLOCK) == 14
    for text in GOLDEN:
        data = text.encode()
        head, _, rest = data.partition(b"\r\n\r\n")
        fields = dict(line.split(": ", 1) for line in head.decode().split("\r\n")[1:])
        assert rest.endswith(b"\r\n\r\n")
        block = rest[: -len(b"\r\n\r\n")]
        assert int(fields["Content-Length"]) == len(block)
        assert fields["WARC-Block-Digest"] == sha1_b32(block)


def test_uncompressed_records_are_the_golden_bytes() -> None:
    out = BytesIO()
    written = write_all_kinds(fixed_writer(gzip=False), out)
    assert out.getvalue() == "".join(GOLDEN).encode()
    assert [w.length for w in written] == [len(text.encode()) for text in GOLDEN]
    assert [w.rec_type for w in written] == [
        "warcinfo", "response", "request", "revisit", "request", "conversion",
    ]  # fmt: skip
    assert [w.date for w in written] == [NOW, T1, T1, T2, T2, NOW]
    assert written[1].payload_digest == HELLO_DIGEST == written[3].payload_digest


def test_gzip_records_are_one_member_each_holding_the_golden_bytes(tmp_path: Path) -> None:
    out = BytesIO()
    written = write_all_kinds(fixed_writer(gzip=True), out)
    data, offset = out.getvalue(), 0
    for record, expected in zip(written, GOLDEN, strict=True):
        decompressor = zlib.decompressobj(zlib.MAX_WBITS + 16)
        member = data[offset : offset + record.length]
        assert decompressor.decompress(member) == expected.encode()
        assert decompressor.eof and not decompressor.unused_data
        offset += record.length
    assert offset == len(data)
    assert gzip.decompress(data) == "".join(GOLDEN).encode()

    path = tmp_path / "golden.warc.gz"
    path.write_bytes(data)
    with path.open("rb") as fh:
        iterator = ArchiveIterator(fh, check_digests=True)
        for record in iterator:
            record.raw_stream.read()
            assert record.digest_checker.passed is not False, record.digest_checker.problems
    check = subprocess.run(
        [str(Path(sys.executable).parent / "warcio"), "check", "-v", str(path)],
        capture_output=True,
        text=True,
    )
    assert check.returncode == 0, check.stdout + check.stderr


def test_file_writer_takes_ids_and_dates_from_the_hooks(tmp_path: Path) -> None:
    with WarcWriter(tmp_path, records=fixed_writer(gzip=True)) as writer:
        response = writer.write_exchange(fetch(T1))
        conversion = writer.write_conversion(
            refers_to=response.record_id, target_uri="urn:newsvault:version:1:1", payload=b"{}"
        )
        dated = writer.write_conversion(
            refers_to=response.record_id,
            target_uri="urn:newsvault:version:1:2",
            payload=b"{}",
            date=T2,
        )
    # Record 1 is the file's warcinfo; the request took 3.
    assert response.record_id == "<urn:uuid:00000000-0000-4000-8000-000000000002>"
    assert conversion.record_id == "<urn:uuid:00000000-0000-4000-8000-000000000004>"
    assert (response.date, conversion.date, dated.date) == (T1, NOW, T2)
    assert response.warc_name.startswith("newsvault-20250601120000250000-")
    stored = read_record(tmp_path, conversion.warc_name, conversion.offset)
    assert stored.warc_header("WARC-Date") == "2025-06-01T12:00:00.250000Z"
    info = read_record(tmp_path, response.warc_name, 0)
    assert info.rec_type == "warcinfo"
    assert info.warc_header("WARC-Date") == "2025-06-01T12:00:00.250000Z"
    assert info.warc_header("WARC-Filename") == response.warc_name


def test_naive_dates_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone"):
        fixed_writer(gzip=False).write_conversion(
            BytesIO(), refers_to="<x>", target_uri="urn:x", payload=b"", date=datetime(2025, 1, 1)
        )
