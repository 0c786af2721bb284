"""Docs as tests (datasette's way): the README and docs/internals.md keep up with the code.

A new setting without a README row, or a new module missing from docs/internals.md, fails
here, so the pages a newcomer reads first never drift from what the code does.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from newsvault.config import Settings

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("vocabulary", "storage", "processing", "crawler", "tasks", "newsvault")


def _modules() -> list[str]:
    found = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            if path.name == "__init__.py" or "/migrations/" in relative:
                continue
            found.append(relative)
    return found


@pytest.mark.parametrize("field", sorted(Settings.model_fields))
def test_every_setting_is_documented_in_the_readme(field: str) -> None:
    readme = (ROOT / "README.md").read_text()
    variable = f"NEWSVAULT_{field.upper()}"
    assert f"`{variable}`" in readme, f"{variable}: add a row to the README's Configuration table"


def test_the_readme_documents_no_setting_that_does_not_exist() -> None:
    readme = (ROOT / "README.md").read_text()
    known = {f"NEWSVAULT_{field.upper()}" for field in Settings.model_fields} | {
        "NEWSVAULT_CONFIG"  # names the TOML file; read before Settings exists
    }
    named = set(re.findall(r"`(NEWSVAULT_[A-Z_]+)`", readme))
    assert named - known == set()


@pytest.mark.parametrize("module", _modules())
def test_every_module_is_in_the_internals_page(module: str) -> None:
    internals = (ROOT / "docs" / "internals.md").read_text()
    assert f"`{module}`" in internals, f"{module}: add it to docs/internals.md's module table"


def test_every_module_the_internals_page_names_exists() -> None:
    internals = (ROOT / "docs" / "internals.md").read_text()
    pattern = r"`((?:" + "|".join(PACKAGES) + r")/[\w/]+\.py)`"
    named = set(re.findall(pattern, internals))
    assert named, "docs/internals.md names no module"
    assert sorted(name for name in named if not (ROOT / name).is_file()) == []
