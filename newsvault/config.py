"""newsvault's configuration, in one place.

Values come from environment variables prefixed ``NEWSVAULT_`` and, below them, from an
optional TOML file (``NEWSVAULT_CONFIG``, default ``./newsvault.toml`` when it exists).
A bad value is reported as one line naming the variable (:class:`ConfigError`), never as a
pydantic traceback.
"""

from __future__ import annotations

import ipaddress
import os
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
    TomlConfigSettingsSource,
)

ENV_PREFIX = "NEWSVAULT_"
DEFAULT_USER_AGENT = (
    "newsvault/0.1 (news archiving crawler; +https://github.com/newsvault/newsvault)"
)


class ConfigError(Exception):
    """A configuration value is missing or invalid; the message names the variable and the fix."""


def _config_file() -> Path:
    return Path(os.environ.get(f"{ENV_PREFIX}CONFIG", "newsvault.toml"))


class Settings(BaseSettings):
    """Every setting newsvault reads. Field ``x`` is the environment variable ``NEWSVAULT_X``."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore")

    home: Path = Field(Path("data"), description="Data folder: WARC files, SQLite index, logs.")
    database_url: str | None = Field(
        None, description="SQLAlchemy URL of the index; default: SQLite file in the data folder."
    )
    broker_url: str | None = Field(
        None, description="Celery broker (redis://...). Unset: embedded mode, no broker."
    )
    redis_url: str | None = Field(
        None, description="Redis for the near-duplicate index and schedules; default: broker URL."
    )
    warc_max_size: int = Field(1 << 30, gt=1024, description="Rotate WARC files past this size.")
    warc_fsync_every: int = Field(
        64, ge=1, description="fsync the open WARC file at least every N records."
    )
    user_agent: str = Field(DEFAULT_USER_AGENT, min_length=3)
    # NoDecode: the variable is a comma-separated list, not JSON.
    allowed_networks: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Private networks crawls may reach, e.g. 127.0.0.0/8 (comma-separated).",
    )
    max_page_bytes: int = Field(10 * 1024 * 1024, gt=0, description="Largest body fetched.")
    download_timeout: float = Field(30.0, gt=0)
    chromium_path: Path = Field(
        Path("/usr/bin/chromium"),
        description='The chromium that loads the pages of capture = "browser" sites.',
    )
    sample_site_port: int = Field(8741, ge=1, le=65535, description="Port of the demo site.")
    api_token: str | None = Field(None, description="Bearer token for write endpoints.")
    # Scheduled operation (workers and beat).
    redbeat_url: str | None = Field(
        None, description="Redis for schedules (RedBeat); default: the broker's db number + 1."
    )
    redbeat_prefix: str = Field("newsvault:redbeat:", min_length=1)
    beat_max_interval: float = Field(5.0, gt=0, description="Beat re-reads schedules this often.")
    redbeat_lock_timeout: int = Field(30, gt=0, description="A dead beat's lock expires after.")
    reconcile_every: float = Field(60.0, gt=0, description="Seconds between reconciler runs.")
    pending_after: float = Field(900.0, gt=0, description="Re-queue captures pending this long.")
    queued_after: float = Field(3600.0, gt=0, description="Re-send crawl jobs queued this long.")
    recrawl_every: float = Field(300.0, gt=0, description="Seconds between re-crawl policy runs.")
    crawl_lease: float = Field(180.0, gt=0, description="Crawl lease; renewed every third of it.")
    # Test hook: each processing task sleeps this long first, so a test can SIGKILL a worker
    # in the middle of one (tests/test_celery_ops.py). Never set it in production.
    test_process_delay: float = Field(0.0, ge=0)
    protect_reads: bool = Field(False, description="Read endpoints under /api/ need the token too.")
    replay_origin: str | None = Field(
        None,
        description="Serve raw captures from this separate origin, e.g. https://replay.example.",
    )

    @field_validator("allowed_networks", mode="before")
    @classmethod
    def _split_networks(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = [part.strip() for part in value.split(",") if part.strip()]
        for network in value:
            try:
                ipaddress.ip_network(network, strict=False)
            except ValueError as exc:
                raise ValueError(f"{network!r} is not a network like 127.0.0.0/8") from exc
        return value

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("sqlite", "postgresql")):
            raise ValueError("use sqlite:///path or postgresql+psycopg://user@host/db")
        return value

    @field_validator("broker_url", "redis_url", "redbeat_url")
    @classmethod
    def _redis_only(cls, value: str | None) -> str | None:
        if value == "":
            return None
        if value is not None and not value.startswith(("redis://", "rediss://")):
            raise ValueError("use a Redis URL like redis://127.0.0.1:6379/0")
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        config_file = _config_file()
        if config_file.is_file():
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=config_file))
        return tuple(sources)

    # Derived locations -------------------------------------------------------------------

    @property
    def warc_dir(self) -> Path:
        return self.home / "warcs"

    @property
    def index_url(self) -> str:
        """The index database URL: the configured one or SQLite inside the data folder."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.home / 'index.sqlite3').resolve()}"

    @property
    def embedded(self) -> bool:
        """True when no broker is configured: everything runs in the command's own process."""
        return self.broker_url is None

    @property
    def shared_redis_url(self) -> str | None:
        return self.redis_url or self.broker_url

    def ensure_home(self) -> None:
        """Create the data folder and its WARC folder, with a clear error if that is impossible."""
        try:
            self.warc_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(
                f"NEWSVAULT_HOME={self.home}: cannot create the data folder ({exc.strerror}); "
                "point NEWSVAULT_HOME at a writable folder"
            ) from exc


def _describe(error: ValidationError) -> str:
    first = error.errors()[0]
    field = str(first["loc"][0]) if first["loc"] else "?"
    message = first["msg"].removeprefix("Value error, ")
    value = os.environ.get(f"{ENV_PREFIX}{field.upper()}")
    shown = f"={value}" if value is not None else ""
    return f"{ENV_PREFIX}{field.upper()}{shown}: {message}"


def load_settings(**overrides: Any) -> Settings:
    """Read the configuration now, raising :class:`ConfigError` with a one-line message."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise ConfigError(_describe(exc)) from None
    except SettingsError as exc:  # a value pydantic-settings could not even parse
        raise ConfigError(f"{exc}; check the NEWSVAULT_* variables and {_config_file()}") from None
    except (ValueError, OSError) as exc:  # a malformed TOML file or unreadable config
        raise ConfigError(f"{_config_file()}: {exc}") from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (read once)."""
    return load_settings()
