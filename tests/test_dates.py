"""processing/dates.py and processing/date_strings.py: dates in any language the archive meets.

Each case has its exact UTC answer, its local (page-offset) answer and keeps the raw string.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import lxml.html
import pytest

from processing.date_strings import normalize_digits, parse_datetime, parse_local, solar_hijri
from processing.dates import PageDate, page_dates
from processing.extract import ExtractedArticle, extract_article
from tests.pages import PageOptions, arabic_article_page, load_seed


@pytest.mark.parametrize(
    ("raw", "utc"),
    [
        # Arabic month names, Western and Eastern Arabic digits
        ("23 مايو 2021", datetime(2021, 5, 23, tzinfo=UTC)),
        ("٢٣ مايو ٢٠٢١", datetime(2021, 5, 23, tzinfo=UTC)),
        # Levantine (Syriac) month names
        ("5 كانون الثاني 2022", datetime(2022, 1, 5, tzinfo=UTC)),
        ("الأربعاء 5 كانون الثاني 2022", datetime(2022, 1, 5, tzinfo=UTC)),
        ("12 تشرين الأول 2021", datetime(2021, 10, 12, tzinfo=UTC)),
        ("3 أيار 2020", datetime(2020, 5, 3, tzinfo=UTC)),
        # A weekday, a time and the Arabic PM mark
        ("الأربعاء، 07 أكتوبر 2020 - 12:09 م", datetime(2020, 10, 7, 12, 9, tzinfo=UTC)),
        # Solar Hijri: 1400-03-02 is 2021-05-23
        ("٢ خرداد ١٤٠٠", datetime(2021, 5, 23, tzinfo=UTC)),
        ("۱۴۰۰/۰۳/۰۲", datetime(2021, 5, 23, tzinfo=UTC)),
        ("یکشنبه، ۲ خرداد ۱۴۰۰", datetime(2021, 5, 23, tzinfo=UTC)),
        ("یکشنبه ۲ خرداد ۱۴۰۰ - ساعت ۱۴:۳۰", datetime(2021, 5, 23, 14, 30, tzinfo=UTC)),
        ("1 فروردین 1399", datetime(2020, 3, 20, tzinfo=UTC)),  # Nowruz
        ("۱۰ دي ۱۳۹۹", datetime(2020, 12, 30, tzinfo=UTC)),  # Arabic ي in a Persian month
        # Persian with Gregorian month names
        ("۲۳ مه ۲۰۲۱", datetime(2021, 5, 23, tzinfo=UTC)),
        # Latin-script forms the extractor met on real pages
        ("Di., 25.01.2022 - 14:45", datetime(2022, 1, 25, 14, 45, tzinfo=UTC)),
        ("05.01.2022", datetime(2022, 1, 5, tzinfo=UTC)),  # dotted: day first
        ("lundi 12 octobre 2020", datetime(2020, 10, 12, tzinfo=UTC)),
        ("2020-09-26T12:07:40+02:00CET", datetime(2020, 9, 26, 10, 7, 40, tzinfo=UTC)),
        ("Sept 3, 2020 10:00 EDT", datetime(2020, 9, 3, 14, 0, tzinfo=UTC)),
    ],
)
def test_date_strings_in_any_language(raw: str, utc: datetime) -> None:
    assert parse_datetime(raw) == utc
    found = PageDate.of(raw)
    assert found.raw == raw  # the original string is kept
    assert found.utc == utc


def test_an_offset_keeps_the_utc_instant_and_the_local_day() -> None:
    raw = "2020-02-15T07:00:00+09:00"
    found = PageDate.of(raw)
    assert found.utc == datetime(2020, 2, 14, 22, 0, tzinfo=UTC)
    assert found.local == datetime(2020, 2, 15, 7, 0, tzinfo=timezone(timedelta(hours=9)))
    assert found.local.utcoffset() == timedelta(hours=9)
    assert found.day == date(2020, 2, 15)  # the day the page's readers saw
    assert parse_local("2021-05-15T18:30:00+04:30") == datetime(2021, 5, 15, 14, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "raw",
    [
        None,
        "",
        "   ",
        "not a date",
        "not a date 123",
        "12:30",  # a time alone: no day
        "May 15",  # no year
        "3 hours ago",  # relative: depends on when the page was read
        "il y a 2 heures",
        "۱۴۰۰/۱۳/۴۰",  # month 13
        "٣١ اسفند ١٤٠٠",  # 1400 is not a leap year
        "9999-99-99T99:99",
        "x" * 500,
        "May 15, 2021 6:30 PM GMT+4",  # POSIX-style offset: refused, not guessed
        "\ufffd\ufffd 2021-13-45",
        "٢٣ خرداد",
    ],
)
def test_garbage_gives_none_and_never_raises(raw: str | None) -> None:
    assert parse_datetime(raw) is None
    assert parse_local(raw) is None
    found = PageDate.of(raw)
    assert (found.raw, found.utc, found.local, found.day) == (raw, None, None, None)


def test_digits_are_normalised_and_solar_hijri_is_read_alone() -> None:
    assert normalize_digits("٠١٢٣٤٥٦٧٨٩ ۰۱۲۳۴۵۶۷۸۹") == "0123456789 0123456789"
    assert solar_hijri("2021-05-23") is None  # a Gregorian year is never Solar Hijri
    assert solar_hijri("۲ خرداد ۱۴۰۰") == datetime(2021, 5, 23)


def _tree(html: str) -> lxml.html.HtmlElement:
    return lxml.html.document_fromstring(html)


def test_json_ld_date_wins_over_a_visible_one() -> None:
    html = (
        "<html><head><script type='application/ld+json'>"
        '{"@type": "NewsArticle", "headline": "h", "datePublished": "2021-05-15T18:30:00+04:30"}'
        "</script></head><body><article><h1>h</h1>"
        "<span class='date'>23 مايو 2021</span><p>نص</p></article></body></html>"
    )
    published, modified = page_dates(_tree(html), html, "https://news.example/a")
    assert published.raw == "2021-05-15T18:30:00+04:30"
    assert published.utc == datetime(2021, 5, 15, 14, 0, tzinfo=UTC)
    assert published.day == date(2021, 5, 15)
    assert modified == PageDate()


def test_a_visible_date_in_arabic_when_markup_has_none() -> None:
    # htmldate's text search reads this one (as a bare day)
    html = (
        "<html><head><title>t</title></head><body><article><h1>عنوان</h1>"
        "<div class='post-date'>الأربعاء، 07 أكتوبر 2020 - 12:09 م</div>"
        "<p>نص المقال هنا.</p></article></body></html>"
    )
    published, _ = page_dates(_tree(html), html, "https://news.example/a")
    assert published.day == date(2020, 10, 7)
    # ... and not this one: the page's own short date texts are read last
    html = html.replace("الأربعاء، 07 أكتوبر 2020 - 12:09 م", "الأحد ٥ كانون الثاني ٢٠٢٢")
    published, _ = page_dates(_tree(html), html, "https://news.example/a")
    assert published.raw == "الأحد ٥ كانون الثاني ٢٠٢٢"
    assert published.utc == datetime(2022, 1, 5, tzinfo=UTC)


def test_a_solar_hijri_date_in_the_page_text() -> None:
    html = (
        "<html><head><title>t</title></head><body><article><h1>عنوان</h1>"
        "<time>یکشنبه ۲ خرداد ۱۴۰۰</time><p>متن خبر.</p></article></body></html>"
    )
    published, _ = page_dates(_tree(html), html, "https://news.example/a")
    assert published.raw == "یکشنبه ۲ خرداد ۱۴۰۰"
    assert published.utc == datetime(2021, 5, 23, tzinfo=UTC)


def test_the_seed_article_keeps_its_date_and_its_local_offset() -> None:
    article = extract_article(arabic_article_page(load_seed()), "https://mena-news.example/a")
    assert isinstance(article, ExtractedArticle)
    assert article.published == datetime(2021, 5, 15, 14, 0, tzinfo=UTC)
    assert article.published_raw == "2021-05-15T18:30:00+04:30"
    assert article.published_day == date(2021, 5, 15)
    local = parse_local(article.published_raw)
    assert local is not None and local.utcoffset() == timedelta(hours=4, minutes=30)


def test_a_utc_timestamp_takes_the_site_day_its_url_names() -> None:
    # 02:18 UTC on the 18th is the evening of the 17th where the site is; its URL says so
    urls = ("https://news.example/2020/02/17/story/",)
    found = PageDate.of("2020-02-18T02:18:11Z", urls)
    assert found.utc == datetime(2020, 2, 18, 2, 18, 11, tzinfo=UTC)
    assert found.day == date(2020, 2, 17)
    # a URL day further away is another date, not the same instant: ignored
    assert PageDate.of("2020-02-18T02:18:11Z", ("/2020/02/10/x",)).day == date(2020, 2, 18)
    # a string with the site's own offset already gives its day
    assert PageDate.of("2020-02-18T02:18:11+01:00", urls).day == date(2020, 2, 18)


def test_an_arabic_month_name_in_json_ld_is_read() -> None:
    page = arabic_article_page(load_seed(), PageOptions(date_published="١٥ مايو ٢٠٢١"))
    article = extract_article(page, "https://mena-news.example/a")
    assert isinstance(article, ExtractedArticle)
    assert article.published_raw == "١٥ مايو ٢٠٢١"
    assert article.published == datetime(2021, 5, 15, tzinfo=UTC)


def test_the_url_day_wins_over_a_metadata_date_days_away() -> None:
    html = (
        "<html><head><meta property='article:published_time' content='2009-04-11 18:06:36'>"
        "</head><body><article><h1>h</h1><p>text</p></article></body></html>"
    )
    url = "https://blog.example/2019/10/22/post/"
    published, _ = page_dates(_tree(html), html, url)
    assert published.raw == "2019/10/22"  # the string it came from, as written
    assert published.utc == datetime(2019, 10, 22, tzinfo=UTC)
    assert published.day == date(2019, 10, 22)
    # the same day in the URL and the metadata: the metadata's time and offset are kept
    same = html.replace("2009-04-11 18:06:36", "2019-10-22T18:06:36+02:00")
    published, _ = page_dates(_tree(same), same, url)
    assert published.raw == "2019-10-22T18:06:36+02:00"
    assert published.utc == datetime(2019, 10, 22, 16, 6, 36, tzinfo=UTC)


# --- which string: the rules measured on htmldate's annotated pages ------------------------------


def _head(*tags: str, ld: str = "", body: str = "<article><h1>h</h1><p>text</p></article>") -> str:
    script = f"<script type='application/ld+json'>{ld}</script>" if ld else ""
    return f"<html><head>{''.join(tags)}{script}</head><body>{body}</body></html>"


def _published(html: str, url: str = "https://news.example/a") -> PageDate:
    return page_dates(_tree(html), html, url)[0]


def test_the_first_date_meta_in_document_order_wins_over_json_ld() -> None:
    # the head's first published-date tag, whatever its name, as htmldate reads the head
    html = _head(
        "<meta name='date' content='2022-02-04 15:33'>",
        "<meta name='pubdate' content='2021-12-14T15:41:07+01:00'>",
        ld='{"@type": "NewsArticle", "datePublished": "2021-12-10T08:00:00+01:00"}',
    )
    found = _published(html)
    assert found.raw == "2022-02-04 15:33"
    assert found.utc == datetime(2022, 2, 4, 15, 33, tzinfo=UTC)
    assert found.day == date(2022, 2, 4)


def test_a_date_meta_without_a_day_is_passed_over() -> None:
    html = _head(
        "<meta itemprop='datePublished' content='1988'>",
        "<meta name='dc.date' content='2017-01-30'>",
    )
    found = _published(html)
    assert found.raw == "2017-01-30"
    assert found.day == date(2017, 1, 30)


def test_a_utc_stamp_takes_the_day_of_the_same_instant_in_the_site_offset() -> None:
    # 06:35 UTC on the 9th is 22:35 on the 8th in Los Angeles, as the page's <time> says
    html = _head(
        "<meta property='article:published_time' content='2023-11-09T06:35:29+00:00'>",
        body="<article><h1>h</h1><time datetime='2023-11-08T22:35:29-08:00'>x</time></article>",
    )
    found = _published(html)
    assert found.raw == "2023-11-09T06:35:29+00:00"
    assert found.utc == datetime(2023, 11, 9, 6, 35, 29, tzinfo=UTC)
    assert found.day == date(2023, 11, 8)
    # another instant is another date: the UTC day stays
    other = html.replace("22:35:29-08:00", "21:05:30-08:00")
    assert _published(other).day == date(2023, 11, 9)


def test_a_date_meta_that_is_the_modification_stamp_gives_way_to_json_ld() -> None:
    html = _head(
        "<meta name='date' content='2019-10-18T20:00:25.850Z'>",
        ld='{"@type": "NewsArticle", "datePublished": "2019-10-19T03:00:00.000Z",'
        ' "dateModified": "2019-10-18T20:00:25.850Z"}',
    )
    found = _published(html)
    assert found.raw == "2019-10-19T03:00:00.000Z"
    assert found.day == date(2019, 10, 19)


def test_a_bare_day_meta_gives_way_to_a_json_ld_timestamp() -> None:
    html = _head(
        "<meta name='dc.date' content='2023-11-08'>",
        ld='{"@type": "NewsArticle", "datePublished": "2023-11-09T03:02:34-05:00"}',
    )
    found = _published(html)
    assert found.raw == "2023-11-09T03:02:34-05:00"
    assert found.utc == datetime(2023, 11, 9, 8, 2, 34, tzinfo=UTC)
    assert found.day == date(2023, 11, 9)


def test_a_time_shows_its_day_when_its_attribute_names_another() -> None:
    body = "<article><h1>h</h1><time datetime='2019-07-03T10:18:46Z'>Publié le 29 juin 2019</time>"
    found = _published(_head(body=body + "<p>t</p></article>"))
    assert found.raw == "Publié le 29 juin 2019"
    assert found.utc == datetime(2019, 6, 29, tzinfo=UTC)
    assert found.day == date(2019, 6, 29)
    # the same day shown: the attribute's time is kept
    same = body.replace("2019-07-03T10:18:46Z", "2019-06-29T10:18:46Z")
    assert _published(_head(body=same + "</article>")).raw == "2019-06-29T10:18:46Z"
    # a numeric text read month first where the attribute gives the order: the attribute
    numeric = "<article><time datetime='2023-11-01T10:00:00Z'>01/11/2023</time></article>"
    assert _published(_head(body=numeric)).day == date(2023, 11, 1)


def test_times_in_later_articles_are_related_posts_not_the_page() -> None:
    # the byline's day (read by the text search) rather than a related post's <time>
    body = (
        "<article><h1>h</h1><p class='published'>31. Oktober 2023</p><p>text</p></article>"
        "<ul><li><article><time datetime='2020-12-03 07:32:49'>3. Dezember 2020</time></article>"
        "</li></ul>"
    )
    found = _published(_head(body=body))
    assert found.utc == datetime(2023, 10, 31, tzinfo=UTC)
    assert found.day == date(2023, 10, 31)
    # a <time> in the page's own (first) article is still read
    first = _head(body="<article><time datetime='2023-10-30 09:00:00'>x</time></article>" + body)
    assert _published(first).utc == datetime(2023, 10, 30, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("raw", "utc"),
    [
        ("01.02.2022", datetime(2022, 2, 1, tzinfo=UTC)),  # day first, day 1 kept
        ("02.02.2022", datetime(2022, 2, 2, tzinfo=UTC)),
        ("04.05.20 14:50", datetime(2020, 5, 4, 14, 50, tzinfo=UTC)),  # two-digit year
        ("2020年07月12日", datetime(2020, 7, 12, tzinfo=UTC)),
        ("2020年7月12日 22:00", datetime(2020, 7, 12, 22, 0, tzinfo=UTC)),
        ("2020년 7월 12일", datetime(2020, 7, 12, tzinfo=UTC)),
    ],
)
def test_day_first_and_cjk_dates(raw: str, utc: datetime) -> None:
    assert parse_datetime(raw) == utc


@pytest.mark.parametrize("raw", ["1988", "Feb 2022", "January 2022", "2020年13月12日"])
def test_no_day_no_date(raw: str) -> None:
    assert parse_datetime(raw) is None
