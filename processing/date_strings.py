"""One date string -> an aware datetime (pure; never raises), in any language the archive meets.

`parse_local` keeps the string's own offset (the calendar day a reader of the page sees);
`parse_datetime` is the same instant in UTC (what is stored). A string without a zone is taken
as UTC: the raw string is kept beside the value, so the assumption can be revisited.

Cheapest first: ISO 8601 (also with a zone name glued on, '...+02:00CET'), RFC 2822, the
Solar Hijri calendar (jdatetime), dateutil for Latin-script strings, and only then dateparser,
restricted to a few locales by the string's script (it reads Arabic, Levantine and Persian month
names, and weekday forms in many languages). Eastern Arabic (٠-٩) and Persian (۰-۹) digits are
read as ASCII digits first.
"""

from __future__ import annotations

import email.utils
import re
import warnings
from datetime import UTC, datetime, tzinfo
from functools import cache, lru_cache
from typing import Any

from dateutil import parser as date_parser

_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")
# Arabic letter forms Persian text often carries (Arabic keyboards): read as the Persian ones.
_PERSIAN_LETTERS = str.maketrans({"ي": "ی", "ى": "ی", "ك": "ک", "\u200c": " "})

# "GMT+4", "UTC -03:00": a POSIX-style offset whose sign the parsers below get wrong.
_POSIX_OFFSET_RE = re.compile(r"\b(GMT|UTC)\s*[+-]", re.IGNORECASE)
_RFC2822_RE = re.compile(r"^([A-Za-z]{3},\s*)?\d{1,2}\s+[A-Za-z]{3}\s+\d{4}\s+\d{1,2}:\d{2}")
_DIGIT_RE = re.compile(r"\d")
# An ISO 8601 date-time followed by junk (a zone name, a stray letter): the ISO part is read.
_ISO_PREFIX_RE = re.compile(
    r"^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?)?"
)
# 25.01.2022, 01-11-2023, 04.05.20: written day first wherever these forms are used (slashes
# vary).
_DOTTED_DAY_FIRST_RE = re.compile(r"\b\d{1,2}([.-])\d{1,2}\1\d{4}\b|\b\d{1,2}\.\d{1,2}\.\d\d\b")
_LATIN_ONLY_RE = re.compile(r"^[\x00-\x7f\u00a0-\u024f]*$")
_ARABIC_SCRIPT_RE = re.compile(r"[\u0600-\u06ff\u0750-\u077f]")
_CYRILLIC_RE = re.compile(r"[\u0400-\u04ff]")
_TIME_RE = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2}))?")
# 2020年07月12日 (Chinese, Japanese), 2020년 7월 12일 (Korean): year, month, day marked.
_CJK_DATE_RE = re.compile(r"(\d{4})\s*[年년]\s*(\d{1,2})\s*[月월]\s*(\d{1,2})\s*[日일号]?")
_SOLAR_YEARS = range(1300, 1500)  # Solar Hijri years of the web; Gregorian years never look so


def normalize_digits(value: str) -> str:
    """Eastern Arabic and Persian digits as ASCII digits (everything else unchanged)."""
    return value.translate(_DIGITS)


def parse_datetime(raw: str | None) -> datetime | None:
    """A date string -> aware UTC datetime, or None. Never raises."""
    local = parse_local(raw)
    if local is None:
        return None
    try:
        return local.astimezone(UTC)
    except (OverflowError, ValueError):
        return None


def parse_local(raw: str | None) -> datetime | None:
    """A date string -> aware datetime in the string's own offset (UTC if it names none)."""
    if not isinstance(raw, str):
        return None
    value = normalize_digits(raw.strip())
    if not value or len(value) > 200 or not _DIGIT_RE.search(value):
        return None
    try:
        parsed = _parse(value)
    except Exception:  # third-party parsers on hostile strings: "not a date", never a crash
        return None
    if parsed is None:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        parsed.astimezone(UTC)  # an offset that pushes the instant out of range
    except (OverflowError, ValueError):
        return None
    return parsed


# Pages of one site repeat their date strings ("1 يناير 2025" on every article of a day), and
# the language-aware parsers cost milliseconds a string: remember recent answers.
@lru_cache(maxsize=4096)
def _parse(value: str) -> datetime | None:
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        pass
    iso = _ISO_PREFIX_RE.match(value)
    if iso and iso.end() < len(value):
        try:
            return datetime.fromisoformat(iso.group(0))
        except ValueError:
            return None
    # dateutil reads "GMT+4" the POSIX way (4 hours *behind*) and email.utils mangles it:
    # refuse rather than store a wrong instant (the raw string is kept).
    if _POSIX_OFFSET_RE.search(value):
        return None
    if _RFC2822_RE.match(value):
        try:
            return email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
    cjk = _CJK_DATE_RE.search(value)
    if cjk:
        year, month, day = (int(g) for g in cjk.groups())
        clock = _TIME_RE.search(value, cjk.end())
        hour, minute = (int(clock.group(1)), int(clock.group(2))) if clock else (0, 0)
        return datetime(year, month, day, hour, minute) if hour < 24 and minute < 60 else None
    solar = solar_hijri(value)
    if solar is not None:
        return solar
    if _LATIN_ONLY_RE.match(value):
        found = _dateutil(value)
        if found is not None:
            return found
    return _dateparser(value)


# ---------------------------------------------------------------------------------------------
# Solar Hijri (the Iranian and Afghan calendar)


@cache
def _solar_patterns() -> tuple[re.Pattern[str], re.Pattern[str], dict[str, int]]:
    import jdatetime

    names_fa = jdatetime.date.j_months_fa
    months = {name.replace("\u200c", " "): n for n, name in enumerate(names_fa, 1)}
    names = "|".join(sorted(months, key=len, reverse=True))
    named = re.compile(rf"(?<!\d)(\d{{1,2}})\s*(?:ام\s*)?({names})\s*(?:ماه\s*)?،?\s*(\d{{4}})")
    numeric = re.compile(r"(?<!\d)(1[34]\d\d)\s*[/.-]\s*(\d{1,2})\s*[/.-]\s*(\d{1,2})(?!\d)")
    return named, numeric, months


def solar_hijri(value: str) -> datetime | None:
    """'۲ خرداد ۱۴۰۰', 'شنبه ۲ خرداد ۱۴۰۰ - ۱۲:۳۰', '۱۴۰۰/۰۳/۰۲' -> the Gregorian datetime
    (naive: the string names no zone), or None when the string is not a Solar Hijri date."""
    text = normalize_digits(value).translate(_PERSIAN_LETTERS)
    named, numeric, months = _solar_patterns()
    match = named.search(text)
    if match:
        year, month, day = int(match.group(3)), months[match.group(2)], int(match.group(1))
    else:
        match = numeric.search(text)
        if not match:
            return None
        year, month, day = (int(match.group(i)) for i in (1, 2, 3))
    if year not in _SOLAR_YEARS:
        return None
    import jdatetime

    try:
        gregorian = jdatetime.date(year, month, day).togregorian()
    except (ValueError, OverflowError):
        return None
    hour = minute = second = 0
    clock = _TIME_RE.search(text, match.end()) or _TIME_RE.search(text, 0, match.start())
    if clock:
        hour, minute, second = (int(g or 0) for g in clock.groups())
        if hour > 23 or minute > 59 or second > 59:
            hour = minute = second = 0
    return datetime(gregorian.year, gregorian.month, gregorian.day, hour, minute, second)


# ---------------------------------------------------------------------------------------------
# dateutil (Latin script) and dateparser (any script, last)


_NO_DATE = datetime(1, 1, 1)


def _dateutil(value: str) -> datetime | None:
    dayfirst = bool(_DOTTED_DAY_FIRST_RE.search(value))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # an unknown zone name: tzinfos below says None
        try:
            found = date_parser.parse(
                value, default=_NO_DATE, dayfirst=dayfirst, tzinfos=_zone_name
            )
        except (ValueError, OverflowError, TypeError):
            return None
    # No year in the string ("12:30", "May 15"): dateutil would fill in from the default.
    if found.year == _NO_DATE.year:
        return None
    if (found.month == 1 or found.day == 1) and _dateutil_fills_day(value, dayfirst, found):
        return None  # a bare year ("1988"), or a month alone: no day to give
    return found


def _dateutil_fills_day(value: str, dayfirst: bool, found: datetime) -> bool:
    """True when dateutil took the month or day from its default: read again with another
    default, the month or day moves."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            again = date_parser.parse(
                value, default=datetime(1, 2, 2), dayfirst=dayfirst, tzinfos=_zone_name
            )
        except (ValueError, OverflowError, TypeError):
            return True
    return (again.month, again.day) != (found.month, found.day)


def _zone_name(name: str | None, offset: int | None) -> tzinfo | int | None:
    """dateutil's tzinfos hook: a zone abbreviation (CET, EDT, IST) as dateparser knows it."""
    if offset is not None or not name or name.upper() in {"UTC", "GMT", "Z"}:
        return offset
    from dateparser.timezone_parser import pop_tz_offset_from_string

    _, zone = pop_tz_offset_from_string(f"x {name}")
    return zone


# Locales by the string's script: few, so that a wrong language cannot read a number as a month.
# ar-LB reads the Levantine month names (كانون الثاني) beside the standard ones (يناير).
_LOCALES = {
    "arabic": ("ar-LB", "fa", "ur"),
    "cyrillic": ("ru", "uk", "bg", "sr"),
    "latin": ("en", "de", "fr", "es", "it", "pt", "nl", "tr", "pl", "id"),
}
_DATEPARSER_SETTINGS: dict[str, Any] = {
    # Absolute dates only: "2 hours ago" depends on when the page was read, not on the page.
    "PARSERS": ["custom-formats", "absolute-time"],
    "REQUIRE_PARTS": ["day", "month", "year"],
    "PREFER_DAY_OF_MONTH": "first",
}


@cache
def _date_data_parser(script: str) -> Any:
    from dateparser.date import DateDataParser

    return DateDataParser(
        locales=list(_LOCALES[script]), try_previous_locales=False, settings=_DATEPARSER_SETTINGS
    )


def _dateparser(value: str) -> datetime | None:
    if _ARABIC_SCRIPT_RE.search(value):
        script = "arabic"
    elif _CYRILLIC_RE.search(value):
        script = "cyrillic"
    elif _LATIN_ONLY_RE.match(value):
        script = "latin"
    else:
        return None
    found = _date_data_parser(script).get_date_data(value).date_obj
    return found if isinstance(found, datetime) else None
