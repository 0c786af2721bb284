"""WARC files: one process, one ``.open`` file at a time; records come from warc_records.

warc_records serializes the records onto whatever file object it is given. What it leaves to
this module is what makes a directory of files an archive, each for a reason given where it
is done:

* file naming, lazy creation with ``O_EXCL`` (never append to a file that may hold a partial
  record: ArchiveTeam/wpull #253) and the ``.open`` suffix until the file is closed;
* a lock on the open file, so recovery (warc_recovery) leaves a live file alone;
* rotation by size, fsync every N records and before rename, fsync of the directory after it;
* undo on error: a record that fails half-way is cut off again (wpull #52).

See docs/internals.md ("WARC layer") and reliability-notes §5.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

from storage.fetch import Fetch
from storage.warc_records import (
    RecordWritten,
    RevisitTarget,
    WarcRecordWriter,
    warcinfo_fields,
)

OPEN_SUFFIX = ".open"
WARC_SUFFIX = ".warc.gz"

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


class WarcWriter:
    """Writes exchanges to ``{prefix}-{ts}-{host}-{pid}-{serial}.warc.gz`` files in ``directory``.

    Not thread-safe: one writer per process (each crawl runs in its own process). A capture may
    be indexed only after ``sync()`` (or rotation/close) returned: only then are its bytes on
    disk. ``records`` serializes the records (``compresslevel`` is for the default one); its
    clock also dates the file names, so one ``now`` hook fixes every date.
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
        records: WarcRecordWriter | None = None,
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
        self.records = records or WarcRecordWriter(compresslevel=compresslevel)
        self._reported = 0  # closed_files[:_reported] were returned by close() already
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
        fh, start = self._begin()
        with self._undo_on_error(fh, start):
            response, _ = self.records.write_exchange(fh, fetch, revisit_of=revisit_of)
        return self._finish(start, response)

    def write_conversion(
        self,
        *,
        refers_to: str,
        target_uri: str,
        payload: bytes,
        content_type: str = "application/json",
        date: datetime | None = None,
    ) -> WrittenRecord:
        """Write a ``conversion`` record (a cleaned version) that refers to a response record.

        ``target_uri`` must not be the page's URL (replay tools would index the JSON as a
        capture of the page); use a ``urn:newsvault:version:...``. ``date`` defaults to the
        record writer's clock.
        """
        fh, start = self._begin()
        with self._undo_on_error(fh, start):
            record = self.records.write_conversion(
                fh,
                refers_to=refers_to,
                target_uri=target_uri,
                payload=payload,
                content_type=content_type,
                date=date,
            )
        return self._finish(start, record)

    def write_resource(
        self,
        *,
        target_uri: str,
        payload: bytes,
        content_type: str,
        date: datetime | None = None,
        concurrent_to: str | None = None,
    ) -> WrittenRecord:
        """A ``resource`` record (a browser capture's DOM or screenshot); see warc_records."""
        fh, start = self._begin()
        with self._undo_on_error(fh, start):
            record = self.records.write_resource(
                fh,
                target_uri=target_uri,
                payload=payload,
                content_type=content_type,
                date=date,
                concurrent_to=concurrent_to,
            )
        return self._finish(start, record)

    def sync(self) -> None:
        """Flush and fsync the open file: every record written so far is then durable."""
        if self._fh is not None and self._unsynced:
            self._fsync(self._fh)

    def close(self) -> list[str]:
        """Finish the current file: fsync, rename ``.open`` -> final, fsync the directory.

        Returns the final names of the files closed since the previous ``close()``, rotated
        ones included, so the caller can mark them closed in the index.
        """
        self._close_current()
        closed = self.closed_files[self._reported :]
        self._reported = len(self.closed_files)
        return closed

    def __enter__(self) -> WarcWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- appending ----------------------------------------------------------------------------

    def _begin(self) -> tuple[BinaryIO, int]:
        """The file to append to (opened on first use) and where the next record starts."""
        fh = self._fh if self._fh is not None else self._open_new_file()
        return fh, fh.tell()

    @contextlib.contextmanager
    def _undo_on_error(self, fh: BinaryIO, start: int) -> Iterator[None]:
        """On any error cut the file back to ``start``, so it never holds half a record."""
        try:
            yield
        except BaseException:
            self._undo(fh, start)
            raise

    def _finish(self, start: int, record: RecordWritten) -> WrittenRecord:
        """Count the record, rotate or sync as due; returns where ``record`` (at start) is."""
        assert self._fh is not None
        self.records_written += 1
        self._unsynced += 1
        if self._fh.tell() >= self.max_size:
            self._close_current()  # rotation: the next record opens a new file
        elif self._unsynced >= self.fsync_every:
            self.sync()
        return WrittenRecord(
            warc_name=self._final_name(),
            offset=start,
            length=record.length,
            record_id=record.record_id,
            payload_digest=record.payload_digest or "",
            date=record.date,
        )

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

    def _fsync(self, fh: BinaryIO) -> None:
        fh.flush()
        os.fsync(fh.fileno())
        self._unsynced = 0

    # -- files --------------------------------------------------------------------------------

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
            fields = {**warcinfo_fields("warcio", self.hostname), **self.info}
            self.records.write_warcinfo(fh, filename=final_name, fields=fields)
            fsync_directory(self.directory)  # the .open entry itself must survive a crash
        except BaseException:
            fh.close()
            path.unlink(missing_ok=True)  # holds no record yet: nothing to keep
            raise
        self._fh, self._path = fh, path
        LIVE_PATHS.add(path)
        return fh

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

    def _next_name(self) -> str:
        """A fresh name; O_EXCL guards the ``.open`` name, this guards the final one."""
        while True:
            self._serial += 1
            stamp = self.records.now().astimezone(UTC).strftime("%Y%m%d%H%M%S%f")
            pid = os.getpid()
            name = f"{self.prefix}-{stamp}-{self.hostname}-{pid}-{self._serial:05d}{WARC_SUFFIX}"
            if not (self.directory / name).exists():
                return name

    def _final_name(self) -> str:
        """The name the index stores: the final one, valid after rotation/close as well.

        Called right after a record was counted, which may have rotated: closed_files then
        holds it.
        """
        if self._path is not None:
            return self._path.name.removesuffix(OPEN_SUFFIX)
        return self.closed_files[-1]
