"""Near-duplicate detection: MinHash signatures and a banded LSH index in memory.

The recipe (measured for issue 5): MinHash over character 5-shingles of the matching key,
126 permutations cut into 18 bands of 7 rows. 14 x 9 missed about 8% of copies with 5-10% of
words edited one at a time (every edit breaks its own shingles, Jaccard falls to 0.7-0.8);
18 x 7 moves the S-curve's midpoint from about 0.75 to 0.66 Jaccard and finds 98-100% of them
(bench/bench_dedup.py --tune), for more bytes of Redis per article (see BUCKET_BITS). A candidate
shares at least one band with the query; candidates are then verified with
``is_near_duplicate`` against the signatures kept in the index database, which is also what
the LSH index is rebuilt from. The signature itself (126 values) did not change with the
banding: stored signatures stay valid, only a Redis index must be rebuilt.

datasketch provides the MinHash permutations only. Its own Redis storage takes about 30 round
trips and 5 KB per document and is not atomic across workers, so ``RedisLshIndex`` is ours:
one Lua script call per article (query and insert together), bands packed into small Redis
hashes (listpack-encoded, a dozen bytes per band entry).
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Sequence
from functools import lru_cache
from typing import Protocol

import numpy as np
import numpy.typing as npt
from datasketch import MinHash

__all__ = [
    "BANDS",
    "NUM_PERM",
    "ROWS",
    "SHINGLE_SIZE",
    "LshIndex",
    "MemoryLshIndex",
    "Signature",
    "estimated_similarity",
    "is_near_duplicate",
    "signature",
    "signature_from_bytes",
    "signature_to_bytes",
]

Signature = npt.NDArray[np.uint32]

SHINGLE_SIZE = 5
NUM_PERM = 126
BANDS = 18
ROWS = 7
# Changing any of these three changes every stored signature: they are part of the format.
_MINHASH_SEED = 1
_MINHASH_SCHEME = "affine32"
_EMPTY_VALUE = np.uint32(0xFFFFFFFF)  # what a MinHash slot holds when nothing was hashed

# --- shingle hashing ------------------------------------------------------------------------
#
# A shingle's hash must be the same in every process on every machine (signatures are stored
# and compared across workers), so Python's salted hash() is out. Hashing each shingle with
# sha1 or blake2b costs a Python call per shingle; instead the code points of the text are
# combined with numpy: a polynomial over the 5 code points, then the splitmix64 finalizer to
# spread the bits. All uint64 arithmetic wraps modulo 2**64, which is what we want.

_POLY_MULTIPLIER = np.uint64(0x100000001B3)  # the 64-bit FNV prime: odd, bits well spread
_MIX_1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX_2 = np.uint64(0x94D049BB133111EB)


def _splitmix64(values: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    values = values ^ (values >> np.uint64(30))
    values = values * _MIX_1
    values = values ^ (values >> np.uint64(27))
    values = values * _MIX_2
    return values ^ (values >> np.uint64(31))


def shingle_hashes(key_text: str, size: int = SHINGLE_SIZE) -> npt.NDArray[np.uint32]:
    """Distinct stable 32-bit hashes of the character ``size``-shingles of ``key_text``.

    A text shorter than ``size`` is one shingle; an empty text has none.
    """
    code_points = np.frombuffer(key_text.encode("utf-32-le"), dtype="<u4").astype(np.uint64)
    if code_points.size == 0:
        return np.empty(0, dtype=np.uint32)
    width = min(size, code_points.size)
    count = code_points.size - width + 1
    combined = np.zeros(count, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for offset in range(width):
            combined = combined * _POLY_MULTIPLIER + code_points[offset : offset + count]
        mixed = _splitmix64(combined + np.uint64(width))
    return np.unique((mixed >> np.uint64(32)).astype(np.uint32))


@lru_cache(maxsize=4)
def _permutations(num_perm: int) -> tuple[npt.NDArray[np.uint32], npt.NDArray[np.uint32]]:
    # Drawing the permutations from datasketch's RandomState once per size, not per text.
    a, b = MinHash(num_perm=num_perm, seed=_MINHASH_SEED, scheme=_MINHASH_SCHEME).permutations
    return np.asarray(a, dtype=np.uint32), np.asarray(b, dtype=np.uint32)


def _fmix32(values: npt.NDArray[np.uint32]) -> npt.NDArray[np.uint32]:
    """MurmurHash3's 32-bit finalizer, as datasketch's affine32 scheme applies to inputs."""
    values = values ^ (values >> np.uint32(16))
    values = values * np.uint32(0x85EBCA6B)
    values = values ^ (values >> np.uint32(13))
    values = values * np.uint32(0xC2B2AE35)
    return values ^ (values >> np.uint32(16))


def signature(key_text: str, *, num_perm: int = NUM_PERM) -> Signature:
    """MinHash signature (``num_perm`` uint32 values) of a matching key's 5-shingles.

    The values are exactly those of datasketch's ``MinHash(num_perm, seed=1,
    scheme="affine32")`` fed the shingle hashes (a test checks it), computed here in one
    numpy pass: ``MinHash.update_batch`` takes about 6 times longer for the same result,
    and this runs on every article.
    """
    a, b = _permutations(num_perm)
    hashes = shingle_hashes(key_text)
    if hashes.size == 0:
        return np.full(num_perm, _EMPTY_VALUE, dtype=np.uint32)
    permuted = _fmix32(hashes).reshape(-1, 1) * a  # (shingles x permutations), wraps mod 2**32
    permuted += b
    return np.asarray(permuted.min(axis=0), dtype=np.uint32)


def is_empty_signature(sig: Signature) -> bool:
    """True for the signature of a text without a single shingle."""
    return bool(np.all(sig == _EMPTY_VALUE))


def estimated_similarity(sig_a: Signature, sig_b: Signature) -> float:
    """MinHash estimate of the Jaccard similarity of the two shingle sets."""
    if sig_a.shape != sig_b.shape:
        raise ValueError(f"signatures differ in length: {sig_a.shape} vs {sig_b.shape}")
    return float(np.count_nonzero(sig_a == sig_b)) / float(sig_a.size)


def is_near_duplicate(sig_a: Signature, sig_b: Signature, threshold: float = 0.5) -> bool:
    """Verification of an LSH candidate: estimated Jaccard at least ``threshold``.

    Empty texts are never near-duplicates of anything, not even of each other.
    """
    if is_empty_signature(sig_a) or is_empty_signature(sig_b):
        return False
    return estimated_similarity(sig_a, sig_b) >= threshold


def signature_to_bytes(sig: Signature) -> bytes:
    """Compact storage form: little-endian uint32 values (504 bytes for 126 permutations)."""
    return np.asarray(sig, dtype="<u4").tobytes()


def signature_from_bytes(data: bytes) -> Signature:
    if len(data) % 4:
        raise ValueError(f"a signature is a whole number of uint32 values, got {len(data)} bytes")
    return np.frombuffer(data, dtype="<u4").astype(np.uint32)


# --- banding --------------------------------------------------------------------------------

# A band is identified by a 5-byte digest of its 7 rows: the top BUCKET_BITS of the first
# BUCKET_BYTES pick the Redis hash (the bucket), the remaining bytes are the field inside it.
# 15 + 24 bits: in a bucket of ~30 fields a query hits a wrong one about once in 500,000
# lookups, and verification weeds it out. Measured at a million articles (bench_dedup.py),
# 18 bands over 65,536 buckets with 4-byte fields took 370-398 bytes per article, too close to
# the 400-byte budget: each Redis key costs ~90 bytes, each field ~15; 32,768 buckets and
# 3-byte fields save about 70. The cost: a bucket passes hash-max-listpack-entries (512) at
# about 16 million articles; past that, raise that setting or BUCKET_BITS.
_BAND_DIGEST_BYTES = 5
BUCKET_BYTES = 2
BUCKET_BITS = 15
# A document id is packed in 6 bytes (ids up to 2**48). Ten ids fill 60 bytes, under Redis's
# hash-max-listpack-value (64): a longer value would turn the whole bucket into a real hash
# table and cost several times the memory.
ID_BYTES = 6
MAX_IDS_PER_BAND = 10


def band_digests(sig: Signature, bands: int = BANDS, rows: int = ROWS) -> list[bytes]:
    """One digest per band of the signature; band ``i`` covers rows ``i*rows .. i*rows+rows``."""
    if sig.size != bands * rows:
        raise ValueError(f"signature has {sig.size} values, banding needs {bands} x {rows}")
    raw = signature_to_bytes(sig)
    band_size = rows * 4
    return [
        hashlib.blake2b(
            raw[band * band_size : (band + 1) * band_size], digest_size=_BAND_DIGEST_BYTES
        ).digest()
        for band in range(bands)
    ]


def pack_id(doc_id: int) -> bytes:
    if not 0 <= doc_id < 1 << (8 * ID_BYTES):
        raise ValueError(f"document id {doc_id} does not fit in {ID_BYTES} bytes")
    return doc_id.to_bytes(ID_BYTES, "little")


def unpack_ids(packed: bytes) -> list[int]:
    return [
        int.from_bytes(packed[pos : pos + ID_BYTES], "little")
        for pos in range(0, len(packed), ID_BYTES)
    ]


class LshIndex(Protocol):
    """Where each indexed document's bands live; shared by all workers when in Redis.

    Semantics every implementation keeps:
    - ``query_and_insert`` returns the ids of other documents sharing at least one band with
      ``sig`` (each once, in no particular order, never ``doc_id`` itself) and inserts
      ``doc_id`` in its bands, as one atomic step: of two workers indexing near-duplicates at
      the same time, the second always sees the first.
    - inserting the same ``doc_id`` again (a redelivered task) adds nothing;
    - a band already holding ``MAX_IDS_PER_BAND`` ids takes no more: a flood of copies of one
      story is still found through the ids already there, and the bucket stays small;
    - a document with an empty signature (no text) is neither matched nor inserted.
    When a document's text changes, ``remove`` it with its old signature before inserting the
    new one, or the old bands keep matching.
    """

    def query_and_insert(self, doc_id: int, sig: Signature) -> list[int]: ...

    def remove(self, doc_id: int, sig: Signature) -> None: ...

    def update_many(self, updates: Sequence[IndexUpdate]) -> list[list[int]]:
        """For each update in order: ``remove`` the previous signature (if any), then
        ``query_and_insert`` the new one; returns the candidates of each. On Redis, one round
        trip for all."""
        ...


# (document id, new signature, the signature it replaces or None)
IndexUpdate = tuple[int, Signature, Signature | None]


class MemoryLshIndex:
    """In-process index (embedded mode, tests); rebuilt from the index database at start."""

    def __init__(self) -> None:
        self._bands: dict[tuple[int, bytes], list[int]] = {}
        self._lock = threading.Lock()

    def query_and_insert(self, doc_id: int, sig: Signature) -> list[int]:
        pack_id(doc_id)  # the same id range as Redis, so both indexes accept the same ids
        if is_empty_signature(sig):
            return []
        found: dict[int, None] = {}  # an ordered set
        with self._lock:
            for band, digest in enumerate(band_digests(sig)):
                ids = self._bands.setdefault((band, digest), [])
                found.update(dict.fromkeys(other for other in ids if other != doc_id))
                if doc_id not in ids and len(ids) < MAX_IDS_PER_BAND:
                    ids.append(doc_id)
        return list(found)

    def remove(self, doc_id: int, sig: Signature) -> None:
        if is_empty_signature(sig):
            return
        with self._lock:
            for band, digest in enumerate(band_digests(sig)):
                ids = self._bands.get((band, digest))
                if ids is None or doc_id not in ids:
                    continue
                ids.remove(doc_id)
                if not ids:
                    del self._bands[(band, digest)]

    def update_many(self, updates: Sequence[IndexUpdate]) -> list[list[int]]:
        found = []
        for doc_id, sig, previous in updates:
            if previous is not None:
                self.remove(doc_id, previous)
            found.append(self.query_and_insert(doc_id, sig))
        return found

    def __len__(self) -> int:
        """Number of non-empty band buckets (for tests and statistics)."""
        return len(self._bands)
