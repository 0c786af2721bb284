"""The WARC layer (docs/internals.md, "WARC layer"): what the rest of newsvault imports.

Records are serialized in warc_records (onto any file object), files are named, rotated and
synced in warc_files, read and verified in warc_reader, recovered after a crash in
warc_recovery.
"""

from __future__ import annotations

from storage.warc_files import WarcWriter, WrittenRecord
from storage.warc_reader import (
    CorruptRecordError,
    IndexedRecord,
    StoredRecord,
    VerifyProblem,
    decode_content,
    iter_records,
    read_record,
    verify_file,
)
from storage.warc_records import RecordWritten, RevisitTarget, WarcRecordWriter, warc_date
from storage.warc_recovery import RecoveryReport, recover_open_files

__all__ = [
    "CorruptRecordError",
    "IndexedRecord",
    "RecordWritten",
    "RecoveryReport",
    "RevisitTarget",
    "StoredRecord",
    "VerifyProblem",
    "WarcRecordWriter",
    "WarcWriter",
    "WrittenRecord",
    "decode_content",
    "iter_records",
    "read_record",
    "recover_open_files",
    "verify_file",
    "warc_date",
]
