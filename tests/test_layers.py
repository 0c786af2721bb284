"""The layer rules are enforced: `lint-imports` (run by `make lint`) passes on the tree and
fails, naming the import, when a lower layer imports a higher one.

Real parts: import-linter itself on a copy of the packages, nothing mocked.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("vocabulary", "storage", "processing", "crawler", "tasks", "newsvault")
LINT_IMPORTS = str(Path(sys.executable).with_name("lint-imports"))


def _copy_tree(target: Path) -> Path:
    for package in PACKAGES:
        shutil.copytree(
            ROOT / package, target / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    shutil.copy(ROOT / "pyproject.toml", target / "pyproject.toml")
    return target


def _lint(tree: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [LINT_IMPORTS, "--no-cache"],
        cwd=tree,
        env={"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _copy_tree(tmp_path_factory.mktemp("layers"))


def test_the_tree_keeps_every_contract(tree: Path) -> None:
    result = _lint(tree)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "upward"),
    [
        ("storage/archive.py", "from tasks import pipeline"),
        ("storage/db.py", "from newsvault.config import Settings"),
        ("processing/diff.py", "from storage import models"),
        ("vocabulary/canonical.py", "from processing import text"),
        ("crawler/links.py", "from tasks import dispatch"),
        ("newsvault/services/sites.py", "from newsvault import cli_sites"),
    ],
)
def test_an_upward_import_breaks_the_lint(tree: Path, module: str, upward: str) -> None:
    path = tree / module
    original = path.read_text()
    try:
        path.write_text(original + f"\n{upward}  # noqa\n")
        result = _lint(tree)
    finally:
        path.write_text(original)
    assert result.returncode != 0
    importer = module.removesuffix(".py").replace("/", ".")
    assert importer in result.stdout, result.stdout
