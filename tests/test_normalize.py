"""Stored text keeps the page's spelling; the matching key folds spelling variants together."""

from __future__ import annotations

import hashlib
import itertools
import random
from importlib import resources

import pytest

from vocabulary.normalize import (
    clean_text,
    content_hash,
    hash_of_keys,
    joined_key,
    matching_key,
    matching_tokens,
)

SEED_LINES = (
    resources.files("newsvault.sample_site")
    .joinpath("seed_ar.txt")
    .read_text(encoding="utf-8")
    .splitlines()
)
SEED_TEXT = "\n".join(SEED_LINES)


# --- the seed article's two spellings -----------------------------------------------------


def test_seed_spells_the_name_both_ways() -> None:
    assert "قاآني" in SEED_TEXT
    assert "قآني" in SEED_TEXT


def test_both_spellings_of_the_name_get_one_key() -> None:
    assert matching_key("قاآني") == matching_key("قآني") == "قاني"
    assert matching_key("إسماعيل قاآني") == matching_key("اسماعيل قآني")


def test_republished_seed_with_other_spelling_has_same_hash() -> None:
    title, body = SEED_LINES[0], "\n".join(SEED_LINES[1:])
    republished = body.replace("قاآني", "قآني")
    assert republished != body
    assert content_hash(title, republished) == content_hash(title, body)


def test_clean_text_keeps_original_spelling() -> None:
    assert clean_text("إسماعيل قاآني") == "إسماعيل قاآني"
    assert clean_text("إسماعيل قآني") == "إسماعيل قآني"
    assert clean_text(SEED_TEXT) == SEED_TEXT


# --- what must not change the key ---------------------------------------------------------


@pytest.mark.parametrize(
    ("variant", "plain"),
    [
        ("قَائِدُ فَيْلَقِ القُدْسِ", "قائد فيلق القدس"),  # full tashkeel
        ("مُحَمَّدٌ", "محمد"),  # shadda, dammatan
        ("الرَّحْمٰنِ", "الرحمن"),  # superscript alef U+0670
        ("قـــائـــد", "قائد"),  # tatweel
        ("ذٰلِكَ ۖ الْكِتَابُ", "ذلك الكتاب"),  # Quranic annotation mark U+06D6
    ],
)
def test_diacritics_and_tatweel_do_not_change_key(variant: str, plain: str) -> None:
    assert matching_key(variant) == matching_key(plain)


def test_typographic_and_ascii_quotes_do_not_change_key() -> None:
    variants = [
        "قائد “فيلق القدس” التابع",
        'قائد "فيلق القدس" التابع',
        "قائد «فيلق القدس» التابع",
        "قائد ‘فيلق القدس’ التابع",
        "قائد 'فيلق القدس' التابع",
    ]
    assert len({matching_key(variant) for variant in variants}) == 1


def test_arabic_punctuation_becomes_space() -> None:
    assert matching_key("قاآني، حسب البيان؛ هل؟") == "قاني حسب البيان هل"


def test_presentation_forms_fold_through_nfkc() -> None:
    # U+FEFB is the lam-alef ligature presentation form.
    assert matching_key("\ufefb") == matching_key("لا")


def test_invisible_characters_do_not_change_key() -> None:
    assert matching_key("قا\u200bئد\u200f \ufeffفيلق\u00ad") == matching_key("قائد فيلق")


# --- reference table: Lucene's ArabicNormalizer --------------------------------------------
# Expected pairs of org.apache.lucene.analysis.ar.TestArabicNormalizationFilter (Apache Lucene;
# the ArabicNormalizer Javadoc lists the same rules: hamza-on-alef and madda to bare alef,
# teh marbuta to heh, alef maqsura to yeh, harakat and tatweel removed). Our key agrees with
# every one of them.
LUCENE_ARABIC_NORMALIZER_CASES = [
    ("آجن", "اجن"),  # testAlifMadda
    ("أحمد", "احمد"),  # testAlifHamzaAbove
    ("إعاذ", "اعاذ"),  # testAlifHamzaBelow
    ("بنى", "بني"),  # testAlifMaksura: to yeh, never to alef
    ("فاطمة", "فاطمه"),  # testTehMarbuta
    ("روبرـــــت", "روبرت"),  # testTatweel
    ("مَبنا", "مبنا"),  # testFatha
    ("علِي", "علي"),  # testKasra
    ("بُوات", "بوات"),  # testDamma
    ("ولداً", "ولدا"),  # testFathatan
    ("ولدٍ", "ولد"),  # testKasratan
    ("ولدٌ", "ولد"),  # testDammatan
    ("نلْسون", "نلسون"),  # testSukun
    ("هتميّ", "هتمي"),  # testShaddah
]


@pytest.mark.parametrize(("source", "expected"), LUCENE_ARABIC_NORMALIZER_CASES)
def test_agrees_with_lucene_arabic_normalizer(source: str, expected: str) -> None:
    assert matching_key(source) == expected


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("ٱلله", "الله"),  # alef wasla, beyond Lucene
        ("قاآني", "قاني"),  # Lucene gives "قااني": the alef run must collapse
        ("مسئول", "مسيول"),  # hamza on yeh
        ("مؤتمر", "موتمر"),  # hamza on waw
        ("ایران", "ايران"),  # Persian yeh
        ("کتاب", "كتاب"),  # Persian kaf
        ("می\u200cخواهم", "مي خواهم"),  # ZWNJ: a word break in the key (Lucene Persian)
    ],
)
def test_folds_beyond_lucene(source: str, expected: str) -> None:
    assert matching_key(source) == expected


# --- English, digits, whitespace -----------------------------------------------------------


def test_english_is_casefolded_and_unpunctuated() -> None:
    assert matching_key("“Hello,” she said — don’t STOP!") == "hello she said don t stop"
    assert matching_key("Straße") == matching_key("STRASSE")
    assert matching_key("well-known (1999)") == "well known 1999"


def test_digits_of_every_script_become_ascii() -> None:
    assert matching_key("٢٠٢١") == "2021"  # Arabic-Indic
    assert matching_key("۲۰۲۱") == "2021"  # Persian
    assert matching_key("２０２１") == "2021"  # full width, through NFKC
    assert matching_key("٣٫٥") == matching_key("3.5")


def test_key_is_one_line_with_single_spaces() -> None:
    assert matching_key("  a \t b\n\n c\u00a0d  ") == "a b c d"
    assert matching_tokens("Hello,  World!\nقاآني") == ["hello", "world", "قاني"]


def test_content_hash_is_sha256_of_keys() -> None:
    expected = hashlib.sha256(b"title\nbody text").hexdigest()
    assert content_hash("Title!", "Body  text.") == expected
    assert content_hash("a", "b c") != content_hash("a b", "c")


@pytest.mark.parametrize(
    ("title", "text"),
    [
        ("قاآني يصل", "آقا قال: «نعم»"),  # alefs on both sides of the break
        ("Title ending with e", "\u0301combining mark first"),  # NFKC must not compose across
        ("", "only a body"),
        ("only a title", ""),
        ("", ""),
        ("  spaced  ", "\n\n body \n"),
    ],
)
def test_keys_joined_equal_the_key_of_the_joined_text(title: str, text: str) -> None:
    # The pipeline computes each key once and joins them; reindex keys the joined text.
    title_key, text_key = matching_key(title), matching_key(text)
    assert joined_key(title_key, text_key) == matching_key(f"{title}\n{text}")
    assert hash_of_keys(title_key, text_key) == content_hash(title, text)


def test_keys_joined_on_every_seed_line_pair() -> None:
    for title, text in itertools.pairwise(SEED_LINES):
        assert joined_key(matching_key(title), matching_key(text)) == matching_key(
            f"{title}\n{text}"
        )


# --- clean_text -----------------------------------------------------------------------------


def test_clean_text_tidies_whitespace_and_blank_lines() -> None:
    messy = "  first   line \t here \r\n\r\n\n   second\u00a0line  \n \n third"
    assert clean_text(messy) == "first line here\nsecond line\nthird"


def test_clean_text_applies_nfc() -> None:
    decomposed = "e\u0301 \u0627\u0653"  # e + acute, alef + madda above
    assert clean_text(decomposed) == "\u00e9 \u0622"


def test_clean_text_drops_junk_but_keeps_zwnj_and_punctuation() -> None:
    assert clean_text("\ufeffقا\u200bئد\x00") == "قائد"
    assert clean_text("می\u200cخواهم") == "می\u200cخواهم"
    assert clean_text("“فيلق القدس”، «قال»: نعم!") == "“فيلق القدس”، «قال»: نعم!"


# --- properties over the seed --------------------------------------------------------------


def _perturbations(line: str, rng: random.Random) -> list[str]:
    """Variants of a line that must keep its key: marks, tatweel, quotes, spaces, digits."""
    with_marks = "".join(
        char + rng.choice(["\u064e", "\u0651", "\u0652", ""])
        if "\u0621" <= char <= "\u064a"
        else char
        for char in line
    )
    with_tatweel = line.replace("ل", "لـ").replace("ق", "قــ")
    quotes = line.replace("“", '"').replace("”", '"')
    spaced = "  " + line.replace(" ", " \t ") + "\n"
    return [with_marks, with_tatweel, quotes, spaced]


def test_matching_key_is_idempotent_on_seed_lines() -> None:
    for line in SEED_LINES:
        key = matching_key(line)
        assert matching_key(key) == key
        assert matching_key(clean_text(line)) == key


def test_clean_text_is_idempotent_on_seed_lines() -> None:
    for line in SEED_LINES:
        cleaned = clean_text(line)
        assert clean_text(cleaned) == cleaned


def test_perturbations_of_seed_lines_keep_the_key() -> None:
    rng = random.Random(5)
    for line in SEED_LINES:
        key = matching_key(line)
        for variant in _perturbations(line, rng):
            assert matching_key(variant) == key, variant
            assert matching_key(matching_key(variant)) == key


def test_idempotent_on_mixed_scripts() -> None:
    samples = ["İstanbul ǰ ﬁ ß Σίσυφος", "ﷺ ﻻ ٱلْحَمْدُ ۝١", "e\u064b\u0301", "\u0627\u0654\u0627"]
    for sample in samples:
        key = matching_key(sample)
        assert matching_key(key) == key, sample
