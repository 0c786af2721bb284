"""A generated news corpus with planted near and exact duplicates, for dedup quality.

Words come from the sample site's own texts (the Arabic seed article and the English
articles), so function words, word lengths and affixes have real distributions; a larger
synthetic tail (real stems with real affixes, invented names) gives the long tail a real
corpus has. Each article mixes Zipf-sampled words, a handful of topic words it repeats, and
short bigram runs taken from the source texts (at most three words, so two unrelated
articles never share a long run the way copies do).

Planted copies edit 5-10% of the original's words in one of three styles, because they are
not equally hard for character-shingle MinHash:

- ``scattered``: single words substituted, deleted or inserted all over the text (hardest:
  every edit breaks its own set of shingles);
- ``runs``: runs of 2-4 words replaced, deleted or inserted (copy-editing);
- ``mixed``: half and half.

Arabic copies also get spelling variants (alef forms, tashkeel, teh marbuta/heh, alef
maqsura/yeh, قاآني -> قآني) on about a fifth of their edit budget: the matching key folds those,
so they must cost nothing. Exact duplicates are the same text under another URL.

    from bench.corpus import generate_corpus
    corpus = generate_corpus(20_000, seed=1)
"""

from __future__ import annotations

import html
import json
import random
import re
from bisect import bisect_left
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from functools import cache
from itertools import accumulate, pairwise
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SEED_AR = ROOT / "newsvault" / "sample_site" / "seed_ar.txt"
ARTICLES_EN = ROOT / "newsvault" / "sample_site" / "articles_en.txt"

EDIT_STYLES = ("scattered", "runs", "mixed")

_AR_LETTERS = "ابتثجحخدذرزسشصضطظعغفقكلمنهوي"
_AR_PREFIXES = ("", "", "", "ال", "ال", "و", "وال", "ب", "بال", "ل", "لل", "ف", "س")
_AR_SUFFIXES = ("", "", "", "ة", "ات", "ون", "ين", "ها", "هم", "ي", "ان", "ية")
_AR_TEMPLATES = ("{0}{1}{2}", "{0}ا{1}{2}", "م{0}{1}{2}", "{0}{1}ي{2}", "ت{0}{1}{2}", "{0}{1}و{2}")
_EN_ONSETS = ("b", "br", "c", "ch", "d", "f", "g", "gr", "h", "k", "l", "m", "n", "p", "pr")
_EN_ONSETS += ("r", "s", "st", "t", "tr", "v", "w")
_EN_VOWELS = ("a", "e", "i", "o", "u", "ai", "ea", "ou")
_EN_CODAS = ("", "n", "r", "s", "t", "l", "nd", "st", "rt")
_EN_SUFFIXES = ("", "", "", "s", "ed", "ing", "er", "ion", "ment", "ly", "ity")

# Arabic diacritics a copy may add (the key strips them) and the folds it may undo.
_TASHKEEL = ("\u064e", "\u064f", "\u0650", "\u0651", "\u0652")
_SPELLING_SWAPS = (("ا", "أ"), ("ا", "إ"), ("ة", "ه"), ("ي", "ى"), ("اآ", "آ"))

_WORD = re.compile(r"\S+")
# The commonest ranks (articles, prepositions, conjunctions): inserted freely by editors,
# but a substituted word is a content word.
_FUNCTION_WORDS = 40


@dataclass(frozen=True)
class Doc:
    """One generated article. ``group`` is the id of the original a copy was made from."""

    doc_id: int
    language: str
    title: str
    text: str
    group: int
    kind: str  # original | near | exact
    style: str = ""  # the edit style of a near copy
    edited: float = 0.0  # fraction of words edited

    @property
    def key_text(self) -> str:
        """What processing fingerprints: title and text, as ``tasks.pipeline`` joins them."""
        return self.title + "\n" + self.text


@dataclass
class Corpus:
    docs: list[Doc] = field(default_factory=list)

    def planted_pairs(self) -> list[tuple[int, int]]:
        """(original id, copy id) for every planted copy."""
        return [(doc.group, doc.doc_id) for doc in self.docs if doc.kind != "original"]

    def by_id(self, doc_id: int) -> Doc:
        return self.docs[doc_id - 1]


# --- language models --------------------------------------------------------------------------


@dataclass
class LanguageModel:
    """Zipf word sampler over real words then a synthetic tail, plus source bigrams."""

    language: str
    words: list[str]
    cumulative: list[float]
    successors: dict[str, list[str]]
    tail_start: int

    def zipf_word(self, rng: random.Random) -> str:
        index = bisect_left(self.cumulative, rng.random() * self.cumulative[-1])
        return self.words[min(index, len(self.words) - 1)]

    def content_word(self, rng: random.Random) -> str:
        """A Zipf word past the commonest ones: what an editor substitutes for a word."""
        low = self.cumulative[_FUNCTION_WORDS]
        index = bisect_left(self.cumulative, low + rng.random() * (self.cumulative[-1] - low))
        return self.words[min(index, len(self.words) - 1)]

    def tail_word(self, rng: random.Random) -> str:
        return self.words[rng.randrange(self.tail_start, len(self.words))]


def _source_words(language: str) -> list[str]:
    if language == "ar":
        return _WORD.findall(SEED_AR.read_text(encoding="utf-8"))
    text = ARTICLES_EN.read_text(encoding="utf-8")
    bodies = [block.partition("\n---\n")[2] for block in text.split("\n===\n")[1:]]
    return _WORD.findall("\n".join(bodies))


def _synthetic_ar(rng: random.Random, stems: list[str]) -> str:
    if stems and rng.random() < 0.5:
        stem = rng.choice(stems)
    else:
        root = rng.sample(_AR_LETTERS, 3)
        stem = rng.choice(_AR_TEMPLATES).format(*root)
    return rng.choice(_AR_PREFIXES) + stem + rng.choice(_AR_SUFFIXES)


def _synthetic_en(rng: random.Random, stems: list[str]) -> str:
    if stems and rng.random() < 0.4:
        return rng.choice(stems) + rng.choice(_EN_SUFFIXES)
    syllables = rng.randint(1, 3)
    word = "".join(
        rng.choice(_EN_ONSETS) + rng.choice(_EN_VOWELS) + rng.choice(_EN_CODAS)
        for _ in range(syllables)
    )
    return word + rng.choice(_EN_SUFFIXES)


def _stems(language: str, words: list[str]) -> list[str]:
    stems = []
    for word in words:
        bare = word.strip(".,،؛:\"'“”«»()!?؟")
        if language == "ar":
            bare = bare.removeprefix("و").removeprefix("ال")
        if len(bare) >= 3:
            stems.append(bare.lower() if language == "en" else bare)
    return sorted(set(stems))


@cache
def language_model(language: str, tail_size: int = 40_000, exponent: float = 1.05) -> LanguageModel:
    """Real words ranked by their frequency in the source, then ``tail_size`` synthetic ones."""
    rng = random.Random(f"vocabulary-{language}")
    source = _source_words(language)
    ranked = [word for word, _ in Counter(source).most_common()]
    stems = _stems(language, ranked)
    make = _synthetic_ar if language == "ar" else _synthetic_en
    seen = set(ranked)
    tail: list[str] = []
    while len(tail) < tail_size:
        word = make(rng, stems)
        if word not in seen:
            seen.add(word)
            tail.append(word)
    words = ranked + tail
    cumulative = list(accumulate(1.0 / (rank + 1) ** exponent for rank in range(len(words))))
    successors: dict[str, list[str]] = defaultdict(list)
    for first, second in pairwise(source):
        successors[first].append(second)
    return LanguageModel(language, words, cumulative, dict(successors), len(ranked))


# --- articles ---------------------------------------------------------------------------------


def _topic(model: LanguageModel, rng: random.Random) -> list[str]:
    """Words this story keeps repeating: names, places, its subject."""
    return [model.tail_word(rng) for _ in range(rng.randint(12, 25))]


def _sentence(model: LanguageModel, rng: random.Random, topic: list[str]) -> list[str]:
    words: list[str] = []
    run = 0
    for _ in range(rng.randint(8, 28)):
        follow = model.successors.get(words[-1]) if words else None
        if follow and run < 3 and rng.random() < 0.35:
            words.append(rng.choice(follow))
            run += 1
            continue
        run = 1
        words.append(rng.choice(topic) if rng.random() < 0.12 else model.zipf_word(rng))
    return words


def _article_text(model: LanguageModel, rng: random.Random, length: int) -> tuple[str, str]:
    topic = _topic(model, rng)
    title = " ".join(_sentence(model, rng, topic)[:12])
    stop = "." if model.language == "en" else rng.choice((".", ".", "،"))
    paragraphs: list[str] = []
    count = 0
    while count < length:
        sentences = []
        for _ in range(rng.randint(2, 5)):
            words = _sentence(model, rng, topic)
            count += len(words)
            sentences.append(" ".join(words) + stop)
            if count >= length:  # at most one sentence past the length asked for
                break
        paragraphs.append(" ".join(sentences))
    return title, "\n".join(paragraphs)


def article_text(language: str, rng: random.Random, length: int) -> tuple[str, list[str]]:
    """A story of about ``length`` words in ``language`` (``ar`` or ``en``): title, paragraphs."""
    title, text = _article_text(language_model(language), rng, length)
    return title, text.split("\n")


# --- planted edits ----------------------------------------------------------------------------


def _spelling_variant(word: str, rng: random.Random) -> str:
    """An Arabic respelling the matching key folds back (or the word unchanged)."""
    for old, new in rng.sample(_SPELLING_SWAPS, len(_SPELLING_SWAPS)):
        if old in word:
            return word.replace(old, new, 1)
    position = rng.randrange(1, len(word) + 1)
    return word[:position] + rng.choice(_TASHKEEL) + word[position:]


def _edit_run(
    words: list[str], start: int, run: int, model: LanguageModel, rng: random.Random
) -> None:
    roll = rng.random()
    for index in range(start, start + run):
        if roll < 0.5:
            words[index] = model.content_word(rng)
        elif roll < 0.75:
            words[index] = ""
        else:
            words[index] = words[index] + " " + model.zipf_word(rng)


def edit_text(
    text: str, fraction: float, style: str, model: LanguageModel, rng: random.Random
) -> str:
    """``text`` with ``fraction`` of its words edited in ``style`` (lines are kept)."""
    lines = text.split("\n")
    words_per_line = [line.split(" ") for line in lines]
    flat = [(li, wi) for li, line in enumerate(words_per_line) for wi in range(len(line))]
    budget = max(1, round(len(flat) * fraction))
    if model.language == "ar":  # a fifth of the budget: respellings the key folds away
        for li, wi in rng.sample(flat, budget // 5):
            words_per_line[li][wi] = _spelling_variant(words_per_line[li][wi], rng)
        budget -= budget // 5
    while budget > 0:
        single = style == "scattered" or (style == "mixed" and rng.random() < 0.5)
        run = 1 if single else min(budget, rng.randint(2, 4))
        li, wi = rng.choice(flat)
        line = words_per_line[li]
        run = min(run, len(line) - wi)
        _edit_run(line, wi, run, model, rng)
        budget -= run
    return "\n".join(" ".join(w for w in line if w) for line in words_per_line)


# --- the corpus -------------------------------------------------------------------------------


def generate_corpus(
    size: int = 20_000,
    *,
    seed: int = 1,
    near_share: float = 0.15,
    exact_share: float = 0.03,
    arabic_share: float = 0.5,
    min_words: int = 300,
    max_words: int = 900,
) -> Corpus:
    """``size`` articles: originals, near copies (``near_share``), exact copies."""
    rng = random.Random(seed)
    models = {lang: language_model(lang) for lang in ("ar", "en")}
    corpus = Corpus()
    originals: list[Doc] = []
    near_target, exact_target = round(size * near_share), round(size * exact_share)
    original_target = size - near_target - exact_target
    for _ in range(original_target):
        language = "ar" if rng.random() < arabic_share else "en"
        title, text = _article_text(models[language], rng, rng.randint(min_words, max_words))
        doc = Doc(len(corpus.docs) + 1, language, title, text, len(corpus.docs) + 1, "original")
        corpus.docs.append(doc)
        originals.append(doc)
    # Copies come after every original, in a shuffled order: an index sees them late, as a
    # crawl of many sites would; some originals get several copies.
    plan = ["near"] * near_target + ["exact"] * exact_target
    rng.shuffle(plan)
    for kind in plan:
        source = rng.choice(originals)
        corpus.docs.append(_copy(source, kind, len(corpus.docs) + 1, models, rng))
    return corpus


def _copy(
    source: Doc, kind: str, doc_id: int, models: dict[str, LanguageModel], rng: random.Random
) -> Doc:
    if kind == "exact":
        return Doc(doc_id, source.language, source.title, source.text, source.doc_id, "exact")
    style = rng.choice(EDIT_STYLES)
    fraction = rng.uniform(0.05, 0.10)
    text = edit_text(source.text, fraction, style, models[source.language], rng)
    return Doc(doc_id, source.language, source.title, text, source.doc_id, "near", style, fraction)


# --- article pages ----------------------------------------------------------------------------

PAGE_BYTES = 60_000


def article_path(doc: Doc) -> str:
    section = "world" if doc.language == "en" else "ar/world"
    return f"/{section}/2025/{doc.doc_id % 12 + 1:02d}/story-{doc.doc_id}.html"


def _as_site_article(doc: Doc) -> Any:
    from datetime import UTC, datetime, timedelta

    from newsvault.sample_site.articles import Article

    paragraphs = doc.text.split("\n")
    published = datetime(2025, 1, 1, 6, 0, tzinfo=UTC) + timedelta(minutes=doc.doc_id)
    return Article(
        path=article_path(doc),
        section="world",
        language=doc.language,
        title=doc.title,
        lead=doc.title,
        paragraphs=tuple(paragraphs),
        author="Desk" if doc.language == "en" else "المحرر",
        published=published,
        modified=published,
        tags=tuple(doc.title.split()[:3]),
    )


def _page_padding(doc: Doc, others: list[Doc], size: int) -> str:
    """What makes real pages 60 KB: a "most read" link farm and an inline tracking config."""
    items = []
    for other in others:
        items.append(
            f'<li class="most-read"><a href="{article_path(other)}">{html.escape(other.title)}</a>'
            f'<span class="meta">{other.doc_id % 97} comments</span></li>'
        )
        if sum(len(item) for item in items) > size // 2:
            break
    links = '<aside class="most-read-box"><h2>Most read</h2><ul>' + "".join(items) + "</ul></aside>"
    config = {"page": doc.doc_id, "slots": [f"slot-{i}-{'x' * 40}" for i in range(size // 100)]}
    return links + f"<script>window.__ADS__ = {json.dumps(config)};</script>"


def article_page(doc: Doc, others: list[Doc], base: str = "http://127.0.0.1:8741") -> bytes:
    """``doc`` as a sample-site article page, padded with boilerplate to about 60 KB."""
    from newsvault.sample_site.article_pages import article_page as render

    site_article = _as_site_article(doc)
    page = render(site_article, [], base, site_article)
    missing = max(0, PAGE_BYTES - len(page.encode("utf-8")))
    padded = page.replace("</main>", _page_padding(doc, others, missing) + "</main>", 1)
    return padded.encode("utf-8")
