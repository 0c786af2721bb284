"""WARC 1.1 writer: one process, one ``.open`` file at a time, gzip per record.

warcio builds and serializes the records (headers, digests, revisit fields). What it leaves to
the caller is written here, each for a reason given where it is done:

* file naming, lazy creation with ``O_EXCL`` (never append to a file that may hold a partial
  record: ArchiveTeam/wpull #253) and the ``.open`` suffix until the file is closed;
* rotation by size, fsync every N records and before rename, fsync of the directory after it;
* undo on error: a record that fails half-way is cut off again (wpull #52);
* the gzip level: warcio hard-codes level 9, which costs ~4.7 ms per 50 KB of HTML against
  ~1 ms at level 6 for ~3 % more bytes.

See docs/internals.md ("WARC layer") and reliability-notes §5.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import socket
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from io import BytesIO
from pathlib import Path
from types import TracebackType
from typing import Any, BinaryIO
from urllib.parse import urlsplit

from w3lib.url import safe_url_string
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from storage.fetch import Fetch

OPEN_SUFFIX = ".open"
WARC_SUFFIX = ".warc.gz"
CONFORMS_TO = "https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/"
REVISIT_PROFILES = {
    "identical-payload-digest": "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest",
    "server-not-modified": "http://netpreserve.org/warc/1.1/revisit/server-not-modified",
}

# {prefix}-{timestamp}-{hostname}-{pid}-{serial}.warc.gz[.open]; parsed from the right because
# prefixes and host names may contain dashes.
_NAME_RX = re.compile(r"-(?P<pid>\d+)-(?P<serial>\d{5})\.warc\.gz(?:\.open)?$")

# Paths this process is writing right now, so that recover_open_files() called in the same
# process never "recovers" a live file of ours.
LIVE_PATHS: set[Path] = set()


@dataclass(frozen=True)
class WrittenRecord:
    """Where a record landed: enough for the index to find it again with read_record()."""

    warc_name: str  # final name relative to the directory (no .open), even while still open
    offset: int
    length: int
    record_id: str  # "<urn:uuid:...>"
    payload_digest: str  # "sha1:BASE32"
    date: datetime


@dataclass(frozen=True)
class RevisitTarget:
    """The earlier capture a revisit record points at."""

    record_id: str
    target_uri: str
    date: datetime
    payload_digest: str
    profile: str = "identical-payload-digest"  # or "server-not-modified" (a 304)

    def __post_init__(self) -> None:
        if self.profile not in REVISIT_PROFILES:
            raise ValueError(f"unknown revisit profile {self.profile!r}")


def warc_date(moment: datetime) -> str:
    """WARC 1.1 date, always with microseconds (1.1 allows fractions; 1.0 did not)."""
    if moment.tzinfo is None:
        raise ValueError("WARC dates need a timezone-aware datetime")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def pid_from_name(name: str) -> int | None:
    """The writer's pid encoded in a WARC file name, or None for a foreign name."""
    match = _NAME_RX.search(name)
    return int(match["pid"]) if match else None


def fsync_directory(directory: Path) -> None:
    """Make a rename in ``directory`` durable: rename is atomic but not durable on its own."""
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def close_open_file(open_path: Path) -> Path:
    """Rename a synced ``X.open`` to ``X`` and sync the folder; returns the final path."""
    final = open_path.with_name(open_path.name.removesuffix(OPEN_SUFFIX))
    os.replace(open_path, final)
    fsync_directory(open_path.parent)
    return final


def _software_version() -> str:
    try:
        return metadata.version("newsvault")
    except metadata.PackageNotFoundError:  # running from a checkout that is not installed
        return "0"


class _GzipMemberBuffer:
    """The ``out`` warcio writes one record to: compresses into memory, one gzip member.

    warcio calls ``flush()`` once at the end of each record; that closes the member. Building
    the whole member in memory before touching the file means the file only ever receives
    complete members in one write, and the record's length is known without ``tell()``.
    """

    def __init__(self, level: int) -> None:
        self._level = level
        self._parts: list[bytes] = []
        self._compressor = self._new_compressor()

    def _new_compressor(self) -> Any:
        return zlib.compressobj(self._level, zlib.DEFLATED, zlib.MAX_WBITS + 16)

    def write(self, data: bytes) -> None:
        self._parts.append(self._compressor.compress(data))

    def flush(self) -> None:
        self._parts.append(self._compressor.flush())
        self._compressor = self._new_compressor()

    def take(self) -> bytes:
        member = b"".join(self._parts)
        self._parts.clear()
        return member


class WarcWriter:
    """Writes exchanges to ``{prefix}-{ts}-{host}-{pid}-{serial}.warc.gz`` files in ``directory``.

    Not thread-safe: one writer per process (each crawl runs in its own process). A capture may
    be indexed only after ``sync()`` (or rotation/close) returned: only then are its bytes on
    disk.
    """

    def __init__(
        self,
        directory: Path,
        *,
        prefix: str = "newsvault",
        max_size: int = 1 << 30,
        info: dict[str, str] | None = None,
        fsync_every: int = 64,
        compresslevel: int = 6,
        on_close: Callable[[str], None] | None = None,
    ) -> None:
        self.directory = Path(directory)
        self.prefix = prefix
        self.max_size = max_size
        self.info = dict(info or {})
        self.fsync_every = max(1, fsync_every)
        self.on_close = on_close
        self.hostname = re.sub(r"[^A-Za-z0-9._-]", "_", socket.gethostname()) or "localhost"
        self.closed_files: list[str] = []  # final names, in the order they were closed
        self.records_written = 0
        self._reported = 0  # closed_files[:_reported] were returned by close() already
        self._member = _GzipMemberBuffer(compresslevel)
        # gzip=False: _GzipMemberBuffer compresses (see its docstring for why not warcio's).
        self._warcio = WARCWriter(self._member, gzip=False, warc_version="1.1")
        self._fh: BinaryIO | None = None
        self._path: Path | None = None
        self._serial = 0
        self._unsynced = 0

    # -- public API -------------------------------------------------------------------------

    @property
    def current_path(self) -> Path | None:
        """The ``.open`` file being written, or None before the first record / after rotation."""
        return self._path

    def write_exchange(
        self, fetch: Fetch, *, revisit_of: RevisitTarget | None = None
    ) -> WrittenRecord:
        """Write the response (or revisit) and request records; returns the response's place."""
        date = warc_date(fetch.fetched_at)
        uri = safe_url_string(fetch.url)
        http_headers = _response_headers(fetch)
        if revisit_of is None:
            response = self._response_record(fetch, uri, date, http_headers)
        else:
            response = self._revisit_record(fetch, uri, date, http_headers, revisit_of)
        response_id = response.rec_headers.get_header("WARC-Record-ID")
        request = self._request_record(fetch, uri, date, response_id)
        members = [self._serialize(response), self._serialize(request)]
        offset = self._append(members)
        return WrittenRecord(
            warc_name=self._final_name(),
            offset=offset,
            length=len(members[0]),
            record_id=response_id,
            payload_digest=response.rec_headers.get_header("WARC-Payload-Digest"),
            date=fetch.fetched_at.astimezone(UTC),
        )

    def write_conversion(
        self,
        *,
        refers_to: str,
        target_uri: str,
        payload: bytes,
        content_type: str = "application/json",
    ) -> WrittenRecord:
        """Write a ``conversion`` record (a cleaned version) that refers to a response record.

        ``target_uri`` must not be the page's URL (replay tools would index the JSON as a
        capture of the page); use a ``urn:newsvault:version:...``.
        """
        now = datetime.now(UTC)
        record = self._warcio.create_warc_record(
            target_uri,
            "conversion",
            payload=BytesIO(payload),
            length=len(payload),
            warc_content_type=content_type,
            warc_headers_dict={
                "WARC-Type": "conversion",
                "WARC-Date": warc_date(now),
                "WARC-Refers-To": refers_to,
            },
        )
        member = self._serialize(record)
        offset = self._append([member])
        return WrittenRecord(
            warc_name=self._final_name(),
            offset=offset,
            length=len(member),
            record_id=record.rec_headers.get_header("WARC-Record-ID"),
            payload_digest=record.rec_headers.get_header("WARC-Payload-Digest"),
            date=now,
        )

    def sync(self) -> None:
        """Flush and fsync the open file: every record written so far is then durable."""
        if self._fh is not None and self._unsynced:
            self._fsync(self._fh)

    def _fsync(self, fh: BinaryIO) -> None:
        fh.flush()
        os.fsync(fh.fileno())
        self._unsynced = 0

    def close(self) -> list[str]:
        """Finish the current file: fsync, rename ``.open`` -> final, fsync the directory.

        Returns the final names of the files closed since the previous ``close()``, rotated
        ones included, so the caller can mark them closed in the index.
        """
        self._close_current()
        closed = self.closed_files[self._reported :]
        self._reported = len(self.closed_files)
        return closed

    def _close_current(self) -> None:
        if self._fh is None or self._path is None:
            return
        self._fsync(self._fh)
        self._fh.close()  # also drops our flock (see _open_new_file)
        LIVE_PATHS.discard(self._path)
        final = close_open_file(self._path)
        self._fh, self._path = None, None
        self.closed_files.append(final.name)
        if self.on_close is not None:
            self.on_close(final.name)

    def __enter__(self) -> WarcWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- records ------------------------------------------------------------------------------

    def _response_record(
        self, fetch: Fetch, uri: str, date: str, http_headers: StatusAndHeaders
    ) -> Any:
        return self._warcio.create_warc_record(
            uri,
            "response",
            payload=BytesIO(fetch.body),
            length=len(fetch.body),
            http_headers=http_headers,
            warc_headers_dict=_exchange_warc_headers(fetch, "response", date),
        )

    def _revisit_record(
        self,
        fetch: Fetch,
        uri: str,
        date: str,
        http_headers: StatusAndHeaders,
        target: RevisitTarget,
    ) -> Any:
        """A revisit: the HTTP headers of this fetch as block, no payload."""
        warc_headers = _exchange_warc_headers(fetch, "revisit", date)
        warc_headers["WARC-Refers-To"] = target.record_id
        record = self._warcio.create_revisit_record(
            uri,
            target.payload_digest,
            safe_url_string(target.target_uri),
            warc_date(target.date),
            http_headers=http_headers,
            warc_headers_dict=warc_headers,
        )
        # warcio only knows identical-payload-digest; the 304 case needs the other profile.
        record.rec_headers.replace_header("WARC-Profile", REVISIT_PROFILES[target.profile])
        return record

    def _request_record(self, fetch: Fetch, uri: str, date: str, response_id: str) -> Any:
        headers = _request_headers(fetch, uri)
        warc_headers = {
            "WARC-Type": "request",
            "WARC-Date": date,
            "WARC-Concurrent-To": response_id,
        }
        return self._warcio.create_warc_record(
            uri, "request", http_headers=headers, warc_headers_dict=warc_headers
        )

    def _warcinfo_record(self, final_name: str) -> Any:
        fields = {
            "software": f"newsvault/{_software_version()} (warcio)",
            "hostname": self.hostname,
            "format": "WARC File Format 1.1",
            "conformsTo": CONFORMS_TO,
            **self.info,
        }
        return self._warcio.create_warcinfo_record(final_name, fields)

    def _serialize(self, record: Any) -> bytes:
        self._warcio.write_record(record)
        return self._member.take()

    # -- files --------------------------------------------------------------------------------

    def _append(self, members: Iterable[bytes]) -> int:
        """Append complete gzip members; return the offset of the first one.

        On any error the file is cut back to where it was, so it never holds half a record.
        """
        fh = self._fh if self._fh is not None else self._open_new_file()
        start = fh.tell()
        try:
            for member in members:
                _write_all(fh, member)
        except BaseException:
            self._undo(fh, start)
            raise
        self.records_written += 1
        self._unsynced += 1
        if fh.tell() >= self.max_size:
            self._close_current()  # rotation: the next record opens a new file
        elif self._unsynced >= self.fsync_every:
            self.sync()
        return start

    def _undo(self, fh: BinaryIO, start: int) -> None:
        try:
            fh.truncate(start)
            fh.seek(start)
        except OSError:
            # The file may now end in a partial record: give it up as it is (.open, no
            # rename) and let recover_open_files() cut it at the last good record.
            self._abandon()

    def _abandon(self) -> None:
        if self._fh is not None:
            with contextlib.suppress(OSError):
                self._fh.close()
        if self._path is not None:
            LIVE_PATHS.discard(self._path)
        self._fh, self._path = None, None

    def _open_new_file(self) -> BinaryIO:
        final_name = self._next_name()
        path = self.directory / (final_name + OPEN_SUFFIX)
        self.directory.mkdir(parents=True, exist_ok=True)
        # O_EXCL: never append to a file that exists (it may end in a partial record).
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        # Unbuffered: every member reaches the OS in our write() so that truncate() on error
        # is not undone by a buffer flushing stale bytes later.
        fh: BinaryIO = os.fdopen(fd, "wb", buffering=0)
        # The lock tells recover_open_files() that this file is alive. The kernel drops it when
        # we exit, even on SIGKILL, so unlike a pid check it is not fooled by pid reuse (every
        # container restart runs the crawler as the same pid). No lock support (some network
        # filesystems): recovery falls back to the pid in the name.
        with contextlib.suppress(OSError):
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        try:
            _write_all(fh, self._serialize(self._warcinfo_record(final_name)))
            fsync_directory(self.directory)  # the .open entry itself must survive a crash
        except BaseException:
            fh.close()
            path.unlink(missing_ok=True)  # holds no record yet: nothing to keep
            raise
        self._fh, self._path = fh, path
        LIVE_PATHS.add(path)
        return fh

    def _next_name(self) -> str:
        """A fresh name; O_EXCL guards the ``.open`` name, this guards the final one."""
        while True:
            self._serial += 1
            stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S%f")
            pid = os.getpid()
            name = f"{self.prefix}-{stamp}-{self.hostname}-{pid}-{self._serial:05d}{WARC_SUFFIX}"
            if not (self.directory / name).exists():
                return name

    def _final_name(self) -> str:
        """The name the index stores: the final one, valid after rotation/close as well.

        Called right after _append(), which may have rotated: closed_files then holds it.
        """
        if self._path is not None:
            return self._path.name.removesuffix(OPEN_SUFFIX)
        return self.closed_files[-1]


def _write_all(fh: BinaryIO, data: bytes) -> None:
    """An unbuffered write may be partial; loop until all of ``data`` is written."""
    view = memoryview(data)
    while view:
        written = fh.write(view)
        if not written:
            raise OSError("write returned 0 bytes")
        view = view[written:]


KIND_HEADER = "WARC-Newsvault-Kind"


def _exchange_warc_headers(fetch: Fetch, rec_type: str, date: str) -> dict[str, str]:
    # WARC-Type first: warcio keeps the dict's order, and people reading a record expect it.
    headers = {"WARC-Type": rec_type, "WARC-Date": date}
    if fetch.ip_address:
        headers["WARC-IP-Address"] = fetch.ip_address
    # An extension field (WARC 1.1 allows them): what the crawler fetched this as, so the
    # index rebuilt from the WARC files alone knows feeds from articles.
    headers[KIND_HEADER] = fetch.kind
    return headers


def _response_headers(fetch: Fetch) -> StatusAndHeaders:
    """The response's status line and headers as received, made consistent with the body.

    The body we get is de-chunked (Scrapy/Twisted undo Transfer-Encoding) but still
    content-encoded. A ``Transfer-Encoding: chunked`` header over a de-chunked body makes
    pywb and browsers fail, so it is renamed and a correct Content-Length set.
    Content-Encoding is kept: the body still is encoded.
    """
    headers = list(fetch.response_headers)
    chunked = False
    for index, (name, value) in enumerate(headers):
        if name.lower() == "transfer-encoding" and "chunked" in value.lower():
            headers[index] = ("X-Archive-Orig-Transfer-Encoding", value)
            chunked = True
    if chunked:
        headers = [(n, v) for n, v in headers if n.lower() != "content-length"]
        headers.append(("Content-Length", str(len(fetch.body))))
    statusline = f"{fetch.status} {fetch.reason}".rstrip()
    return StatusAndHeaders(statusline, headers, protocol=fetch.protocol)


def _request_headers(fetch: Fetch, uri: str) -> StatusAndHeaders:
    """``GET /path?q HTTP/1.1`` plus the request headers, with a Host header if missing."""
    parts = urlsplit(uri)
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    headers = list(fetch.request_headers)
    if not any(name.lower() == "host" for name, _ in headers):
        headers.insert(0, ("Host", parts.netloc.rpartition("@")[2]))
    statusline = f"{fetch.method} {target} {fetch.protocol}"
    return StatusAndHeaders(statusline, headers, is_http_request=True)
