"""Site definitions: what to crawl on one news site, and how politely.

A definition is a TOML file (``sites/<name>.toml``) validated by :class:`SiteDefinition`;
a bad value is refused with a one-line message naming the file and the field. A bare URL gets
a zero-configuration definition (:func:`site_for_url`) that discovers feeds and sitemaps.
"""

from __future__ import annotations

import ipaddress
import re
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from vocabulary.canonical import UnsupportedURL, canonicalize, host_of

__all__ = [
    "Limits",
    "Politeness",
    "Selectors",
    "SiteDefinition",
    "SiteDefinitionError",
    "StartPoints",
    "load_site",
    "parse_site",
    "site_for_url",
]

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
# "30m", "2h", "1d", "45s", "15 min", "every 6 hours"
_INTERVAL = re.compile(
    r"^(?:every\s+)?(\d+)\s*(s|sec|secs|seconds?|m|min|mins|minutes?|h|hours?|d|days?)$", re.I
)
_CRON_FIELD = re.compile(r"^[\d*/,\-A-Za-z?]+$")


class SiteDefinitionError(ValueError):
    """A site definition is invalid; the message names the file (if any) and the field."""


class _Model(BaseModel):
    # Unknown keys are refused: a typo like ``max_pagse`` must not be silently ignored.
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_url(value: str) -> str:
    try:
        return canonicalize(value)
    except UnsupportedURL as exc:
        raise ValueError(str(exc)) from None


class StartPoints(_Model):
    """Where a crawl begins, by kind."""

    feeds: list[str] = Field(default_factory=list, description="RSS 2.0 / Atom / RDF feeds.")
    sitemaps: list[str] = Field(
        default_factory=list, description="Sitemaps, sitemap indexes, Google News sitemaps."
    )
    sections: list[str] = Field(
        default_factory=list, description="Section pages; links followed, pagination too."
    )
    articles: list[str] = Field(
        default_factory=list, description="Article pages fetched as such (re-crawls)."
    )

    @field_validator("feeds", "sitemaps", "sections", "articles")
    @classmethod
    def _urls(cls, values: list[str]) -> list[str]:
        return [_check_url(v) for v in values]

    @property
    def empty(self) -> bool:
        return not (self.feeds or self.sitemaps or self.sections or self.articles)


class Selectors(_Model):
    """Optional CSS selectors that override automatic extraction (used by tasks/extract)."""

    title: str | None = None
    body: str | None = None
    author: str | None = None
    date: str | None = None

    @field_validator("title", "body", "author", "date")
    @classmethod
    def _css(cls, value: str | None) -> str | None:
        if value is None:
            return None
        from cssselect import GenericTranslator, SelectorError

        try:
            GenericTranslator().css_to_xpath(value)
        except SelectorError as exc:
            raise ValueError(f"not a CSS selector: {value!r} ({exc})") from None
        return value


class Limits(_Model):
    max_pages: int = Field(default=1000, ge=1, description="Stop after this many responses.")
    max_depth: int = Field(default=3, ge=0, description="Section pagination / link depth.")
    max_age_days: float | None = Field(
        default=None,
        gt=0,
        description="Skip feed/sitemap entries older than this (by their dates).",
    )


class Politeness(_Model):
    delay: float = Field(
        default=1.0, ge=0, le=600, description="Seconds between requests to a host."
    )
    concurrency: int = Field(default=2, ge=1, le=64, description="Parallel requests per host.")


class SiteDefinition(_Model):
    """One news site: start points, scope, article patterns, limits and politeness."""

    name: str
    start: StartPoints = Field(default_factory=StartPoints)
    allowed_domains: list[str] = Field(default_factory=list)
    article_allow: list[str] = Field(default_factory=list)
    article_deny: list[str] = Field(default_factory=list)
    selectors: Selectors = Field(default_factory=Selectors)
    language: str | None = Field(default=None, description="Language hint, e.g. 'ar'.")
    limits: Limits = Field(default_factory=Limits)
    politeness: Politeness = Field(default_factory=Politeness)
    schedule: str | None = Field(
        default=None, description="Cron ('*/30 * * * *') or interval ('30m')."
    )
    recrawl: list[str] | None = Field(
        default=None,
        description="Re-fetch each article this long after first seen, e.g. ['1h', '6h', '3d'].",
    )
    allowed_networks: list[str] = Field(default_factory=list)
    user_agent: str | None = None
    tracking_params: list[str] = Field(default_factory=list)
    discover: bool = Field(
        False, description="Also find sitemaps (robots.txt, /sitemap.xml) and feeds (<head>)."
    )
    capture: Literal["page", "browser"] = Field(
        "page",
        description=(
            "How article pages are fetched: 'page' (the HTML as served) or 'browser' (loaded "
            "in chromium: every response the page makes is archived, the rendered DOM is "
            "what extraction reads, a screenshot is kept)."
        ),
    )

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _NAME.match(value):
            raise ValueError("use letters, digits, '.', '_' or '-' (at most 100), e.g. 'bbc-ar'")
        return value

    @field_validator("allowed_domains")
    @classmethod
    def _domains(cls, values: list[str]) -> list[str]:
        out = []
        for value in values:
            domain = value.strip().lower().rstrip(".")
            if "/" in domain or ":" in domain or not domain:
                raise ValueError(f"{value!r}: give a bare domain like 'example.com', not a URL")
            try:
                domain = domain.encode("idna").decode("ascii")
            except UnicodeError as exc:
                raise ValueError(f"{value!r} is not a valid domain ({exc})") from None
            out.append(domain)
        return out

    @field_validator("article_allow", "article_deny")
    @classmethod
    def _regexes(cls, values: list[str]) -> list[str]:
        for pattern in values:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"bad regular expression {pattern!r}: {exc}") from None
        return values

    @field_validator("language")
    @classmethod
    def _language(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*", value):
            raise ValueError(f"{value!r} is not a language tag like 'ar' or 'en-GB'")
        return value

    @field_validator("schedule")
    @classmethod
    def _schedule(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        value = value.strip()
        if _INTERVAL.match(value):
            if int(_INTERVAL.match(value).group(1)) == 0:  # type: ignore[union-attr]
                raise ValueError("an interval must be longer than zero")
            return value
        fields = value.split()
        if len(fields) == 5 and all(_CRON_FIELD.match(f) for f in fields):
            return value
        raise ValueError(
            f"{value!r}: use a cron expression ('*/30 * * * *') or an interval ('30m', '6h')"
        )

    @field_validator("recrawl")
    @classmethod
    def _recrawl(cls, values: list[str] | None) -> list[str] | None:
        for value in values or []:
            if not _INTERVAL.match(str(value).strip()):
                raise ValueError(f"{value!r}: give intervals like '1h', '6h', '3d'")
        return values

    @field_validator("allowed_networks")
    @classmethod
    def _networks(cls, values: list[str]) -> list[str]:
        for network in values:
            try:
                ipaddress.ip_network(network, strict=False)
            except ValueError:
                raise ValueError(f"{network!r} is not a network like 127.0.0.0/8") from None
        return values

    @field_validator("user_agent")
    @classmethod
    def _user_agent(cls, value: str | None) -> str | None:
        if value is not None and (len(value.strip()) < 3 or "\n" in value or "\r" in value):
            raise ValueError("give a one-line User-Agent naming the project and a contact URL")
        return value

    @model_validator(mode="after")
    def _scope(self) -> SiteDefinition:
        if self.start.empty and not self.discover:
            raise ValueError("start: give at least one feed, sitemap or section (or discover)")
        if not self.allowed_domains:
            # Default scope: the hosts of the start points.
            hosts = sorted(
                {
                    host_of(u)
                    for u in (*self.start.feeds, *self.start.sitemaps, *self.start.sections)
                }
            )
            object.__setattr__(self, "allowed_domains", hosts)
        return self

    # Helpers used by the spider -----------------------------------------------------------

    def start_urls(self) -> list[str]:
        return [*self.start.feeds, *self.start.sitemaps, *self.start.sections]

    def compiled_allow(self) -> list[re.Pattern[str]]:
        return [re.compile(p) for p in self.article_allow]

    def compiled_deny(self) -> list[re.Pattern[str]]:
        return [re.compile(p) for p in self.article_deny]


def _format_error(error: ValidationError) -> str:
    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or "(definition)"
    message = first["msg"].removeprefix("Value error, ")
    more = f" (and {error.error_count() - 1} more)" if error.error_count() > 1 else ""
    return f"{where}: {message}{more}"


def parse_site(data: dict[str, Any], *, source: str = "<site>") -> SiteDefinition:
    """Validate a mapping (e.g. parsed TOML or CLI options) into a definition."""
    try:
        return SiteDefinition.model_validate(data)
    except ValidationError as exc:
        raise SiteDefinitionError(f"{source}: {_format_error(exc)}") from None


def load_site(path: str | Path) -> SiteDefinition:
    """Read and validate a TOML site definition; errors name the file and the field."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SiteDefinitionError(f"{path}: cannot read ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise SiteDefinitionError(f"{path}: not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise SiteDefinitionError(f"{path}: invalid TOML ({exc})") from None
    data.setdefault("name", path.stem)
    return parse_site(data, source=str(path))


def site_for_url(url: str) -> SiteDefinition:
    """A zero-configuration definition for a home page: discover feeds, sitemaps, sections."""
    try:
        home = canonicalize(url)
    except UnsupportedURL as exc:
        raise SiteDefinitionError(f"{url}: {exc}") from None
    host = host_of(home)
    return SiteDefinition.model_validate(
        {"name": host, "start": {"sections": [home]}, "allowed_domains": [host], "discover": True}
    )
