"""``neurostack compile``: a chain project's ``contracts/`` into ``contracts/artifacts/``.

Thin: :mod:`neurostack.artifacts` compiles and writes; this prints solc's messages as
``file:line:column: kind: message`` with solc's code frame, and exits 1 on any error
(nothing is written then), or with ``--check`` when the artifacts are not up to date.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from neurostack.artifacts import (
    ARTIFACTS,
    CONTRACTS,
    build_project,
    stale_artifacts,
    write_artifacts,
)
from neurostack.solidity import (
    DEFAULT_EVM_VERSION,
    EVM_VERSIONS,
    SOLC_VERSION,
    CompilationFailed,
    Diagnostic,
    SolidityError,
    ensure_compiler,
)

from .chain import fail

console = Console(highlight=False, soft_wrap=True)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)


def _shown(file: str | None, project: Path, folder: bool = False) -> str | None:
    """A project file as a path from the working folder (what a terminal can open)."""
    if file is None or not (folder or (project / file).is_file()):
        return file
    relative = os.path.relpath(project / file)
    return str(project / file) if relative.startswith("..") else relative


def _print_diagnostic(diagnostic: Diagnostic, project: Path) -> None:
    color = "red" if diagnostic.severity == "error" else "yellow"
    file = _shown(diagnostic.file, project)
    where = f"{file}:{diagnostic.line}:{diagnostic.column}: " if file else ""
    err_console.print(
        f"[bold]{escape(where)}[/][bold {color}]{escape(diagnostic.kind)}:[/] "
        f"{escape(diagnostic.message)}"
    )
    # solc's code frame: the lines after its own "--> file:line:col:" header
    frame = diagnostic.formatted.split("\n")[2:]
    err_console.print("\n".join(frame).rstrip("\n"), markup=False)


def compile_(
    project: Annotated[
        Path, typer.Option("--project", "-p", help="The chain project's folder.", file_okay=False)
    ] = Path("."),
    check: Annotated[
        bool,
        typer.Option("--check", help="Write nothing; exit 1 if contracts/artifacts/ is stale."),
    ] = False,
    evm_version: Annotated[
        str, typer.Option(help=f"EVM target ({', '.join(EVM_VERSIONS)}).")
    ] = DEFAULT_EVM_VERSION,
) -> None:
    """Compile contracts/**/*.sol into contracts/artifacts/ with the pinned solc-js."""
    project = project.resolve()
    try:
        ensure_compiler(report=lambda line: err_console.print(line, markup=False))
        build = build_project(project, evm_version=evm_version)
    except CompilationFailed as failed:
        for diagnostic in failed.diagnostics:
            _print_diagnostic(diagnostic, project)
        count = len(failed.diagnostics)
        raise fail(
            f"{count} compiler error{'s' if count != 1 else ''}; "
            f"{CONTRACTS}/{ARTIFACTS}/ was left as it was"
        ) from None
    except SolidityError as exc:
        raise fail(str(exc)) from None
    for warning in build.warnings:
        err_console.print(warning.rstrip("\n"), markup=False)
    out = _shown(f"{CONTRACTS}/{ARTIFACTS}", project, folder=True)
    if check:
        stale = stale_artifacts(project, build)
        if stale:
            raise fail(f"stale in {out}: {', '.join(stale)}; run `neurostack compile`")
        console.print(f"{out} is up to date ({len(build.files)} artifacts)")
        return
    written, removed = write_artifacts(project, build)
    console.print(
        f"Compiled {len(written)} contracts with solc {SOLC_VERSION} (EVM {evm_version}) "
        f"into {out}: {', '.join(written)}" + (f"; removed {', '.join(removed)}" if removed else "")
    )


def register(app: typer.Typer) -> None:
    """Add ``compile`` to the top-level app."""
    app.command("compile")(compile_)
