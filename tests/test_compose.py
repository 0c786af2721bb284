"""docker-compose.yml cannot run here (no Docker engine): check every command it names exists."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

COMPOSE = Path(__file__).parent.parent / "docker-compose.yml"


def newsvault_commands() -> list[list[str]]:
    services = yaml.safe_load(COMPOSE.read_text())["services"]
    return [
        service["command"]
        for service in services.values()
        if isinstance(service.get("command"), list) and service["command"][0] == "newsvault"
    ]


def test_compose_runs_the_whole_stack() -> None:
    services = yaml.safe_load(COMPOSE.read_text())["services"]
    assert {"redis", "postgres", "beat", "crawl-worker", "process-worker", "api"} <= set(services)
    assert {tuple(c[:2]) for c in newsvault_commands()} >= {
        ("newsvault", "beat"),
        ("newsvault", "worker"),
        ("newsvault", "serve"),
    }


def test_every_compose_command_and_option_exists() -> None:
    for command in newsvault_commands():
        subcommand = command[1]
        result = subprocess.run(
            [sys.executable, "-m", "newsvault", subcommand, "--help"],
            capture_output=True,
            text=True,
        )
        assert result.returncode == 0, result.stderr
        for option in (arg for arg in command[2:] if arg.startswith("--")):
            assert option in result.stdout, f"{subcommand} has no {option}"
