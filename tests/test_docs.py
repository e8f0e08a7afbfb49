"""Docs that run (docs/quality.md, "Code in the docs"): every fenced block of README.md and
docs/ is a file under docs_src/ (or elsewhere in the repository) that the page includes
verbatim, and each file is run or checked here or by the test named in RUN_ELSEWHERE."""

from __future__ import annotations

import importlib.util
import json
import re
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
from typer.main import get_command
from typer.testing import CliRunner

from neurostack.cli.main import app
from neurostack.docs import blocks, check_page, pages, synced
from neurostack.solidity import compile_files

REPO = Path(__file__).resolve().parents[1]
PAGES = pages(REPO)
SOURCES = sorted(
    {
        REPO / b.marker
        for page in PAGES
        for b in blocks(page)
        if b.marker and "/" in b.marker and (REPO / b.marker).is_file()
    }
)

# Python programs that need a running service: the test that runs them (it must name the
# file). Every other Python file under docs_src/ runs here, from the repository root.
RUN_ELSEWHERE = {
    "docs_src/bridge/submit.py": "tests/bridge/test_docs.py",
    "docs_src/chain/verify_block.py": "tests/sequencer/test_docs.py",
    "docs_src/demo/verify_proof.py": "tests/e2e/test_inference.py",
    "docs_src/hub_client/quickstart.py": "tests/hub_client/test_docs.py",
    "docs_src/hub_client/async_infer.py": "tests/hub_client/test_docs.py",
    "docs_src/hub_client/toolkit.py": "tests/e2e/test_inference.py",
    "docs_src/hub_client/zk_infer.py": "tests/hub_client/test_docs.py",
    "docs_src/pipe/wiring.py": "tests/sequencer/pipe/test_docs.py",
    "docs_src/rpc/web3_node.py": "tests/sequencer/rpc/test_docs.py",
    "docs_src/witness/check_by_hand.py": "tests/e2e/test_light_client.py",
    "docs_src/witness/sdk_verify.py": "tests/e2e/test_light_client.py",
}
# Commands in shell snippets that are not Neuro Stack's: accepted as written.
KNOWN_TOOLS = {
    "cd", "pytest", "echo", "cat", "curl", "cast", "npm", "npx", "node", "git", "pip",
    "duplicates", "ruff", "mypy", "lint-imports", "export", "source",
}  # fmt: skip


def _name(path: Path) -> str:
    return path.relative_to(REPO).as_posix()


def _ids(paths: list[Path]) -> list[str]:
    return [_name(p) for p in paths]


@pytest.mark.parametrize("page", PAGES, ids=_ids(PAGES))
def test_page_blocks_are_their_source_files(page: Path) -> None:
    problems = check_page(page, REPO)
    assert not problems, "\n".join(map(str, problems))


def test_invalid_pages_are_reported_and_sync_repairs_them(tmp_path: Path) -> None:
    (tmp_path / "docs_src").mkdir()
    (tmp_path / "docs_src" / "hello.py").write_text('print("hello")\n')
    page = tmp_path / "page.md"
    page.write_text(
        "# A page\n\n<!-- docs_src/hello.py -->\n```python\nprint('stale')\n```\n\n"
        "```python\nprint('no file')\n```\n\n<!-- output -->\n```\n42\n```\n\n"
        "<!-- output -->\n```python\nhidden = 'code'\n```\n\n<!-- docs_src/nowhere.py -->\n"
        "```python\n```\n\n<!-- docs_src/hello.py -->\n"
    )
    messages = [str(p) for p in check_page(page, tmp_path)]
    assert len(messages) == 5, messages
    assert "page.md:4: differs from docs_src/hello.py" in messages[0]
    assert "page.md:8: fenced block without a source file" in messages[1]
    assert "page.md:18: <!-- output --> marks a python block" in messages[2]
    assert "page.md:23: docs_src/nowhere.py: no such file" in messages[3]
    assert "page.md:26: docs_src/hello.py: no fenced block follows" in messages[4]

    page.write_text(synced(page, tmp_path))
    text = page.read_text()
    assert text.count('print("hello")') == 2 and "stale" not in text
    assert [str(p) for p in check_page(page, tmp_path)] == messages[1:4]


def test_examples_pages_are_checked_only_when_they_opt_in(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("# r\n")
    for name, text in (("in.md", "<!-- docs: checked -->\n"), ("out.md", "# mine\n")):
        (tmp_path / "examples" / "01").mkdir(parents=True, exist_ok=True)
        (tmp_path / "examples" / "01" / name).write_text(text)
    assert [p.name for p in pages(tmp_path)] == ["README.md", "in.md"]


def _python_programs() -> list[Path]:
    return [p for p in SOURCES if p.suffix == ".py" and _name(p).startswith("docs_src/")]


@pytest.mark.slow
@pytest.mark.parametrize(
    "program",
    [p for p in _python_programs() if _name(p) not in RUN_ELSEWHERE],
    ids=_ids([p for p in _python_programs() if _name(p) not in RUN_ELSEWHERE]),
)
def test_python_snippet_runs(program: Path) -> None:
    proc = subprocess.run(
        [sys.executable, program], cwd=REPO, capture_output=True, text=True, timeout=180,
        check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]


def test_programs_that_need_a_service_are_run_by_the_test_named() -> None:
    for program, test in RUN_ELSEWHERE.items():
        assert (REPO / program).is_file(), f"{program} is gone: drop it from RUN_ELSEWHERE"
        text = (REPO / test).read_text()
        parts = Path(program).parts  # the test may build the path from its parts
        assert program in text or all(f'"{part}"' in text for part in parts[1:]), (
            f"{test} does not run {program}"
        )


# -- shell snippets -------------------------------------------------------------------


def _commands(path: Path) -> list[list[str]]:
    """The commands of a .sh file, or the `$ ` lines of a .console transcript."""
    text = path.read_text()
    if path.suffix == ".console":
        text = "\n".join(line[2:] for line in text.splitlines() if line.startswith("$ "))
    text = text.replace("\\\n", " ")
    commands: list[list[str]] = []
    for line in text.splitlines():
        lexer = shlex.shlex(line, posix=True, punctuation_chars=";&|")
        lexer.whitespace_split = True
        lexer.commenters = "#"
        current: list[str] = []
        for token in lexer:
            if token and set(token) <= set(";&|"):
                commands.append(current)
                current = []
            else:
                current.append(token)
        commands.append(current)
    return [c for c in commands if c]


def _options(tokens: list[str]) -> list[str]:
    cleaned = (t.strip("[]") for t in tokens)
    return [t.split("=")[0] for t in cleaned if t.startswith("-") and t != "-"]


def _check_neurostack(tokens: list[str]) -> list[str]:
    command: Any = get_command(app)  # a group has .commands (typer vendors its own click)
    path: list[str] = []
    for token in tokens[1:]:
        subcommands = getattr(command, "commands", None)
        if subcommands is not None and token in subcommands:
            command = subcommands[token]
            path.append(token)
        elif subcommands is not None and not token.startswith(("-", "[")):
            return [f"`neurostack {' '.join(path)}` has no command {token!r}"]
        else:
            break
    result = CliRunner().invoke(app, [*path, "--help"])
    if result.exit_code != 0:
        return [f"`neurostack {' '.join(path)} --help` exited {result.exit_code}"]
    known = {"--help"} | {o for p in command.params for o in (*p.opts, *p.secondary_opts)}
    return [
        f"`neurostack {' '.join(path)}` has no option {option}"
        for option in _options(tokens)
        if option not in known
    ]


def _check_python_module(tokens: list[str]) -> list[str]:
    if "-m" not in tokens:
        return [f"{' '.join(tokens)}: only `python -m <module>` lines are checked"]
    module = tokens[tokens.index("-m") + 1]
    if importlib.util.find_spec(module) is None:
        return [f"no module {module}"]
    shown = subprocess.run(
        [sys.executable, "-m", module, "--help"], cwd=REPO, capture_output=True, text=True,
        timeout=60, check=False,
    ).stdout  # fmt: skip
    return [f"`python -m {module}` has no option {o}" for o in _options(tokens) if o not in shown]


def _problems(path: Path) -> list[str]:
    targets = set(re.findall(r"^([\w.-]+):", (REPO / "Makefile").read_text(), re.MULTILINE))
    problems: list[str] = []
    for tokens in _commands(path):
        while tokens and re.match(r"^[A-Z_]+=", tokens[0]):  # VAR=value command ...
            tokens = tokens[1:]
        program = Path(tokens[0]).name if tokens else ""
        if program == "neurostack":
            problems += _check_neurostack(tokens)
        elif program == "make":
            problems += [
                f"no make target {t!r}"
                for t in tokens[1:]
                if t not in targets and not re.match(r"^[A-Z_]+=", t)  # make VAR=value
            ]
        elif program in ("python", "python3"):
            problems += _check_python_module(tokens)
        elif program not in KNOWN_TOOLS:
            problems.append(f"unknown command {program!r}: add it to KNOWN_TOOLS if it is real")
    return problems


SHELL = [p for p in SOURCES if p.suffix in (".sh", ".console")]


@pytest.mark.parametrize("snippet", SHELL, ids=_ids(SHELL))
def test_shell_snippet_names_real_commands_and_options(snippet: Path) -> None:
    problems = _problems(snippet)
    assert not problems, "\n".join(problems)


def test_invalid_shell_snippets_are_caught(tmp_path: Path) -> None:
    snippet = tmp_path / "bad.sh"
    snippet.write_text(
        "neurostack up --no-such-flag   # a typo\nneurostack launch\nmake nowhere\n"
        "python -m neurostack.docs --frobnicate\nfrobnicate --now\n"
        "neurostack model upload m.onnx --name x && neurostack up [--reset]\n"
    )
    problems = _problems(snippet)
    assert problems == [
        "`neurostack up` has no option --no-such-flag",
        "`neurostack ` has no command 'launch'",
        "no make target 'nowhere'",
        "`python -m neurostack.docs` has no option --frobnicate",
        "unknown command 'frobnicate': add it to KNOWN_TOOLS if it is real",
    ]


# -- Solidity, TOML, JSON ---------------------------------------------------------------

SOLIDITY = [p for p in SOURCES if p.suffix == ".sol"]


@pytest.mark.parametrize("source", SOLIDITY, ids=_ids(SOLIDITY))
def test_solidity_snippet_compiles(source: Path) -> None:
    assert compile_files([source])


DATA = [p for p in SOURCES if p.suffix in (".toml", ".json")]


@pytest.mark.parametrize("source", DATA, ids=_ids(DATA))
def test_data_snippet_parses(source: Path) -> None:
    text = source.read_text()
    assert tomllib.loads(text) if source.suffix == ".toml" else json.loads(text) is not None


def test_every_docs_src_file_is_shown_on_a_page() -> None:
    unused = [
        _name(p)
        for p in sorted((REPO / "docs_src").rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts and p not in SOURCES
    ]
    assert not unused, f"files no page includes: {unused}"
