"""The articles of the sample site: the Arabic seed story, its republished copy, and the
English stories from ``articles_en.txt``. Pure data and text handling, no HTML."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from functools import cache
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
SEED_PATH = PACKAGE_DIR / "seed_ar.txt"
ENGLISH_ARTICLES_PATH = PACKAGE_DIR / "articles_en.txt"

ARABIC_ARTICLE_PATH = "/ar/world/2021/05/qaani-calls-palestinians.html"
REPUBLISHED_ARTICLE_PATH = "/ar/region/2021/05/iran-quds-force-commander-calls.html"
EDITED_ARTICLE_PATH = "/business/2025/02/skylark-air-annual-profit.html"
# The article that home page and newsletter link to with utm_* tracking parameters.
TRACKED_ARTICLE_PATH = "/science/2025/01/karsa-plateau-cave-system.html"

# The spelling the republished copy changes (issue 2): every "قاآني" becomes "قآني".
SEED_SPELLING = "قاآني"
REPUBLISHED_SPELLING = "قآني"


@dataclass(frozen=True)
class Correction:
    """The edit edition 2 makes to one article: a sentence replaced and a note appended."""

    old: str
    new: str
    note: str
    at: datetime


@dataclass(frozen=True)
class Article:
    """One news story as the site publishes it."""

    path: str
    section: str
    language: str
    title: str
    lead: str
    paragraphs: tuple[str, ...]
    author: str
    published: datetime
    modified: datetime
    tags: tuple[str, ...] = ()
    # "standard" or "regional": the republished copy wears different boilerplate.
    template: str = "standard"
    correction: Correction | None = None

    @property
    def word_count(self) -> int:
        return sum(len(paragraph.split()) for paragraph in self.paragraphs)


def seed_lines() -> list[str]:
    """The seed article's lines: title, lead, then body paragraphs, exactly as in the file."""
    lines = SEED_PATH.read_text(encoding="utf-8").splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    return lines


def arabic_article() -> Article:
    """The seed story as the site's Arabic service first published it."""
    lines = seed_lines()
    published = datetime.fromisoformat("2021-05-15T18:30:00+04:30")
    return Article(
        path=ARABIC_ARTICLE_PATH,
        section="world",
        language="ar",
        title=lines[0],
        lead=lines[1],
        paragraphs=tuple(lines[2:]),
        author="سلمى حداد",
        published=published,
        modified=published,
        tags=("إيران", "فلسطين", "غزة"),
    )


# Edits of the republished copy, as (body paragraph index, old words, new words). Applied
# before the spelling change, so the old words are quoted as the seed spells them.
_REPUBLISHED_WORD_EDITS: tuple[tuple[int, str, str], ...] = (
    (1, "ونقلت وكالات إيرانية مقربة من", "وذكرت وكالات أنباء إيرانية قريبة من"),
    (1, "أجرى السبت محادثات", "أجرى يوم السبت محادثات"),
    (8, "كما أشاد النخالة بمواقف إيران", "وأشاد النخالة كذلك بمواقف إيران"),
)
# The republisher drops the original's source credit ("ميدل ايست نيوز: ...").
_REPUBLISHED_DROPPED_PARAGRAPH = 0


def republished_article() -> Article:
    """The same story republished under another URL: one paragraph dropped, a few words
    changed in two paragraphs, and every "قاآني" respelled "قآني"."""
    original = arabic_article()
    body = list(original.paragraphs)
    for index, old, new in _REPUBLISHED_WORD_EDITS:
        if old not in body[index]:  # the seed changed: fail loudly rather than skip an edit
            raise ValueError(f"seed paragraph {index + 3} no longer contains {old!r}")
        body[index] = body[index].replace(old, new)
    del body[_REPUBLISHED_DROPPED_PARAGRAPH]
    published = datetime.fromisoformat("2021-05-16T09:10:00+04:30")
    return replace(
        original,
        path=REPUBLISHED_ARTICLE_PATH,
        section="region",
        title=_respell(original.title),
        lead=_respell(original.lead),
        paragraphs=tuple(_respell(paragraph) for paragraph in body),
        author="مكتب الشؤون الإقليمية",
        published=published,
        modified=published,
        template="regional",
    )


def _respell(text: str) -> str:
    return text.replace(SEED_SPELLING, REPUBLISHED_SPELLING)


@cache
def english_articles() -> tuple[Article, ...]:
    """The English stories of ``articles_en.txt``, as edition 1 publishes them."""
    text = ENGLISH_ARTICLES_PATH.read_text(encoding="utf-8")
    blocks = text.split("\n===\n")[1:]  # the part before the first "===" is comments
    return tuple(_parse_article(block) for block in blocks)


def _parse_article(block: str) -> Article:
    header, _, body = block.partition("\n---\n")
    fields = dict(line.split(": ", 1) for line in header.strip().splitlines())
    published = datetime.fromisoformat(fields["published"])
    paragraphs = tuple(p.strip() for p in body.strip().split("\n\n") if p.strip())
    correction = None
    if "correction.old" in fields:
        correction = Correction(
            old=fields["correction.old"],
            new=fields["correction.new"],
            note=fields["correction.note"],
            at=datetime.fromisoformat(fields["correction.at"]),
        )
    return Article(
        path=fields["path"],
        section=fields["section"],
        language="en",
        title=fields["title"],
        lead=fields["lead"],
        paragraphs=paragraphs,
        author=fields["author"],
        published=published,
        modified=datetime.fromisoformat(fields.get("modified", fields["published"])),
        tags=tuple(tag.strip() for tag in fields.get("tags", "").split(",") if tag.strip()),
        correction=correction,
    )


def corrected(article: Article) -> Article:
    """The article after its correction: the wrong sentence fixed, a note appended, and a
    later modification time. Articles without a correction come back unchanged."""
    fix = article.correction
    if fix is None:
        return article
    hits = [i for i, paragraph in enumerate(article.paragraphs) if fix.old in paragraph]
    if len(hits) != 1:
        raise ValueError(f"{article.path}: correction sentence found {len(hits)} times")
    body = list(article.paragraphs)
    body[hits[0]] = body[hits[0]].replace(fix.old, fix.new)
    body.append(fix.note)
    return replace(article, paragraphs=tuple(body), modified=fix.at)


def all_articles(edition: int) -> list[Article]:
    """Every article of the given edition, newest first."""
    english = list(english_articles())
    if edition >= 2:
        english = [corrected(article) for article in english]
    articles = [*english, arabic_article(), republished_article()]
    return sorted(articles, key=lambda article: article.published, reverse=True)
