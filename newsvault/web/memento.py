"""Memento (RFC 7089) and Wayback-style URLs: TimeGates, TimeMaps and memento headers.

URI-R is the original URL, URI-M ``/web/{14-digit timestamp}/{URI-R}`` (the memento page: the
archive's banner, the page as captured, the cleaned text), ``/web/{timestamp}mp_/{URI-R}`` (the
page as captured, rewritten to load only from the archive; ``im_``, ``cs_``, ``js_``, ``oe_``,
``if_``, ``fr_`` are the same for the resources it embeds) or ``/web/{timestamp}id_/{URI-R}``
(the raw capture, byte for byte), URI-G ``/timegate/{URI-R}``, URI-T
``/timemap/link/{URI-R}``. Every capture of a URL is a memento; the one a timestamp names is
chosen by ``storage.retrieval.closest_capture`` (closest, ties to the earlier).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any
from urllib.parse import quote

from fastapi import HTTPException, Request

from processing.replay_urls import MODIFIERS
from storage.models import Capture

LINK_FORMAT = "application/link-format"
_TIMESTAMP = re.compile(r"^(\d{4,14})([a-z]{2}_)?$")
_MODIFIER_NAMES = ", ".join(sorted(m for m in MODIFIERS if m))


def timestamp14(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y%m%d%H%M%S")


def http_date(when: datetime) -> str:
    """RFC 1123 date, as Memento-Datetime and Link ``datetime`` want it."""
    return format_datetime(when.astimezone(UTC), usegmt=True)


@dataclass(frozen=True)
class MementoPath:
    timestamp: str  # 14 digits (a shorter one is padded)
    when: datetime
    modifier: str = ""  # "", "id_", "mp_", "im_"... (processing.replay_urls.MODIFIERS)

    @property
    def raw(self) -> bool:
        return self.modifier == "id_"


def parse_memento_timestamp(value: str) -> MementoPath:
    """``20211101120000`` or ``2021`` (padded with the start of the period), then an optional
    modifier: ``id_`` (raw), ``mp_`` (rewritten page), ``im_``/``cs_``/``js_``/``oe_``/``if_``/
    ``fr_`` (rewritten resources)."""
    match = _TIMESTAMP.match(value)
    if match is None or len(match.group(1)) % 2:
        raise HTTPException(
            400,
            f"{value!r} is not a timestamp like 20211101120000 (optionally followed by one of "
            f"{_MODIFIER_NAMES})",
        )
    modifier = match.group(2) or ""
    if modifier not in MODIFIERS:
        raise HTTPException(
            400, f"{modifier!r} in {value!r} is not a replay modifier: use one of {_MODIFIER_NAMES}"
        )
    digits = match.group(1)
    padded = digits + "0101000000"[len(digits) - 4 :]
    try:
        when = datetime.strptime(padded, "%Y%m%d%H%M%S").replace(tzinfo=UTC)
    except ValueError:
        raise HTTPException(400, f"{value!r} is not a valid date and time") from None
    return MementoPath(padded, when, modifier)


def parse_accept_datetime(value: str | None) -> datetime | None:
    """The ``Accept-Datetime`` header (RFC 1123); 400 when present but not a date."""
    if value is None or not value.strip():
        return None
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        when = None
    if when is None:
        raise HTTPException(
            400,
            f"Accept-Datetime {value!r} is not an RFC 1123 date "
            "like 'Thu, 01 Apr 2021 12:00:00 GMT'",
        )
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def original_url(request: Request, prefix: str) -> str:
    """The URI-R in a path such as ``/timegate/https://example.com/a?b=1``.

    Taken from the raw path so percent-escapes stay as sent; the query string belongs to the
    original URL. Clients and proxies that squeeze ``//`` to ``/`` are forgiven.
    """
    raw_path = request.scope.get("raw_path") or request.url.path.encode()
    path = raw_path.decode("utf-8", "replace")
    root = request.scope.get("root_path", "")
    if root and path.startswith(root):
        path = path[len(root) :]
    if not path.startswith(prefix):
        raise HTTPException(404, "not found")
    url = path[len(prefix) :]
    query = request.url.query
    if query:
        url += "?" + query
    url = re.sub(r"^(https?):/+", r"\1://", url, flags=re.IGNORECASE)
    if not url:
        raise HTTPException(400, "no URL given after " + prefix)
    if "://" not in url:
        url = "http://" + url
    return url


def _quoted(url: str) -> str:
    # URI-Rs go inside <...> in Link headers and into paths: escape what would break them.
    return quote(url, safe=":/?#[]@!$&'()*+,;=%~")


@dataclass(frozen=True)
class Urls:
    """Absolute URLs of one original resource's Memento family."""

    base: str  # e.g. "http://127.0.0.1:8000"
    original: str

    @property
    def timegate(self) -> str:
        return f"{self.base}/timegate/{_quoted(self.original)}"

    @property
    def timemap(self) -> str:
        return f"{self.base}/timemap/link/{_quoted(self.original)}"

    @property
    def timemap_json(self) -> str:
        return f"{self.base}/timemap/json/{_quoted(self.original)}"

    def memento(
        self, when: datetime, *, raw: bool = False, base: str | None = None, modifier: str = ""
    ) -> str:
        suffix = "id_" if raw else modifier
        return f"{base or self.base}/web/{timestamp14(when)}{suffix}/{_quoted(self.original)}"


def _link(uri: str, rel: str, **params: str) -> str:
    extra = "".join(f'; {name}="{value}"' for name, value in params.items())
    return f'<{uri}>; rel="{rel}"{extra}'


def memento_links(
    urls: Urls,
    captures: list[Capture],
    current: Capture,
    *,
    raw: bool,
    base: str | None = None,
    modifier: str = "",
) -> str:
    """The ``Link`` header of a memento: original, timegate, timemap, first/prev/next/last.

    Relations that name the same memento are merged into one ``rel`` ("first memento" and
    "memento" for the first capture), as in RFC 7089's examples.
    """
    index = next(i for i, c in enumerate(captures) if c.id == current.id)
    rels: dict[int, list[str]] = {}

    def add(position: int, rel: str) -> None:
        rels.setdefault(position, []).append(rel)

    add(0, "first")
    if index > 0:
        add(index - 1, "prev")
    add(index, "")
    if index < len(captures) - 1:
        add(index + 1, "next")
    add(len(captures) - 1, "last")
    links = [
        _link(urls.original, "original"),
        _link(urls.timegate, "timegate"),
        _link(urls.timemap, "timemap", type=LINK_FORMAT),
    ]
    for position in sorted(rels):
        capture = captures[position]
        words = [w for w in ("first", "prev", "next", "last") if w in rels[position]]
        rel = " ".join([*words, "memento"])
        uri = urls.memento(capture.fetched_at, raw=raw, base=base, modifier=modifier)
        links.append(_link(uri, rel, datetime=http_date(capture.fetched_at)))
    return ", ".join(links)


def timegate_links(urls: Urls, captures: list[Capture]) -> str:
    first, last = captures[0], captures[-1]
    links = [_link(urls.original, "original"), _link(urls.timemap, "timemap", type=LINK_FORMAT)]
    if first.id == last.id:
        links.append(
            _link(
                urls.memento(first.fetched_at),
                "first last memento",
                datetime=http_date(first.fetched_at),
            )
        )
    else:
        links.append(
            _link(
                urls.memento(first.fetched_at),
                "first memento",
                datetime=http_date(first.fetched_at),
            )
        )
        links.append(
            _link(
                urls.memento(last.fetched_at), "last memento", datetime=http_date(last.fetched_at)
            )
        )
    return ", ".join(links)


def timemap_link_format(urls: Urls, captures: list[Capture]) -> str:
    """A TimeMap in ``application/link-format`` (RFC 7089 §5.1, RFC 6690), one link a line."""
    first, last = captures[0], captures[-1]
    lines = [
        _link(urls.original, "original"),
        _link(
            urls.timemap,
            "self",
            type=LINK_FORMAT,
            **{"from": http_date(first.fetched_at), "until": http_date(last.fetched_at)},
        ),
        _link(urls.timegate, "timegate"),
    ]
    for position, capture in enumerate(captures):
        words = []
        if position == 0:
            words.append("first")
        if position == len(captures) - 1:
            words.append("last")
        rel = " ".join([*words, "memento"])
        lines.append(
            _link(urls.memento(capture.fetched_at), rel, datetime=http_date(capture.fetched_at))
        )
    return ",\n".join(lines) + "\n"


def timemap_json(urls: Urls, captures: list[Capture]) -> dict[str, Any]:
    """The JSON TimeMap shape of the Memento aggregator and pywb."""

    def entry(capture: Capture) -> dict[str, Any]:
        return {
            "datetime": http_date(capture.fetched_at),
            "uri": urls.memento(capture.fetched_at),
            "raw_uri": urls.memento(capture.fetched_at, raw=True),
            "status": capture.status,
            "mime_type": capture.mime_type,
            "digest": capture.payload_digest,
        }

    return {
        "original_uri": urls.original,
        "timegate_uri": urls.timegate,
        "timemap_uri": {"link_format": urls.timemap, "json_format": urls.timemap_json},
        "mementos": {
            "first": entry(captures[0]),
            "last": entry(captures[-1]),
            "list": [entry(capture) for capture in captures],
        },
    }
