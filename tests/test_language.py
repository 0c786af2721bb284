"""processing/language.py: one right-to-left list; the extractor and the web UI agree on it."""

from __future__ import annotations

import lxml.html
import pytest

from newsvault.web.render import text_direction
from processing.extract import ExtractedArticle, extract_article
from processing.language import (
    ARABIC_SCRIPT_LANGUAGES,
    RTL_LANGUAGES,
    detect_language,
    page_direction,
    script_language,
)

# Hebrew letters: neither Arabic nor Latin script, so any declared language is kept as is.
_HEBREW_SENTENCE = "העירייה אישרה את התוכנית החדשה להגנה מפני שיטפונות בשכונות הנהר. "


def _page(lang: str) -> str:
    paragraphs = "".join(f"<p>{n} {_HEBREW_SENTENCE * 3}</p>" for n in range(4))
    return (
        f'<html lang="{lang}"><head><title>כותרת הכתבה</title>'
        '<meta property="og:type" content="article"></head>'
        f"<body><article><h1>כותרת הכתבה</h1>{paragraphs}</article></body></html>"
    )


def test_the_right_to_left_list_holds_the_arabic_script_languages_and_the_others() -> None:
    assert ARABIC_SCRIPT_LANGUAGES <= RTL_LANGUAGES
    assert {"he", "yi", "dv", "ps", "ckb", "sd", "ug", "ur", "fa", "ar", "ku"} <= RTL_LANGUAGES


@pytest.mark.parametrize("language", sorted(RTL_LANGUAGES))
def test_extractor_and_web_agree_on_every_right_to_left_language(language: str) -> None:
    bare = lxml.html.document_fromstring("<html><body><p>x</p></body></html>")
    assert page_direction(bare, language) == text_direction(language) == "rtl"
    article = extract_article(_page(language), "https://news.example/a/1")
    assert isinstance(article, ExtractedArticle)
    assert article.language == language
    assert article.html.startswith(f'<article dir="rtl" lang="{language}">')
    assert text_direction(article.language) == "rtl"


@pytest.mark.parametrize("language", ["en", "fr", "de", "ru", "tr", "zh", None])
def test_extractor_and_web_agree_on_left_to_right_languages(language: str | None) -> None:
    bare = lxml.html.document_fromstring("<html><body><p>x</p></body></html>")
    assert page_direction(bare, language) == "ltr"
    assert text_direction(language) in {"ltr", "auto"}  # auto: the web lets the browser look


def test_the_page_dir_attribute_wins_over_the_language() -> None:
    tree = lxml.html.document_fromstring('<html dir="ltr"><body><p>x</p></body></html>')
    assert page_direction(tree, "ar") == "ltr"
    tree = lxml.html.document_fromstring('<html><body dir="RTL"><p>x</p></body></html>')
    assert page_direction(tree, "en") == "rtl"


def test_web_direction_reads_the_primary_subtag() -> None:
    assert text_direction("he-IL") == text_direction("ckb_IQ") == "rtl"
    assert text_direction("en-GB") == "ltr"


def test_script_language_guesses() -> None:
    assert script_language("short") == (None, None)
    assert script_language("the cat sat on the mat and it was said " * 3) == ("latin", "en")
    assert script_language("الخارجية الإيرانية في زيارة رسمية " * 3) == ("arabic", "ar")


# --- the text's language (py3langid), checked against the declaration ----------------------------

_TEXTS = {
    "fr": (
        "Le conseil municipal a approuvé mardi soir le nouveau plan de protection contre les "
        "inondations. Les travaux commenceront au printemps et dureront deux ans, selon le maire, "
        "qui a promis que les habitants des quartiers proches du fleuve seraient consultés."
    ),
    "tr": (
        "Belediye meclisi salı akşamı yeni taşkın koruma planını onayladı. Çalışmalar ilkbaharda "
        "başlayacak ve iki yıl sürecek; belediye başkanı, nehre yakın mahallelerde yaşayanların "
        "görüşlerinin alınacağını söyledi."
    ),
    "de": (
        "Der Stadtrat hat am Dienstagabend den neuen Hochwasserschutzplan beschlossen. Die "
        "Arbeiten beginnen im Frühjahr und dauern zwei Jahre, sagte der Bürgermeister, der "
        "versprach, die Anwohner der Viertel am Fluss zu beteiligen."
    ),
    "es": (
        "El ayuntamiento aprobó el martes por la noche el nuevo plan de protección contra "
        "inundaciones. Las obras comenzarán en primavera y durarán dos años, según el alcalde, "
        "que prometió consultar a los vecinos de los barrios cercanos al río."
    ),
    "fa": (
        "شورای شهر سه‌شنبه شب طرح جدید مقابله با سیل را تصویب کرد. به گفته شهردار، کار از بهار "
        "آغاز می‌شود و دو سال طول می‌کشد و با ساکنان محله‌های نزدیک رودخانه مشورت خواهد شد."
    ),
    "ur": (
        "سٹی کونسل نے منگل کی شام سیلاب سے بچاؤ کے نئے منصوبے کی منظوری دے دی۔ میئر کے مطابق کام "
        "موسم بہار میں شروع ہوگا اور دو سال تک جاری رہے گا، اور دریا کے قریب رہنے والوں "
        "سے مشورہ کیا جائے گا۔"
    ),
    "ar": (
        "وافق المجلس البلدي مساء الثلاثاء على الخطة الجديدة للحماية من الفيضانات. وقال رئيس "
        "البلدية إن الأعمال ستبدأ في الربيع وتستمر عامين، ووعد باستشارة سكان الأحياء "
        "القريبة من النهر."
    ),
}


def _undeclared_page(text: str, lang: str | None = None) -> str:
    lang_attr = f' lang="{lang}"' if lang else ""
    paragraphs = "".join(f"<p>{n}. {text}</p>" for n in range(1, 5))
    return (
        f"<html{lang_attr}><head><title>Headline</title>"
        '<meta property="og:type" content="article"></head>'
        f"<body><article><h1>Headline</h1>{paragraphs}</article></body></html>"
    )


@pytest.mark.parametrize("language", sorted(_TEXTS))
def test_a_page_without_a_declaration_gets_its_text_language(language: str) -> None:
    article = extract_article(_undeclared_page(_TEXTS[language]), "https://news.example/a/1")
    assert isinstance(article, ExtractedArticle), article
    assert article.language == language


def test_a_page_declaring_english_whose_text_is_arabic_gets_ar() -> None:
    article = extract_article(_undeclared_page(_TEXTS["ar"], "en"), "https://news.example/a/1")
    assert isinstance(article, ExtractedArticle)
    assert article.language == "ar"


def test_a_declaration_the_text_contradicts_loses_within_the_latin_script() -> None:
    article = extract_article(_undeclared_page(_TEXTS["fr"], "en-US"), "https://news.example/a/1")
    assert isinstance(article, ExtractedArticle)
    assert article.language == "fr"


def test_a_close_language_or_a_short_text_keeps_the_declaration() -> None:
    german_declared_luxembourgish = _undeclared_page(_TEXTS["de"], "lb")
    article = extract_article(german_declared_luxembourgish, "https://news.example/a/1")
    assert isinstance(article, ExtractedArticle)
    assert article.language == "lb"  # de and lb: the model is not trusted between them
    tree = lxml.html.document_fromstring('<html lang="es"><body><p>x</p></body></html>')
    from processing.language import page_language
    from processing.metadata import MetaTags

    assert page_language(tree, MetaTags(), None, "Le conseil a voté.") == "es"  # too short


def test_detect_language_reports_nothing_on_too_little_text() -> None:
    assert detect_language("ok") == (None, 0.0)
    code, probability = detect_language(_TEXTS["tr"])
    assert code == "tr" and probability > 0.9
