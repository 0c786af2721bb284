"""``newsvault verify``: re-read every record of every WARC file and check both digests.

``warc_reader.verify_file`` does the checking (digests, truncation, gzip members); this module
chooses the files and reports progress record by record, since one file may be 1 GiB.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from storage.warc import VerifyProblem, iter_records
from storage.warc_scan import warc_paths

# (bytes done, bytes in all the files chosen)
VerifyProgress = Callable[[int, int], None]


@dataclass
class VerifyReport:
    files: list[str] = field(default_factory=list)
    records: int = 0
    bytes: int = 0
    problems: list[VerifyProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def files_to_verify(directory: Path, since: datetime | None = None) -> list[Path]:
    """Closed and ``.open`` WARC files; with ``since``, those written to at or after it.

    The modification time is what counts: a file created earlier may have received records
    after ``since``.
    """
    paths = warc_paths(directory)
    if since is None:
        return paths
    return [p for p in paths if datetime.fromtimestamp(p.stat().st_mtime, UTC) >= since]


def verify_archive(
    directory: Path,
    *,
    since: datetime | None = None,
    progress: VerifyProgress | None = None,
) -> VerifyReport:
    """Check every record; every bad one is reported by file and offset, none is skipped."""
    report = VerifyReport()
    paths = files_to_verify(Path(directory), since)
    total = sum(p.stat().st_size for p in paths)
    done = 0
    for path in paths:
        report.files.append(path.name)
        for record in iter_records(path, on_problem=report.problems.append):
            report.records += 1
            if progress is not None:
                progress(done + record.offset + record.length, total)
        done += path.stat().st_size
        report.bytes = done
        if progress is not None:
            progress(done, total)
    return report
