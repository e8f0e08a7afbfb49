"""docs/explorer.md shows the committed screenshots (``make screenshots`` writes them), and
its command line matches the CLI."""

from __future__ import annotations

import re
from pathlib import Path

from typer.testing import CliRunner

from neurostack.cli.main import app

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "explorer.md"
PICTURES = ROOT / "docs" / "img" / "explorer"


def test_every_screenshot_is_shown_and_exists() -> None:
    text = DOC.read_text()
    shown = set(re.findall(r"img/explorer/([\w-]+\.png)", text))
    assert shown == {p.name for p in PICTURES.glob("*.png")}
    for name in shown:
        assert (PICTURES / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_documented_options_are_the_clis() -> None:
    help_text = CliRunner().invoke(app, ["explorer", "--help"], env={"COLUMNS": "200"}).output
    documented = set(re.findall(r"`(--[a-z-]+)`", DOC.read_text().split("## Pages")[0]))
    for option in documented - {"--explorer-port", "--no-explorer", "--reset"}:
        assert option in help_text, option
