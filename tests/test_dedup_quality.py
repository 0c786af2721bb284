"""Dedup quality floors on a generated corpus (a smaller run of bench/bench_dedup.py).

2,000 Arabic and English articles from ``bench/corpus.py`` with planted near duplicates
(5-10% of words edited: scattered single words, runs, mixed, Arabic respellings) and exact
duplicates, through the memory and the Redis index as processing uses them. The benchmark
runs the same on 20,000 articles and reports the numbers.
"""

from __future__ import annotations

import pytest

from bench.bench_dedup import RECALL_FLOOR, Quality, keys_of, score, verified_pairs
from bench.corpus import EDIT_STYLES, Corpus, generate_corpus
from processing.dedup import LshIndex, signature
from vocabulary.normalize import matching_key


@pytest.fixture(scope="module")
def corpus() -> Corpus:
    return generate_corpus(2_000, seed=11)


def test_corpus_is_what_the_floors_are_about(corpus: Corpus) -> None:
    docs = corpus.docs
    assert len(docs) == 2_000
    assert {doc.language for doc in docs} == {"ar", "en"}
    assert {doc.style for doc in docs if doc.kind == "near"} == set(EDIT_STYLES)
    assert any(doc.kind == "exact" for doc in docs)
    lengths = [len(doc.text.split()) for doc in docs if doc.kind == "original"]
    assert min(lengths) >= 280 and max(lengths) <= 930
    for doc in docs:
        if doc.kind == "near":
            assert 0.05 <= doc.edited <= 0.10
            assert doc.text != corpus.by_id(doc.group).text


def test_recall_and_precision_floors(corpus: Corpus, lsh_index: LshIndex) -> None:
    signatures = [signature(key) for key in keys_of(corpus)]
    quality: Quality = score("test", corpus, verified_pairs(lsh_index, signatures))
    assert quality.recall >= RECALL_FLOOR, quality.by_kind
    assert quality.precision >= 0.99, quality.false_pairs
    assert quality.cluster_recall >= quality.recall
    # Exact duplicates share every band: never missed.
    exact = [total - hit for kind, (hit, total) in quality.by_kind.items() if "exact" in kind]
    assert exact and sum(exact) == 0


def test_arabic_respellings_cost_nothing() -> None:
    text = "قال إسماعيل قاآني إن المرحلة المقبلة ستشهد تغييرات كبيرة في المنطقة"
    variant = "قال اسماعيل قآني إنّ المرحلةُ المقبله ستشهد تغييرات كبيرة فى المنطقة"
    assert matching_key(text) == matching_key(variant)
