"""Configuration: environment, TOML file, and one-line errors naming the variable."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from newsvault.config import ConfigError, load_settings


def test_defaults_are_the_embedded_mode(tmp_path: Path) -> None:
    settings = load_settings()
    assert settings.embedded
    assert settings.home == Path("data")
    assert settings.index_url.startswith("sqlite:///")
    assert settings.index_url.endswith("data/index.sqlite3")


def test_environment_sets_values(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("NEWSVAULT_HOME", str(tmp_path))
    monkeypatch.setenv("NEWSVAULT_BROKER_URL", "redis://127.0.0.1:6379/0")
    monkeypatch.setenv("NEWSVAULT_ALLOWED_NETWORKS", "127.0.0.0/8, 10.1.0.0/16")
    settings = load_settings()
    assert settings.home == tmp_path
    assert not settings.embedded
    assert settings.allowed_networks == ["127.0.0.0/8", "10.1.0.0/16"]
    assert settings.shared_redis_url == "redis://127.0.0.1:6379/0"


def test_toml_file_is_read_and_environment_wins(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    config = tmp_path / "newsvault.toml"
    config.write_text('home = "/srv/archive"\nwarc_max_size = 5000000\n')
    monkeypatch.setenv("NEWSVAULT_CONFIG", str(config))
    assert load_settings().warc_max_size == 5_000_000
    monkeypatch.setenv("NEWSVAULT_WARC_MAX_SIZE", "7000000")
    settings = load_settings()
    assert settings.warc_max_size == 7_000_000
    assert settings.home == Path("/srv/archive")


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("NEWSVAULT_WARC_MAX_SIZE", "big", "NEWSVAULT_WARC_MAX_SIZE=big: "),
        ("NEWSVAULT_BROKER_URL", "amqp://x", "NEWSVAULT_BROKER_URL=amqp://x: use a Redis URL"),
        ("NEWSVAULT_DATABASE_URL", "mysql://x", "NEWSVAULT_DATABASE_URL=mysql://x: use sqlite"),
        ("NEWSVAULT_ALLOWED_NETWORKS", "10.0.0.0/33", "is not a network"),
        ("NEWSVAULT_SAMPLE_SITE_PORT", "70000", "NEWSVAULT_SAMPLE_SITE_PORT=70000"),
    ],
)
def test_bad_value_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, expected: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    message = str(caught.value)
    assert expected in message
    assert "\n" not in message


def test_malformed_toml_is_a_config_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config = tmp_path / "newsvault.toml"
    config.write_text("home = [unclosed\n")
    monkeypatch.setenv("NEWSVAULT_CONFIG", str(config))
    with pytest.raises(ConfigError, match=r"newsvault\.toml"):
        load_settings()


def test_cli_reports_bad_configuration_in_one_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("NEWSVAULT_HOME", str(tmp_path))
    monkeypatch.setenv("NEWSVAULT_WARC_MAX_SIZE", "-5")
    result = subprocess.run(
        [sys.executable, "-m", "newsvault", "articles"], capture_output=True, text=True
    )
    assert result.returncode == 2
    assert "NEWSVAULT_WARC_MAX_SIZE=-5" in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
