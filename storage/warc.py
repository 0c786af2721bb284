"""The WARC layer (docs/internals.md, "WARC layer").

The writer lives in warc_writer, reading, verification and recovery in warc_reader.
"""

from __future__ import annotations

from storage.warc_reader import (
    CorruptRecordError,
    IndexedRecord,
    RecoveryReport,
    StoredRecord,
    VerifyProblem,
    decode_content,
    iter_records,
    read_record,
    recover_open_files,
    verify_file,
)
from storage.warc_writer import (
    RevisitTarget,
    WarcWriter,
    WrittenRecord,
    warc_date,
)

__all__ = [
    "CorruptRecordError",
    "IndexedRecord",
    "RecoveryReport",
    "RevisitTarget",
    "StoredRecord",
    "VerifyProblem",
    "WarcWriter",
    "WrittenRecord",
    "decode_content",
    "iter_records",
    "read_record",
    "recover_open_files",
    "verify_file",
    "warc_date",
]
