"""Dedup benchmark (issue 5): quality on a generated corpus, then speed and Redis memory.

    .venv/bin/python bench/bench_dedup.py [--articles 20000] [--index-size 1000000]
        [--pages 300] [--tune] [--quick] [--redis-db 12]

Quality: ``bench/corpus.py`` generates Arabic and English articles with planted near
duplicates (5-10% of words edited: scattered, runs, mixed; Arabic respellings) and exact
duplicates. Every article goes through what processing does: matching key, MinHash, one
``query_and_insert`` on the LSH index (memory and Redis), candidates verified with
``is_near_duplicate``. Recall: planted (original, copy) pairs found directly; cluster recall:
the copy ends in its original's cluster (union of verified pairs, what ``newsvault clusters``
shows). Precision: verified pairs whose two articles are copies of one story. Floors:
recall >= 0.95, precision >= 0.99. ``--tune`` also compares bandings and shingle sizes.

Speed, per ~60 KB article page: extraction (decode + extract), normalization (clean text,
matching key, content hash) and dedup (signature + Redis ``query_and_insert``) with
``--index-size`` random signatures bulk-loaded first; floor: dedup median under 3 ms. Redis
memory per indexed article: ``used_memory`` delta / N (floor: under 400 bytes), checked against
a ``MEMORY USAGE`` sample because the server is shared.

Prints rich tables and appends a dated section to bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
import redis
from rich.console import Console
from rich.table import Table

from bench.corpus import EDIT_STYLES, Corpus, article_page, generate_corpus
from bench.results import append_section, rich_markdown
from processing import dedup
from processing.decode import decode_html
from processing.dedup import (
    LshIndex,
    MemoryLshIndex,
    Signature,
    band_digests,
    is_near_duplicate,
    signature,
)
from processing.extract import ExtractedArticle, extract_article
from tasks.redis_lsh import RedisLshIndex
from vocabulary.normalize import clean_text, content_hash, matching_key

RESULTS = Path(__file__).parent / "RESULTS.md"
PREFIX = "bench:lsh:"
RECALL_FLOOR, PRECISION_FLOOR = 0.95, 0.99
DEDUP_MEDIAN_FLOOR_MS, BYTES_FLOOR = 3.0, 400
console = Console(width=150)


# --- quality ----------------------------------------------------------------------------------


@dataclass
class Quality:
    label: str
    planted: int
    found_planted: int
    verified: int
    false_pairs: int
    cluster_found: int
    candidates: float = 0.0  # LSH candidates per article, before verification
    by_kind: dict[str, tuple[int, int]] = field(default_factory=dict)

    @property
    def recall(self) -> float:
        return self.found_planted / self.planted if self.planted else 1.0

    @property
    def cluster_recall(self) -> float:
        return self.cluster_found / self.planted if self.planted else 1.0

    @property
    def precision(self) -> float:
        return (self.verified - self.false_pairs) / self.verified if self.verified else 1.0

    @property
    def ok(self) -> bool:
        return self.recall >= RECALL_FLOOR and self.precision >= PRECISION_FLOOR


def verified_pairs(
    index: LshIndex, signatures: list[Signature]
) -> tuple[set[tuple[int, int]], float]:
    """The pipeline's rule: candidates from one query_and_insert, verified on signatures.

    Also returns the mean number of candidates per article: each costs a database read.
    """
    pairs = set()
    candidates = 0
    for doc_id, sig in enumerate(signatures, start=1):
        found = index.query_and_insert(doc_id, sig)
        candidates += len(found)
        for other in found:
            if is_near_duplicate(sig, signatures[other - 1]):
                pairs.add((min(doc_id, other), max(doc_id, other)))
    return pairs, candidates / max(1, len(signatures))


def _components(pairs: Iterable[tuple[int, int]]) -> Callable[[int], int]:
    parent: dict[int, int] = {}

    def find(node: int) -> int:
        root = node
        while parent.get(root, root) != root:
            root = parent[root]
        while node != root:  # path compression keeps later finds short
            parent[node], node = root, parent.get(node, node)
        return root

    for a, b in pairs:
        parent[find(a)] = find(b)
    return find


def score(label: str, corpus: Corpus, result: tuple[set[tuple[int, int]], float]) -> Quality:
    found, candidates = result
    group = {doc.doc_id: doc.group for doc in corpus.docs}
    find = _components(found)
    quality = Quality(label, 0, 0, len(found), 0, 0, candidates)
    quality.false_pairs = sum(1 for a, b in found if group[a] != group[b])
    tally: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for original, copy in corpus.planted_pairs():
        doc = corpus.by_id(copy)
        kind = f"{doc.kind} {doc.style} {doc.language}".replace("  ", " ")
        hit = (original, copy) in found
        quality.planted += 1
        quality.found_planted += hit
        quality.cluster_found += find(original) == find(copy)
        tally[kind][0] += hit
        tally[kind][1] += 1
    quality.by_kind = {kind: (hit, total) for kind, (hit, total) in sorted(tally.items())}
    return quality


def keys_of(corpus: Corpus) -> list[str]:
    return [matching_key(doc.key_text) for doc in corpus.docs]


def run_quality(corpus: Corpus, keys: list[str], client: redis.Redis) -> list[Quality]:
    signatures = [signature(key) for key in keys]
    results = [score("memory index", corpus, verified_pairs(MemoryLshIndex(), signatures))]
    _flush(client)
    shared = RedisLshIndex(client, prefix=PREFIX)
    results.append(score("Redis index", corpus, verified_pairs(shared, signatures)))
    _flush(client)
    return results


def quality_table(results: list[Quality], title: str) -> Table:
    table = Table(title=title)
    columns = ("run", "planted", "recall", "cluster recall", "candidates/article", "verified")
    for column in (*columns, "false", "precision"):
        table.add_column(column, justify="left" if column == "run" else "right")
    table.add_column("ok")
    for q in results:
        table.add_row(
            q.label,
            str(q.planted),
            f"{q.recall:.4f}",
            f"{q.cluster_recall:.4f}",
            f"{q.candidates:.2f}",
            str(q.verified),
            str(q.false_pairs),
            f"{q.precision:.4f}",
            "yes" if q.ok else "NO",
        )
    return table


def kinds_table(quality: Quality) -> Table:
    table = Table(title=f"recall by planted kind ({quality.label})")
    for column in ("kind", "found", "planted", "recall"):
        table.add_column(column, justify="left" if column == "kind" else "right")
    for kind, (hit, total) in quality.by_kind.items():
        table.add_row(kind, str(hit), str(total), f"{hit / total:.4f}")
    return table


# --- tuning -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Config:
    bands: int
    rows: int
    shingle: int = dedup.SHINGLE_SIZE
    threshold: float = 0.5

    @property
    def label(self) -> str:
        return f"{self.bands}x{self.rows}, {self.shingle}-shingles, verify {self.threshold}"


def _signature_with(key: str, config: Config) -> Signature:
    num_perm = config.bands * config.rows
    if config.shingle == dedup.SHINGLE_SIZE:
        return signature(key, num_perm=num_perm)
    a, b = dedup._permutations(num_perm)
    hashes = dedup.shingle_hashes(key, config.shingle)
    permuted = dedup._fmix32(hashes).reshape(-1, 1) * a
    permuted += b
    return np.asarray(permuted.min(axis=0), dtype=np.uint32)


def banded_pairs(signatures: list[Signature], config: Config) -> tuple[set[tuple[int, int]], float]:
    """A memory index with the given banding (no band cap: tuning looks at the curve only)."""
    buckets: dict[tuple[int, bytes], list[int]] = defaultdict(list)
    pairs = set()
    total = 0
    for doc_id, sig in enumerate(signatures, start=1):
        candidates: set[int] = set()
        for band, digest in enumerate(band_digests(sig, config.bands, config.rows)):
            ids = buckets[(band, digest)]
            candidates.update(ids)
            ids.append(doc_id)
        total += len(candidates)
        for other in candidates:
            if is_near_duplicate(sig, signatures[other - 1], config.threshold):
                pairs.add((other, doc_id))
    return pairs, total / max(1, len(signatures))


def run_tuning(corpus: Corpus, keys: list[str]) -> list[tuple[Config, Quality]]:
    configs = [
        Config(14, 9),
        Config(18, 7),
        Config(21, 6),
        Config(18, 7, threshold=0.4),
        Config(18, 7, shingle=4),
        Config(18, 7, shingle=6),
    ]
    results = []
    for config in configs:
        started = time.perf_counter()
        signatures = [_signature_with(key, config) for key in keys]
        results.append((config, score(config.label, corpus, banded_pairs(signatures, config))))
        console.print(f"  tuned {config.label} in {time.perf_counter() - started:.0f} s")
    return results


def tuning_table(results: list[tuple[Config, Quality]]) -> Table:
    table = Table(title="tuning: banding, shingle size, verification threshold")
    table.add_column("config")
    table.add_column("recall", justify="right")
    for style in EDIT_STYLES:
        table.add_column(f"recall {style}", justify="right")
    table.add_column("precision", justify="right")
    table.add_column("candidates/article", justify="right")
    for _config, q in results:
        styles = []
        for style in EDIT_STYLES:
            hit = sum(h for k, (h, _) in q.by_kind.items() if f" {style} " in f" {k} ")
            total = sum(t for k, (_, t) in q.by_kind.items() if f" {style} " in f" {k} ")
            styles.append(f"{hit / total:.4f}" if total else "-")
        table.add_row(
            q.label, f"{q.recall:.4f}", *styles, f"{q.precision:.4f}", f"{q.candidates:.2f}"
        )
    return table


# --- speed ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Timing:
    stage: str
    samples: list[float]  # milliseconds

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def p99(self) -> float:
        return float(np.percentile(self.samples, 99))


def _flush(client: redis.Redis) -> None:
    client.flushdb()


def _random_signatures(count: int, seed: int) -> Iterator[tuple[int, Signature]]:
    rng = np.random.default_rng(seed)
    for start in range(0, count, 10_000):
        block = rng.integers(0, 0xFFFFFFFF, size=(min(10_000, count - start), dedup.NUM_PERM))
        for offset, row in enumerate(block.astype(np.uint32)):
            yield start + offset + 1, row


@dataclass(frozen=True)
class LoadReport:
    count: int
    seconds: float
    used_delta: int
    sampled_bytes: float
    keys: int

    @property
    def per_article(self) -> float:
        return self.used_delta / self.count

    @property
    def sampled_per_article(self) -> float:
        return self.sampled_bytes / self.count


def bulk_load(client: redis.Redis, count: int) -> LoadReport:
    """``count`` random signatures in the Redis index, pipelined; memory measured twice."""
    _flush(client)
    before = int(client.info("memory")["used_memory"])
    started = time.perf_counter()
    index = RedisLshIndex(client, prefix=PREFIX)
    loaded = index.insert_many(_random_signatures(count, seed=5), batch=2000)
    seconds = time.perf_counter() - started
    after = int(client.info("memory")["used_memory"])
    keys = int(client.dbsize())
    # A sample of MEMORY USAGE: other work on the shared server cannot skew it.
    sample = [client.randomkey() for _ in range(2000)]
    sizes = [client.memory_usage(key, samples=0) or 0 for key in sample if key is not None]
    sampled = statistics.fmean(sizes) * keys if sizes else 0.0
    return LoadReport(loaded, seconds, after - before, sampled, keys)


def _timed(function: Callable[[], Any]) -> tuple[Any, float]:
    started = time.perf_counter()
    result = function()
    return result, (time.perf_counter() - started) * 1000


def run_speed(corpus: Corpus, pages: int, client: redis.Redis, first_id: int) -> list[Timing]:
    """Per page: extraction, normalization, dedup against the loaded Redis index."""
    docs = [doc for doc in corpus.docs if doc.kind == "original"][:pages]
    bodies = [article_page(doc, corpus.docs[doc.doc_id : doc.doc_id + 400]) for doc in docs]
    index = RedisLshIndex(client, prefix=PREFIX)
    stages: dict[str, list[float]] = defaultdict(list)
    for number, body in enumerate(bodies):

        def extract(body: bytes = body) -> Any:
            page = decode_html(body, "text/html; charset=utf-8")
            return extract_article(page.text, "http://127.0.0.1:8741/story.html")

        extracted, ms = _timed(extract)
        stages["extraction (decode + extract)"].append(ms)
        assert isinstance(extracted, ExtractedArticle), extracted

        def normalize(article: ExtractedArticle = extracted) -> str:
            title, text = clean_text(article.title), clean_text(article.text)
            content_hash(title, text)
            return matching_key(title + "\n" + text)

        key, ms = _timed(normalize)
        stages["normalization (clean, key, hash)"].append(ms)
        doc_id = first_id + number

        def deduplicate(key: str = key, doc_id: int = doc_id) -> list[int]:
            return index.query_and_insert(doc_id, signature(key))

        _, ms = _timed(deduplicate)
        stages["dedup (signature + Redis query/insert)"].append(ms)
    return [Timing(stage, samples) for stage, samples in stages.items()]


def speed_table(timings: list[Timing], load: LoadReport, page_kb: float) -> Table:
    table = Table(title=f"per article page (~{page_kb:.0f} KB HTML), {load.count:,} in the index")
    for column in ("stage", "n", "median ms", "p99 ms", "floor", "ok"):
        table.add_column(column, justify="left" if column in ("stage", "floor") else "right")
    for timing in timings:
        floor = ok = ""
        if timing.stage.startswith("dedup"):
            floor = f"median < {DEDUP_MEDIAN_FLOOR_MS:g} ms"
            ok = "yes" if timing.median < DEDUP_MEDIAN_FLOOR_MS else "NO"
        table.add_row(
            timing.stage,
            str(len(timing.samples)),
            f"{timing.median:.3f}",
            f"{timing.p99:.3f}",
            floor,
            ok,
        )
    return table


def memory_table(load: LoadReport) -> Table:
    table = Table(title="Redis index memory")
    for column in ("measure", "value", "floor", "ok"):
        table.add_column(column)
    table.add_row("articles loaded", f"{load.count:,} in {load.seconds:.0f} s", "", "")
    table.add_row("keys (band buckets)", f"{load.keys:,}", "", "")
    ok = "yes" if load.per_article < BYTES_FLOOR else "NO"
    table.add_row("used_memory delta / article", f"{load.per_article:.0f} B", "< 400 B", ok)
    table.add_row("MEMORY USAGE sample / article", f"{load.sampled_per_article:.0f} B", "", "")
    return table


# --- report -----------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=20_000)
    parser.add_argument("--index-size", type=int, default=1_000_000)
    parser.add_argument("--pages", type=int, default=300)
    parser.add_argument("--tune", action="store_true", help="Also compare bandings.")
    parser.add_argument("--quick", action="store_true", help="Small run: 3,000 / 50,000 / 50.")
    parser.add_argument("--redis-db", type=int, default=12)
    parser.add_argument("--no-results", action="store_true", help="Do not append RESULTS.md.")
    args = parser.parse_args()
    if args.quick:
        args.articles, args.index_size, args.pages = 3_000, 50_000, 50
    client = redis.Redis(host="127.0.0.1", port=6379, db=args.redis_db)
    random.seed(0)

    started = time.perf_counter()
    corpus = generate_corpus(args.articles, seed=1)
    keys = keys_of(corpus)
    console.print(
        f"corpus: {len(corpus.docs):,} articles, {len(corpus.planted_pairs()):,} planted copies, "
        f"{statistics.fmean(len(doc.text.split()) for doc in corpus.docs):.0f} words on "
        f"average ({time.perf_counter() - started:.0f} s)"
    )
    tables: list[Table] = []
    if args.tune:
        tables.append(tuning_table(run_tuning(corpus, keys)))
        console.print(tables[-1])
    quality = run_quality(corpus, keys, client)
    constants = (
        f"{dedup.BANDS} bands x {dedup.ROWS} rows, {dedup.SHINGLE_SIZE}-shingles, "
        "verification threshold 0.5"
    )
    tables.append(quality_table(quality, f"quality on planted pairs ({constants})"))
    tables.append(kinds_table(quality[1]))
    console.print(*tables[-2:])

    load = bulk_load(client, args.index_size)
    timings = run_speed(corpus, args.pages, client, first_id=args.index_size + 1)
    page_kb = (
        statistics.fmean(
            len(article_page(doc, corpus.docs[doc.doc_id : doc.doc_id + 400]))
            for doc in corpus.docs[:20]
        )
        / 1000
    )
    _flush(client)
    tables += [speed_table(timings, load, page_kb), memory_table(load)]
    console.print(*tables[-2:])

    if not args.no_results:
        command = (
            f"bench_dedup.py --articles {args.articles:,} --index-size {args.index_size:,}"
            + (" --tune" if args.tune else "")
        )
        summary = (
            f"Python {platform.python_version()}, 2 CPUs; corpus {len(corpus.docs):,} articles "
            f"(Arabic and English, 300-900 words), {len(corpus.planted_pairs()):,} planted copies; "
            f"{constants}. Load average at the end {os.getloadavg()[0]:.2f}."
        )
        append_section(command, summary, [rich_markdown(table) for table in tables])


if __name__ == "__main__":
    main()
