"""Docs that run: every fenced code block of the README and ``docs/`` is a file.

The convention (docs/quality.md), as FastAPI's and typer's ``docs_src``: a page names the
file of each code block in an HTML comment on the line right before the fence, which
GitHub does not display::

    <!-- docs_src/rpc/web3_node.py -->
    ```python
    ...the file's exact contents...
    ```

The path is relative to the repository root. ``python -m neurostack.docs --sync``
rewrites every such block from its file (and adds the fence after a marker that has
none); ``--check`` reports blocks that differ from their file, fenced blocks without a
file, and markers naming a missing file. The tests (``tests/test_docs.py``) run the
check and then run or check the files themselves. Two markers stand for blocks that are
not code and are therefore not files: ``<!-- output -->`` (what a program printed, a
JSON answer) and ``<!-- figure -->`` (a diagram, a folder tree, a formula); they are
allowed only on fences without a language, or ``text``/``json``.

Pages: ``README.md``, ``docs/**/*.md``, and the Markdown files under ``examples/`` that
opt in with the line ``<!-- docs: checked -->``.
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from pathlib import Path

NOT_CODE = ("output", "figure")
NOT_CODE_LANGUAGES = ("", "text", "json")
OPT_IN = "<!-- docs: checked -->"
LANGUAGE_OF = {
    ".py": "python",
    ".sh": "sh",
    ".console": "console",
    ".toml": "toml",
    ".sol": "solidity",
    ".json": "json",
    ".js": "javascript",
    ".mjs": "javascript",
}
_FENCE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})(?P<info>[^`]*)$")
_MARKER = re.compile(r"^ {0,3}<!--\s*(?P<name>[^\s>]+)\s*-->\s*$")


@dataclass(frozen=True)
class Block:
    """One fenced block of a page: where it is, its marker and what it holds."""

    page: Path
    line: int  # 1-based line of the opening fence
    marker: str | None  # a file path, "output", "figure", or None
    language: str
    content: str  # the block's text, indentation removed, ending in a newline (or "")
    start: int  # index of the opening fence line
    end: int  # index of the closing fence line


@dataclass(frozen=True)
class Problem:
    page: Path
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.page}:{self.line}: {self.message}"


def pages(root: Path) -> list[Path]:
    """The Markdown pages whose blocks must be files (see the module docstring)."""
    found = [root / "README.md", *sorted((root / "docs").rglob("*.md"))]
    examples = root / "examples"
    if examples.is_dir():
        found += [p for p in sorted(examples.rglob("*.md")) if OPT_IN in p.read_text()]
    return [p for p in found if p.is_file()]


def blocks(page: Path, text: str | None = None) -> list[Block]:
    """The fenced blocks of ``page`` (or of ``text``, read as that page)."""
    lines = (page.read_text() if text is None else text).split("\n")
    found: list[Block] = []
    i = 0
    while i < len(lines):
        opening = _FENCE.match(lines[i])
        if opening is None:
            i += 1
            continue
        indent, fence = opening["indent"], opening["fence"]
        closing = re.compile(rf"^ {{0,{len(indent)}}}{re.escape(fence[0])}{{{len(fence)},}}\s*$")
        end = next((j for j in range(i + 1, len(lines)) if closing.match(lines[j])), len(lines))
        body = [line.removeprefix(indent) for line in lines[i + 1 : end]]
        marker = _MARKER.match(lines[i - 1]) if i > 0 else None
        found.append(
            Block(
                page=page,
                line=i + 1,
                marker=marker["name"] if marker else None,
                language=opening["info"].strip().split(" ")[0],
                content="".join(line + "\n" for line in body),
                start=i,
                end=end,
            )
        )
        i = end + 1
    return found


def _source(root: Path, marker: str) -> Path | None:
    path = (root / marker).resolve()
    return path if path.is_relative_to(root.resolve()) and path.is_file() else None


def check_page(page: Path, root: Path) -> list[Problem]:
    """Everything wrong with one page's blocks (empty when the page is in order)."""
    problems: list[Problem] = []
    text = page.read_text()
    for block in blocks(page, text):
        where = (page.relative_to(root) if page.is_relative_to(root) else page, block.line)
        if block.marker is None:
            problems.append(
                Problem(
                    *where,
                    "fenced block without a source file: put the code in a file "
                    "(docs_src/<page>/<name>.<ext>) and name it in a <!-- path --> line "
                    "before the fence, or mark sample output <!-- output -->",
                )
            )
        elif block.marker in NOT_CODE:
            if block.language not in NOT_CODE_LANGUAGES:
                problems.append(
                    Problem(
                        *where,
                        f"<!-- {block.marker} --> marks a {block.language} block: "
                        "code must be a file",
                    )
                )
        elif (source := _source(root, block.marker)) is None:
            problems.append(Problem(*where, f"{block.marker}: no such file in the repository"))
        elif source.read_text() != block.content:
            problems.append(
                Problem(
                    *where,
                    f"differs from {block.marker}: run `python -m neurostack.docs "
                    "--sync` (edit the file, not the page)",
                )
            )
    lines = text.split("\n")
    for index, line in enumerate(lines):
        marker = _MARKER.match(line)
        fenced = index + 1 < len(lines) and _FENCE.match(lines[index + 1])
        if marker and "/" in marker["name"] and not fenced:
            problems.append(
                Problem(
                    page,
                    index + 1,
                    f"{marker['name']}: no fenced block follows; "
                    "run `python -m neurostack.docs --sync`",
                )
            )
    return problems


def synced(page: Path, root: Path) -> str:
    """The page's text with every marked block replaced by its file's contents."""
    lines = page.read_text().split("\n")
    # from the end, so earlier line numbers stay valid
    for block in reversed(blocks(page, "\n".join(lines))):
        if block.marker is None or block.marker in NOT_CODE:
            continue
        source = _source(root, block.marker)
        if source is None:
            continue
        indent = _FENCE.match(lines[block.start])["indent"]  # type: ignore[index]
        body = [indent + line if line else line for line in source.read_text().split("\n")]
        if body and body[-1] == "":
            body.pop()
        lines[block.start + 1 : block.end] = body
    # markers with no fence yet: add one
    out: list[str] = []
    for index, line in enumerate(lines):
        out.append(line)
        marker = _MARKER.match(line)
        following = lines[index + 1] if index + 1 < len(lines) else ""
        if marker and "/" in marker["name"] and not _FENCE.match(following):
            source = _source(root, marker["name"])
            if source is not None:
                language = LANGUAGE_OF.get(source.suffix, "")
                out += ["```" + language, *source.read_text().rstrip("\n").split("\n"), "```"]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m neurostack.docs",
        description="Keep the code blocks of README.md and docs/ equal to their source files.",
    )
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--sync", action="store_true", help="rewrite the pages from the files")
    mode.add_argument("--check", action="store_true", help="exit 1 if a page is out of date")
    parser.add_argument("--root", type=Path, default=Path.cwd(), help="repository root")
    args = parser.parse_args(argv)
    root = args.root.resolve()
    if args.sync:
        for page in pages(root):
            text = synced(page, root)
            if text != page.read_text():
                page.write_text(text)
                print(f"synced {page.relative_to(root)}")
    problems = [problem for page in pages(root) for problem in check_page(page, root)]
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
