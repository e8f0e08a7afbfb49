"""Repository-wide rules: the package dependency direction of DESIGN.md section 2
(import-linter) and CONVENTIONS.md's "type hints everywhere; mypy clean on the packages"."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ["neurostack", "sequencer", "bridge", "hub_client"]


def _tool(name: str) -> str:
    return str(Path(sys.executable).with_name(name))


def test_import_contracts_are_kept() -> None:
    result = subprocess.run(
        [_tool("lint-imports"), "--no-cache"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.slow
def test_packages_are_mypy_clean(tmp_path: Path) -> None:
    result = subprocess.run(
        [_tool("mypy"), "--cache-dir", str(tmp_path), "--ignore-missing-imports", *PACKAGES],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
