"""Crash recovery: close the ``.open`` files a dead writer left, cut at the last good record.

warc_reader says how much of a file is sound; warc_files' lock says whether its writer still
lives. Nothing is destroyed: bytes cut off and files with no good record go to
``quarantine/``.
"""

from __future__ import annotations

import fcntl
import os
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Literal

from storage.warc_files import (
    LIVE_PATHS,
    OPEN_SUFFIX,
    close_open_file,
    fsync_directory,
    pid_from_name,
)
from storage.warc_reader import good_prefix

QUARANTINE = "quarantine"
_CHUNK = 1 << 16


@dataclass(frozen=True)
class RecoveryReport:
    file: str  # final name (closed), or the .open name (skipped, quarantined)
    action: Literal["closed", "quarantined", "skipped"]
    records_kept: int = 0
    bytes_cut: int = 0
    problem: str | None = None  # why bytes were cut or the file set aside
    saved_tail: str | None = None  # quarantine/ copy of the bytes cut, if any


def recover_open_files(directory: Path) -> list[RecoveryReport]:
    """Close the ``.open`` files a crashed writer left, cut at the last complete record.

    A file still locked by its writer (see ``warc_files.WarcWriter._open_new_file``) is
    skipped. Files with no complete record go to ``quarantine/``; bytes cut off are saved
    there too, so recovery never destroys anything that might matter to a person looking at
    it later.
    """
    directory = Path(directory)
    return [_recover_one(path) for path in sorted(directory.glob("*" + OPEN_SUFFIX))]


def _recover_one(path: Path) -> RecoveryReport:
    if path in LIVE_PATHS:  # ours, being written right now
        return RecoveryReport(path.name, "skipped", problem="open in this process")
    with path.open("r+b") as fh:
        if not _owns_file(fh, path):
            return RecoveryReport(path.name, "skipped", problem="its writer is alive")
        good = good_prefix(path)
        final = path.with_name(path.name.removesuffix(OPEN_SUFFIX))
        if good.records == 0 or final.exists():
            why = good.problem if good.records == 0 else f"{final.name} already exists"
            _quarantine(path)
            return RecoveryReport(path.name, "quarantined", problem=why or "no record")
        size = os.fstat(fh.fileno()).st_size
        saved = _save_tail(fh, path, good.end) if good.end < size else None
        fh.truncate(good.end)
        fh.flush()
        os.fsync(fh.fileno())
        close_open_file(path)  # still holding the lock, so no second recoverer races us
    return RecoveryReport(
        final.name,
        "closed",
        records_kept=good.records,
        bytes_cut=size - good.end,
        problem=good.problem,
        saved_tail=saved,
    )


def _owns_file(fh: BinaryIO, path: Path) -> bool:
    """Take the writer's lock; fall back to the pid in the name where locks are unsupported."""
    try:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False
    except OSError:
        pid = pid_from_name(path.name)
        return pid is None or pid == os.getpid() or not _pid_alive(pid)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        return True
    return True


def _save_tail(fh: BinaryIO, path: Path, start: int) -> str:
    """Copy the bytes about to be cut to quarantine/ (crash debris, but never destroy data)."""
    folder = _quarantine_dir(path.parent)
    target = folder / f"{path.name}.tail-{start}"
    fh.seek(start)
    with target.open("wb") as out:
        while chunk := fh.read(_CHUNK):
            out.write(chunk)
        out.flush()
        os.fsync(out.fileno())
    fsync_directory(folder)
    return f"{QUARANTINE}/{target.name}"


def _quarantine(path: Path) -> None:
    folder = _quarantine_dir(path.parent)
    os.replace(path, folder / path.name)
    fsync_directory(folder)
    fsync_directory(path.parent)


def _quarantine_dir(directory: Path) -> Path:
    folder = directory / QUARANTINE
    folder.mkdir(exist_ok=True)
    return folder
