"""Near-duplicate detection: signatures, verification, and the LSH index in memory and Redis."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import threading
from importlib import resources
from pathlib import Path

import numpy as np
import pytest
import redis
from datasketch import MinHash

from processing.dedup import (
    BANDS,
    MAX_IDS_PER_BAND,
    NUM_PERM,
    ROWS,
    LshIndex,
    MemoryLshIndex,
    Signature,
    estimated_similarity,
    is_near_duplicate,
    shingle_hashes,
    signature,
    signature_from_bytes,
    signature_to_bytes,
    unpack_ids,
)
from tasks.redis_lsh import RedisLshIndex
from vocabulary.normalize import matching_key

REDIS_DB = 13
PREFIX = "test:lsh:"

SEED_LINES = (
    resources.files("newsvault.sample_site")
    .joinpath("seed_ar.txt")
    .read_text(encoding="utf-8")
    .splitlines()
)
SEED_TEXT = "\n".join(SEED_LINES)

UNRELATED_ARABIC = (
    "أعلنت وزارة الزراعة اليوم عن خطة جديدة لدعم المزارعين في المناطق الريفية، تشمل توزيع "
    "البذور المحسنة وتوفير قروض ميسرة لشراء معدات الري الحديثة. وقال الوزير في مؤتمر صحفي إن "
    "الموسم الحالي شهد انخفاضا في كميات الأمطار مقارنة بالأعوام الماضية، مما أثر على إنتاج القمح "
    "والشعير. وأضاف أن الحكومة ستعمل مع المنظمات الدولية على إنشاء سدود صغيرة لتخزين المياه، "
    "وأن برامج التدريب ستبدأ الشهر المقبل في عشر محافظات. ويأمل الخبراء أن تسهم هذه الإجراءات "
    "في تحقيق الاكتفاء الذاتي من الحبوب خلال السنوات الخمس المقبلة، وتقليل الاعتماد على الاستيراد."
)

UNRELATED_ENGLISH = (
    "The city council approved a new budget on Tuesday that increases spending on public "
    "transport and road repairs. The mayor said the plan would add two tram lines by 2027 and "
    "extend night bus services to the suburbs. Opposition members criticised the cost, warning "
    "that property taxes could rise next year. Local businesses welcomed the investment, saying "
    "better connections would bring more customers into the historic centre."
)


def _signature_of(text: str) -> Signature:
    return signature(matching_key(text))


def _edit_words(text: str, fraction: float, rng: random.Random, vocabulary: list[str]) -> str:
    """Edit ``fraction`` of the words the way copy editors do: runs of 1-4 words replaced,
    deleted or added to. (Edits scattered one word at a time are harder: at 5-10% the 14 x 9
    banding finds about 92% of those, see the report to the lead.)"""
    words = text.split(" ")
    budget = max(1, round(len(words) * fraction))
    while budget > 0:
        run = min(budget, rng.randint(1, 4))
        start = rng.randrange(len(words) - run + 1)
        roll = rng.random()
        for index in range(start, start + run):
            if roll < 0.5:
                words[index] = rng.choice(vocabulary)
            elif roll < 0.75:
                words[index] = ""
            else:
                words[index] += " " + rng.choice(vocabulary)
        budget -= run
    return " ".join(word for word in words if word)


def _republished_seed() -> str:
    """The syndicated copy: about 7% of the words edited and قاآني spelled قآني."""
    rng = random.Random(11)
    vocabulary = ["تصريحات", "الأحد", "مصادر", "رسمية", "أيضا", "حسب"]
    title, body = SEED_LINES[0], "\n".join(SEED_LINES[1:])
    edited = _edit_words(body, 0.07, rng, vocabulary)
    return title + "\n" + edited.replace("قاآني", "قآني")


# --- signatures -----------------------------------------------------------------------------


def test_signature_shape_and_bytes_round_trip() -> None:
    sig = _signature_of(SEED_TEXT)
    assert sig.dtype == np.uint32 and sig.shape == (NUM_PERM,) == (BANDS * ROWS,)
    data = signature_to_bytes(sig)
    assert len(data) == 4 * NUM_PERM
    assert np.array_equal(signature_from_bytes(data), sig)
    with pytest.raises(ValueError):
        signature_from_bytes(data[:-1])


def test_signature_equals_datasketch_minhash() -> None:
    key = matching_key(SEED_TEXT)
    reference = MinHash(num_perm=NUM_PERM, seed=1, scheme="affine32", hashfunc=int)
    reference.update_batch(shingle_hashes(key).tolist())
    assert np.array_equal(signature(key), reference.hashvalues)


def test_signature_is_stable_across_processes() -> None:
    # Signatures are stored and compared across workers: no salted hash() anywhere. These
    # values are pinned: if they change, every stored signature and the Redis index are stale.
    expected = [4124578, 6090994, 156039, 874052]
    assert signature(matching_key(SEED_TEXT))[:4].tolist() == expected
    code = (
        "from importlib import resources; from processing.dedup import signature;"
        "from vocabulary.normalize import matching_key;"
        "t = resources.files('newsvault.sample_site').joinpath('seed_ar.txt')"
        ".read_text(encoding='utf-8');"
        "print(signature(matching_key('\\n'.join(t.splitlines())))[:4].tolist())"
    )
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    output = subprocess.run(
        [sys.executable, "-c", code], cwd=root, env=env, capture_output=True, text=True, check=True
    ).stdout
    assert output.strip() == str(expected)


def test_shingles_of_short_and_empty_texts() -> None:
    assert shingle_hashes("").size == 0
    assert shingle_hashes("abc").size == 1
    assert shingle_hashes("abcdef").size == 2
    assert shingle_hashes("aaaaaaaa").size == 1  # a set: repeats count once


def test_empty_text_is_never_a_near_duplicate() -> None:
    empty = signature("")
    assert not is_near_duplicate(empty, empty)
    assert MemoryLshIndex().query_and_insert(1, empty) == []


def test_similarity_estimates() -> None:
    sig = _signature_of(SEED_TEXT)
    assert estimated_similarity(sig, sig) == 1.0
    assert estimated_similarity(sig, _signature_of(UNRELATED_ARABIC)) < 0.1
    with pytest.raises(ValueError):
        estimated_similarity(sig, sig[:10])


# --- the seed story -------------------------------------------------------------------------


def test_republished_seed_is_a_near_duplicate() -> None:
    original, copy = _signature_of(SEED_TEXT), _signature_of(_republished_seed())
    assert "قآني" in _republished_seed() and "قاآني" not in _republished_seed()
    assert estimated_similarity(original, copy) > 0.7
    assert is_near_duplicate(original, copy)
    index = MemoryLshIndex()
    assert index.query_and_insert(1, original) == []
    assert index.query_and_insert(2, copy) == [1]


def test_unrelated_articles_are_not_candidates() -> None:
    index = MemoryLshIndex()
    index.query_and_insert(1, _signature_of(SEED_TEXT))
    for doc_id, text in [(2, UNRELATED_ARABIC), (3, UNRELATED_ENGLISH)]:
        sig = _signature_of(text)
        assert index.query_and_insert(doc_id, sig) == []
        assert not is_near_duplicate(_signature_of(SEED_TEXT), sig)


# --- index semantics, shared by both implementations ---------------------------------------


def test_index_finds_copy_and_not_unrelated(lsh_index: LshIndex) -> None:
    assert lsh_index.query_and_insert(1, _signature_of(SEED_TEXT)) == []
    assert lsh_index.query_and_insert(2, _signature_of(UNRELATED_ENGLISH)) == []
    assert lsh_index.query_and_insert(3, _signature_of(_republished_seed())) == [1]
    assert lsh_index.query_and_insert(4, _signature_of(UNRELATED_ARABIC)) == []


def test_reinserting_a_document_is_idempotent(lsh_index: LshIndex) -> None:
    sig = _signature_of(SEED_TEXT)
    assert lsh_index.query_and_insert(7, sig) == []
    assert lsh_index.query_and_insert(7, sig) == []  # a redelivered task: not its own candidate
    assert lsh_index.query_and_insert(8, sig) == [7]


def test_remove_forgets_the_document(lsh_index: LshIndex) -> None:
    sig = _signature_of(SEED_TEXT)
    lsh_index.query_and_insert(1, sig)
    lsh_index.query_and_insert(2, sig)
    lsh_index.remove(1, sig)
    assert lsh_index.query_and_insert(3, sig) == [2]
    lsh_index.remove(1, sig)  # removing twice is harmless


def test_update_many_equals_the_calls_one_by_one(lsh_index: LshIndex) -> None:
    seed, copy = _signature_of(SEED_TEXT), _signature_of(_republished_seed())
    english, arabic = _signature_of(UNRELATED_ENGLISH), _signature_of(UNRELATED_ARABIC)
    empty = _signature_of("")
    found = lsh_index.update_many(
        [
            (1, seed, None),
            (2, english, None),
            (3, copy, None),  # finds 1, indexed in the same call
            (4, empty, None),  # no text: neither matched nor inserted
            (1, arabic, seed),  # 1 was edited: its old bands go, so 3 no longer matches it
            (5, copy, None),
        ]
    )
    assert found == [[], [], [1], [], [], [3]]


def test_a_band_holds_at_most_the_cap(lsh_index: LshIndex) -> None:
    sig = _signature_of(SEED_TEXT)
    for doc_id in range(1, MAX_IDS_PER_BAND + 3):
        lsh_index.query_and_insert(doc_id, sig)
    found = lsh_index.query_and_insert(1000, sig)
    assert sorted(found) == list(range(1, MAX_IDS_PER_BAND + 1))


def test_large_ids_round_trip(lsh_index: LshIndex) -> None:
    sig = _signature_of(SEED_TEXT)
    big = (1 << 48) - 1
    lsh_index.query_and_insert(big, sig)
    assert lsh_index.query_and_insert(1, sig) == [big]
    with pytest.raises(ValueError):
        lsh_index.query_and_insert(1 << 48, sig)


def _corpus(seed: int, originals: int) -> tuple[list[str], dict[int, int]]:
    """Synthetic Arabic-script articles and planted near-duplicates (5-10% of words edited).

    Returns the texts (doc id = position + 1) and, for each copy's id, its original's id.
    """
    rng = random.Random(seed)
    letters = [chr(code) for code in range(0x0628, 0x064A)]
    vocabulary = ["".join(rng.choices(letters, k=rng.randint(2, 8))) for _ in range(5000)]
    common = ["في", "من", "على", "إلى", "أن", "التي", "الذي", "عن", "مع"]
    texts: list[str] = []
    planted: dict[int, int] = {}
    for _ in range(originals):
        length = rng.randint(250, 700)
        words = [
            rng.choice(common) if rng.random() < 0.2 else rng.choice(vocabulary)
            for _ in range(length)
        ]
        texts.append(" ".join(words))
        original_id = len(texts)
        texts.append(_edit_words(texts[-1], rng.uniform(0.05, 0.10), rng, vocabulary))
        planted[len(texts)] = original_id
    return texts, planted


def _cluster_pairs(index: LshIndex, signatures: list[Signature]) -> set[tuple[int, int]]:
    """What the pipeline does: candidates from the index, verified against signatures."""
    pairs = set()
    for doc_id, sig in enumerate(signatures, start=1):
        for other in index.query_and_insert(doc_id, sig):
            if is_near_duplicate(sig, signatures[other - 1]):
                pairs.add((min(doc_id, other), max(doc_id, other)))
    return pairs


def test_recall_and_precision_on_planted_near_duplicates() -> None:
    texts, planted = _corpus(seed=3, originals=200)
    signatures = [signature(matching_key(text)) for text in texts]
    found = _cluster_pairs(MemoryLshIndex(), signatures)
    expected = {(original, copy) for copy, original in planted.items()}
    recall = len(found & expected) / len(expected)
    precision = len(found & expected) / len(found)
    assert recall >= 0.95, recall
    assert precision >= 0.99, precision


def test_redis_index_agrees_with_memory_index(redis_client: redis.Redis) -> None:
    texts, _ = _corpus(seed=4, originals=40)
    signatures = [signature(matching_key(text)) for text in texts]
    memory, shared = MemoryLshIndex(), RedisLshIndex(redis_client, prefix=PREFIX)
    for doc_id, sig in enumerate(signatures, start=1):
        assert sorted(shared.query_and_insert(doc_id, sig)) == sorted(
            memory.query_and_insert(doc_id, sig)
        )
    for doc_id in range(1, len(signatures) + 1, 3):
        memory.remove(doc_id, signatures[doc_id - 1])
        shared.remove(doc_id, signatures[doc_id - 1])
    for doc_id, sig in enumerate(signatures, start=1000):
        assert sorted(shared.query_and_insert(doc_id, sig)) == sorted(
            memory.query_and_insert(doc_id, sig)
        )


# --- Redis specifics ------------------------------------------------------------------------


def _ids_per_field(client: redis.Redis, key: bytes | str) -> list[list[int]]:
    return [unpack_ids(bytes(value)) for value in client.hvals(key)]  # type: ignore[arg-type]


def test_redis_index_layout_is_compact(redis_client: redis.Redis) -> None:
    index = RedisLshIndex(redis_client, prefix=PREFIX)
    sig = _signature_of(SEED_TEXT)
    index.query_and_insert(1, sig)
    index.query_and_insert(2, sig)
    keys = sorted(redis_client.keys(PREFIX + "*"))
    assert len(keys) == BANDS
    for key in keys:
        assert redis_client.object("encoding", key) == b"listpack"
        assert _ids_per_field(redis_client, key) == [[1, 2]]


def test_concurrent_inserts_of_one_document_store_it_once(redis_client: redis.Redis) -> None:
    sig = _signature_of(SEED_TEXT)
    barrier = threading.Barrier(8)
    results: list[list[int]] = []

    def insert() -> None:
        client = redis.Redis(host="127.0.0.1", port=6379, db=REDIS_DB)
        index = RedisLshIndex(client, prefix=PREFIX)
        barrier.wait()
        results.append(index.query_and_insert(42, sig))
        client.close()

    threads = [threading.Thread(target=insert) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [[]] * 8
    for key in redis_client.keys(PREFIX + "*"):
        assert _ids_per_field(redis_client, key) == [[42]]


def test_concurrent_near_duplicates_see_each_other(redis_client: redis.Redis) -> None:
    # Query and insert are one atomic script: of two workers racing, one always sees the other.
    sigs = {1: _signature_of(SEED_TEXT), 2: _signature_of(_republished_seed())}
    barrier = threading.Barrier(2)
    results: dict[int, list[int]] = {}

    def insert(doc_id: int) -> None:
        client = redis.Redis(host="127.0.0.1", port=6379, db=REDIS_DB)
        barrier.wait()
        results[doc_id] = RedisLshIndex(client, prefix=PREFIX).query_and_insert(
            doc_id, sigs[doc_id]
        )
        client.close()

    threads = [threading.Thread(target=insert, args=(doc_id,)) for doc_id in sigs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted([results[1], results[2]]) == [[], [1]] or sorted([results[1], results[2]]) == [
        [],
        [2],
    ]


def test_script_reloads_after_redis_forgets_it(redis_client: redis.Redis) -> None:
    index = RedisLshIndex(redis_client, prefix=PREFIX)
    sig = _signature_of(SEED_TEXT)
    index.query_and_insert(1, sig)
    # As after a Redis restart: EVALSHA answers NOSCRIPT and the script is loaded again. (A
    # bogus digest rather than SCRIPT FLUSH, which would empty the whole server's cache.)
    index._query_and_insert.sha = "0" * 40
    assert index.query_and_insert(2, sig) == [1]


def test_redis_index_refuses_decoding_client() -> None:
    client = redis.Redis(host="127.0.0.1", port=6379, db=REDIS_DB, decode_responses=True)
    with pytest.raises(ValueError, match="decode_responses"):
        RedisLshIndex(client, prefix=PREFIX)
