"""What every ``newsvault`` command shares: the consoles, output formats, and how to fail.

Every command reads the configuration once, reports a problem as one line naming the thing
and the fix (exit code 2 for bad configuration or arguments, 1 for "not found"), and offers
``--format json`` where a script would want to read the answer. Text that comes from pages or
users (titles, URLs, error messages quoting them) is printed as it is, never read as rich
markup: a title holding ``[/b]`` must not crash the command.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, NoReturn

import typer

from newsvault import output
from newsvault.cli_text import plain_console, styled
from newsvault.config import ConfigError, Settings, load_settings
from newsvault.services.errors import Conflict, Invalid, NotFound, ServiceError

# No string printed to these is read as markup (see cli_text): our own styles are Text.
console = plain_console()
errors = plain_console(stderr=True)


class Format(StrEnum):
    text = "text"
    json = "json"


FormatOption = Annotated[Format, typer.Option("--format", "-f", help="Output format.")]


def fail(message: str, code: int = 1) -> NoReturn:
    errors.print(styled("[bold red]error:[/] {message}", message=message), soft_wrap=True)
    raise typer.Exit(code)


def warn(message: str) -> None:
    errors.print(styled("[yellow]warning:[/] {message}", message=message), soft_wrap=True)


# Exit codes of the services' errors: 2 for bad arguments or mode, 1 for the rest.
_EXIT_CODES: dict[type[ServiceError], int] = {Invalid: 2, NotFound: 1, Conflict: 1}


def fail_with(error: ServiceError, code: int | None = None) -> NoReturn:
    """Report a service's error as one line, with its exit code (or ``code``)."""
    fail(str(error), code if code is not None else _EXIT_CODES.get(type(error), 1))


def settings_or_exit() -> Settings:
    try:
        settings = load_settings()
        settings.ensure_home()
    except ConfigError as exc:
        fail(str(exc), 2)
    return settings


def ready_index(settings: Settings) -> Settings:
    """The settings, with the index database migrated to the current schema."""
    from storage.db import IndexUnavailable, migrate

    try:
        migrate(settings.index_url)
    except IndexUnavailable as exc:
        fail(str(exc), 2)
    return settings


def parse_when(value: str, option: str) -> datetime:
    """An ISO 8601 date or datetime as UTC; a naive value is taken as UTC."""
    text = value.strip().replace("Z", "+00:00")
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        fail(f"{option} {value!r} is not an ISO date like 2021-05-15 or 2021-05-15T14:00:00Z", 2)
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")


def show_article(document: dict[str, Any], format: Format) -> None:
    """An article (archived or just extracted) as JSON or as text for reading."""
    if format is Format.json:
        print_json(document)
    else:
        output.version_text(console, document)
