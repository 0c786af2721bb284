"""Reading our WARC files back: index walk, single-record reads, verification.

warcio parses the records. It does not notice truncation: a gzip member cut short reads as if
the file simply ended, and a short block reads without error (the digest check then says "not
checked", not "failed"). So every record is also checked here against the file itself: its
declared block fully read, its gzip member complete (``zlib`` ``eof`` with nothing left
over), its end within the file, and both digests (warcio skips revisit records' block digest).
"""

from __future__ import annotations

import contextlib
import gzip
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

from warcio.archiveiterator import ArchiveIterator
from warcio.digestverifyingreader import _compare_digest_rfc_3548
from warcio.utils import Digester

from storage.warc_files import OPEN_SUFFIX

_HTTP_RECORDS = ("response", "request", "revisit")
_CHUNK = 1 << 16


class CorruptRecordError(Exception):
    """A record that cannot be trusted: truncated, unreadable or failing a digest."""

    def __init__(self, path: Path, offset: int, problem: str) -> None:
        super().__init__(f"{path}: offset {offset}: {problem}")
        self.path, self.offset, self.problem = path, offset, problem


@dataclass(frozen=True)
class VerifyProblem:
    file: str
    offset: int
    problem: str


@dataclass(frozen=True)
class IndexedRecord:
    """One record as reindex needs it (no payload except for small non-HTTP records)."""

    offset: int
    length: int
    rec_type: str
    record_id: str
    target_uri: str | None
    date: datetime | None
    payload_digest: str | None
    block_digest: str | None
    refers_to: str | None
    refers_to_target_uri: str | None
    refers_to_date: datetime | None
    profile: str | None  # revisit profile URI
    concurrent_to: str | None
    ip_address: str | None
    http_status: int | None
    mime: str | None  # media type of the HTTP payload, or the WARC Content-Type otherwise
    warc_headers: list[tuple[str, str]]
    http_headers: list[tuple[str, str]]
    payload_length: int
    # Only for records without HTTP headers (warcinfo, conversion, metadata; not resource
    # records): small, and reindex needs the conversion JSON to rebuild versions.
    payload: bytes | None = None


@dataclass(frozen=True)
class StoredRecord:
    """One record read back: headers and the payload exactly as stored (still encoded)."""

    warc_name: str
    offset: int
    rec_type: str
    warc_headers: list[tuple[str, str]]
    http_status: int | None
    http_headers: list[tuple[str, str]]
    payload: bytes
    # "HTTP/1.1 200 OK" for responses, "GET /path HTTP/1.1" for requests, "" otherwise.
    http_statusline: str = ""

    def warc_header(self, name: str) -> str | None:
        return _first(self.warc_headers, name)

    def http_header(self, name: str) -> str | None:
        return _first(self.http_headers, name)

    header = http_header  # what processing asks for: the HTTP response's headers

    def http_head_bytes(self) -> bytes:
        """The HTTP status line and headers as archived, ending with the blank line."""
        lines = [self.http_statusline, *(f"{k}: {v}" for k, v in self.http_headers)]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", "replace")

    def decoded_payload(self) -> bytes:
        """The payload with its Content-Encoding (gzip, deflate, br, stacked) undone."""
        return decode_content(self.payload, self.http_header("Content-Encoding"))


@dataclass
class _Walk:
    """Where a walk stopped: end of the last good record before any problem."""

    good_end: int = 0
    good_records: int = 0
    problems: list[VerifyProblem] = field(default_factory=list)


# -- public API -----------------------------------------------------------------------------


def iter_records(
    path: Path, *, on_problem: Callable[[VerifyProblem], None] | None = None
) -> Iterator[IndexedRecord]:
    """Every record of a WARC file, offset/length checked against the file.

    A problem raises CorruptRecordError, unless ``on_problem`` is given: it is then called and
    the walk goes on (a digest failure) or ends (truncation: nothing after it can be located).
    """
    for item in _walk(Path(path), _Walk()):
        if isinstance(item, VerifyProblem):
            if on_problem is None:
                raise CorruptRecordError(Path(path), item.offset, item.problem)
            on_problem(item)
        else:
            yield item


def verify_file(path: Path) -> list[VerifyProblem]:
    """Re-read every record and check both digests; an empty list means the file is sound."""
    walk = _Walk()
    for _ in _walk(Path(path), walk):
        pass
    return walk.problems


@dataclass(frozen=True)
class GoodPrefix:
    """How much of a file is sound: what crash recovery keeps."""

    end: int  # end of the last good record before the first problem
    records: int  # good records before it
    problem: str | None  # the first problem, None if the whole file is sound


def good_prefix(path: Path) -> GoodPrefix:
    """Walk ``path`` up to its first problem (digest, truncation, trailing garbage)."""
    walk = _Walk()
    for _ in _walk(Path(path), walk):
        if walk.problems:
            break
    problem = walk.problems[0].problem if walk.problems else None
    return GoodPrefix(walk.good_end, walk.good_records, problem)


def read_record(directory: Path, warc_name: str, offset: int) -> StoredRecord:
    """Read the record at ``offset``; the file may still be ``.open`` (or be renamed meanwhile)."""
    with _open_warc(Path(directory), warc_name) as fh:
        fh.seek(offset)
        iterator = ArchiveIterator(fh, check_digests=True)
        try:
            record = next(iterator)
            payload = record.raw_stream.read()
        except Exception as exc:  # warcio raises assorted types on garbage
            raise CorruptRecordError(Path(fh.name), offset, f"unreadable: {exc}") from exc
        problem = _stream_problem(record) or _digest_problem(record)
        if problem:
            raise CorruptRecordError(Path(fh.name), offset, problem)
        http = record.http_headers
        return StoredRecord(
            warc_name=warc_name,
            offset=offset,
            rec_type=record.rec_type,
            warc_headers=list(record.rec_headers.headers),
            http_status=_status(record),
            http_headers=list(http.headers) if http else [],
            payload=payload,
            http_statusline=f"{http.protocol} {http.statusline}" if http else "",
        )


def decode_content(data: bytes, content_encoding: str | None) -> bytes:
    """Undo a Content-Encoding list such as ``gzip`` or ``deflate, br`` (last applied first)."""
    codings = [c.strip().lower() for c in (content_encoding or "").split(",") if c.strip()]
    for coding in reversed(codings):
        data = _decode_one(data, coding)
    return data


# -- the walk -------------------------------------------------------------------------------


def _walk(path: Path, walk: _Walk) -> Iterator[IndexedRecord | VerifyProblem]:
    """Yield records and problems; record problems in ``walk`` and track the good end."""
    size = path.stat().st_size
    with path.open("rb") as fh, path.open("rb") as raw:
        compressed = raw.read(2) == b"\x1f\x8b"
        iterator = ArchiveIterator(fh, check_digests=True)
        records = iter(iterator)
        while True:
            try:
                record = next(records)
                payload, payload_length = _read_payload(record)
                offset, length = iterator.get_record_offset(), iterator.get_record_length()
            except StopIteration:
                break
            except Exception as exc:  # warcio raises assorted types on garbage
                yield _problem(walk, path, walk.good_end, f"unreadable record: {exc}")
                return
            structural = _stream_problem(record) or _extent_problem(
                raw, offset, length, size, compressed, record
            )
            if structural:  # nothing after it can be located reliably
                yield _problem(walk, path, offset, structural)
                return
            digest = _digest_problem(record)
            if digest:
                yield _problem(walk, path, offset, digest)
            elif not walk.problems:
                walk.good_end, walk.good_records = offset + length, walk.good_records + 1
            yield _indexed(record, offset, length, payload, payload_length)
    if not walk.problems and walk.good_end < size:
        yield _problem(walk, path, walk.good_end, f"{size - walk.good_end} bytes of no record")


def _problem(walk: _Walk, path: Path, offset: int, text: str) -> VerifyProblem:
    problem = VerifyProblem(path.name, offset, text)
    walk.problems.append(problem)
    return problem


def _read_payload(record: Any) -> tuple[bytes | None, int]:
    """Read the record to its end (digests are checked as it is read); keep small payloads.

    Returns the payload (None for HTTP and resource records) and its length.
    """
    # Resource records (a browser capture's DOM and screenshot) are large and read by
    # offset when needed: their payload is not kept either.
    if (record.rec_type in _HTTP_RECORDS and record.http_headers) or record.rec_type == "resource":
        count = 0
        while chunk := record.raw_stream.read(_CHUNK):
            count += len(chunk)
        return None, count
    payload = bytes(record.raw_stream.read())
    return payload, len(payload)


def _stream_problem(record: Any) -> str | None:
    """A block shorter than its Content-Length: warcio reads that without complaint."""
    missing = getattr(record.raw_stream, "limit", 0)
    if missing:
        return f"truncated record: {missing} bytes of its block missing"
    return None


def _extent_problem(
    raw: BinaryIO, offset: int, length: int, size: int, compressed: bool, record: Any
) -> str | None:
    """Check the record's bytes in the file itself; also the revisit block digest."""
    if offset + length > size:
        return f"record runs {offset + length - size} bytes past the end of the file"
    raw.seek(offset)
    data = raw.read(length)
    if compressed:
        decompressor = zlib.decompressobj(zlib.MAX_WBITS + 16)
        try:
            data = decompressor.decompress(data)
        except zlib.error as exc:
            return f"corrupt gzip member: {exc}"
        if not decompressor.eof:
            return "incomplete gzip member (truncated record)"
        if decompressor.unused_data:
            return "record does not end with its gzip member"
    if record.rec_type == "revisit":
        return _revisit_block_problem(data, record)
    return None


def _revisit_block_problem(data: bytes, record: Any) -> str | None:
    """warcio's digest check skips revisit records; check their block digest here."""
    expected = record.rec_headers.get_header("WARC-Block-Digest")
    if not expected:
        return None
    header_end = data.find(b"\r\n\r\n")
    if header_end < 0:
        return "no end of WARC headers"
    block = data[header_end + 4 : header_end + 4 + record.length]
    digester = Digester(expected.partition(":")[0])
    digester.update(block)
    if _compare_digest_rfc_3548(digester, expected) is False:
        return f"block digest failed: {expected}"
    return None


def _digest_problem(record: Any) -> str | None:
    checker = record.digest_checker
    if checker is not None and checker.passed is False:
        return "; ".join(checker.problems)
    return None


def _indexed(
    record: Any, offset: int, length: int, payload: bytes | None, payload_length: int
) -> IndexedRecord:
    warc = record.rec_headers
    http = record.http_headers
    content_type = http.get_header("Content-Type") if http else record.content_type
    return IndexedRecord(
        offset=offset,
        length=length,
        rec_type=record.rec_type,
        record_id=warc.get_header("WARC-Record-ID"),
        target_uri=warc.get_header("WARC-Target-URI"),
        date=_parse_date(warc.get_header("WARC-Date")),
        payload_digest=warc.get_header("WARC-Payload-Digest"),
        block_digest=warc.get_header("WARC-Block-Digest"),
        refers_to=warc.get_header("WARC-Refers-To"),
        refers_to_target_uri=warc.get_header("WARC-Refers-To-Target-URI"),
        refers_to_date=_parse_date(warc.get_header("WARC-Refers-To-Date")),
        profile=warc.get_header("WARC-Profile"),
        concurrent_to=warc.get_header("WARC-Concurrent-To"),
        ip_address=warc.get_header("WARC-IP-Address"),
        http_status=_status(record),
        mime=content_type.split(";")[0].strip().lower() if content_type else None,
        warc_headers=list(warc.headers),
        http_headers=list(http.headers) if http else [],
        payload_length=payload_length,
        payload=payload,
    )


# -- small helpers --------------------------------------------------------------------------


@contextlib.contextmanager
def _open_warc(directory: Path, warc_name: str) -> Iterator[BinaryIO]:
    """Open ``name``, else ``name.open``; retry ``name`` in case it was renamed in between."""
    candidates = [warc_name, warc_name + OPEN_SUFFIX, warc_name]
    for index, name in enumerate(candidates):
        try:
            fh = (directory / name).open("rb")
        except FileNotFoundError:
            if index == len(candidates) - 1:
                raise
            continue
        with fh:
            yield fh
        return


def _decode_one(data: bytes, coding: str) -> bytes:
    if coding in ("gzip", "x-gzip"):
        return gzip.decompress(data)
    if coding == "deflate":
        try:
            return zlib.decompress(data)
        except zlib.error:  # many servers send raw deflate without the zlib wrapper
            return zlib.decompress(data, -zlib.MAX_WBITS)
    if coding == "br":
        import brotli  # optional dependency; only needed for br bodies

        return bytes(brotli.decompress(data))
    if coding == "identity":
        return data
    raise ValueError(f"unsupported Content-Encoding: {coding}")


def _status(record: Any) -> int | None:
    if record.rec_type in ("response", "revisit") and record.http_headers:
        try:
            return int(record.http_headers.get_statuscode())
        except ValueError:
            return None
    return None


def _parse_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def _first(headers: list[tuple[str, str]], name: str) -> str | None:
    wanted = name.lower()
    return next((v for k, v in headers if k.lower() == wanted), None)
