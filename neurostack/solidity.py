"""The Solidity toolchain: compiling contracts with the pinned solc-js from ``node_modules``.

This module owns the one way Neuro Stack turns Solidity into EVM bytecode: the
standard-JSON API of solc-js (``solc`` 0.8.37, pinned in ``package.json``), run by
``node`` in a subprocess with the JSON on stdin. The EVM target is always passed
explicitly because solc's default target is newer than py-evm 0.12 executes (see
DESIGN.md section 10); ``cancun`` is the default here.

Where solc-js comes from: the nearest ``node_modules`` holding the pinned version (a
clone's ``npm ci``), else the user's cache, where :mod:`neurostack.solcjs` installs it with
npm on first use (wheel installs). Node.js 18+ must be on ``PATH`` either way.

Imports in the sources are resolved, in order, from: the given sources themselves,
the folders of the files passed to :func:`compile_files`, the repository's
``contracts/`` folder, and the Solidity files shipped in ``neurostack/contracts/``.
The prefix ``neurostack/`` maps to the latter two, so a project outside this repo can
write ``import "neurostack/INeuroInference.sol";``.

It also owns the committed compiled artifacts in ``neurostack/contracts/*.json``:
``python -m neurostack.solidity --build`` regenerates them and ``--check`` verifies
they match the sources (CI runs the check as a test).

Errors (one tree, rooted in :class:`SolidityError`):

- ``SolidityError`` — anything that stops a compile.
  - ``ToolchainNotFound`` — ``node`` or the pinned ``solc`` package is missing.
  - ``CompilationFailed`` — solc reported errors; the message holds solc's own text,
    ``diagnostics`` each error's file, line, column and message.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from neurostack import solcjs

SOLC_VERSION = "0.8.37"
DEFAULT_EVM_VERSION = "cancun"
# The targets solc 0.8.37 accepts; py-evm 0.12 executes up to "prague".
EVM_VERSIONS = (
    "homestead", "tangerineWhistle", "spuriousDragon", "byzantium", "constantinople",
    "petersburg", "istanbul", "berlin", "london", "paris", "shanghai", "cancun", "prague",
    "osaka",
)  # fmt: skip
OPTIMIZER_RUNS = 200
COMPILE_TIMEOUT_S = 120.0

PACKAGE_CONTRACTS_DIR = Path(__file__).resolve().parent / "contracts"
INSTALL_HINT = "run `make install` (or `npm ci`) in the Neuro Stack repository"
log = logging.getLogger(__name__)


class SolidityError(Exception):
    """Root of this module's errors: the Solidity sources could not be compiled."""


class ToolchainNotFound(SolidityError):
    """``node`` or the pinned solc-js package is not installed."""


@dataclass(frozen=True)
class Diagnostic:
    """One message of solc: ``file:line:column: kind: message`` plus solc's code frame."""

    severity: str  # "error", "warning" or "info"
    kind: str  # solc's type: ParserError, TypeError, DeclarationError, Warning, ...
    message: str
    file: str | None  # source unit name; for a project compile its path from the project
    line: int | None  # 1-based, as solc counts
    column: int | None
    formatted: str  # solc's own rendering, with the offending line and a caret

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:{self.column}: " if self.file else ""
        return f"{where}{self.kind}: {self.message}"


_LOCATION = re.compile(r"^\s*--> (.+):(\d+):(\d+):\s*$", re.MULTILINE)


def _diagnostic(raw: dict[str, Any]) -> Diagnostic:
    formatted = raw.get("formattedMessage") or raw["message"]
    where = _LOCATION.search(formatted)
    file = where.group(1) if where else (raw.get("sourceLocation") or {}).get("file")
    return Diagnostic(
        severity=raw.get("severity", "error"),
        kind=raw.get("type", "Error"),
        message=raw["message"],
        file=file,
        line=int(where.group(2)) if where else None,
        column=int(where.group(3)) if where else None,
        formatted=formatted,
    )


class CompilationFailed(SolidityError):
    """solc rejected the sources; ``errors`` holds solc's formatted messages and
    ``diagnostics`` the same errors with their file, line and column."""

    def __init__(self, errors: list[str], diagnostics: Iterable[Diagnostic] = ()) -> None:
        self.errors = errors
        self.diagnostics = list(diagnostics)
        super().__init__("Solidity compilation failed:\n" + "\n".join(errors))


@dataclass(frozen=True)
class CompiledContract:
    """One contract out of a compile. Interfaces and abstract contracts have empty bytecode."""

    name: str
    abi: list[dict[str, Any]]
    bytecode: bytes  # creation code (constructor + runtime)
    deployed_bytecode: bytes  # runtime code as stored at the contract's address
    source: str = ""  # source unit name, e.g. "examples/ModelConsumer.sol"
    evm_version: str = DEFAULT_EVM_VERSION
    warnings: tuple[str, ...] = field(default=(), compare=False)

    def to_artifact(self) -> dict[str, Any]:
        """The JSON artifact shape committed under ``neurostack/contracts/``."""
        return {
            "contractName": self.name,
            "sourceName": self.source,
            "abi": self.abi,
            "bytecode": "0x" + self.bytecode.hex(),
            "deployedBytecode": "0x" + self.deployed_bytecode.hex(),
            "compiler": SOLC_VERSION,
            "evmVersion": self.evm_version,
        }


# Kept inline (not a .js file) so an installed wheel needs nothing but node_modules.
# argv[1]: solc package dir; argv[2]: JSON list of import roots. Reads standard JSON on
# stdin, writes {"output": <solc output>, "imports": {path: contents}} on stdout.
_NODE_SCRIPT = r"""
const fs = require('fs'), path = require('path');
const solc = require(process.argv[1]);
const roots = JSON.parse(process.argv[2]);
const imports = {};
function findImports(p) {
  const rel = p.startsWith('neurostack/') ? [p, p.slice('neurostack/'.length)] : [p];
  for (const root of roots) {
    for (const r of rel) {
      const full = path.resolve(root, r);
      if (!full.startsWith(path.resolve(root) + path.sep)) continue;  // no escaping a root
      if (fs.existsSync(full) && fs.statSync(full).isFile()) {
        const contents = fs.readFileSync(full, 'utf8');
        imports[p] = contents;
        return { contents };
      }
    }
  }
  return { error: 'File not found in ' + roots.join(', ') };
}
let input = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (c) => { input += c; });
process.stdin.on('end', () => {
  const output = JSON.parse(solc.compile(input, { import: findImports }));
  process.stdout.write(JSON.stringify({ version: solc.version(), output, imports }));
});
"""

# content hash of (sources, settings) -> (imported files with their contents, result)
_cache: dict[str, tuple[dict[str, str], dict[str, CompiledContract]]] = {}


def _solc_version(node_modules: Path) -> str | None:
    try:
        return str(json.loads((node_modules / "solc" / "package.json").read_text())["version"])
    except (OSError, ValueError, KeyError):
        return None


def find_node_modules(start: Iterable[Path] | None = None) -> Path:
    """The ``node_modules`` folder holding solc, found by walking up from cwd and this file.

    A folder with the pinned solc version wins over a nearer one with another version (a
    user's own JS project may pin a different solc); with only other versions around, the
    nearest is returned and :func:`compile_contracts` reports the mismatch.
    """
    starts = list(start) if start is not None else [Path.cwd(), Path(__file__).resolve().parent]
    found = [
        folder / "node_modules"
        for base in starts
        for folder in (base, *base.parents)
        if _solc_version(folder / "node_modules") is not None
    ]
    pinned = [nm for nm in found if _solc_version(nm) == SOLC_VERSION]
    if pinned or found:
        return (pinned or found)[0]
    raise ToolchainNotFound(
        f"solc-js {SOLC_VERSION} not found in any node_modules above "
        f"{', '.join(str(s) for s in starts)}: {INSTALL_HINT}"
    )


def find_repo_contracts_dir() -> Path | None:
    """The repository's ``contracts/`` folder (next to ``node_modules``), if there is one."""
    try:
        folder = find_node_modules().parent / "contracts"
    except ToolchainNotFound:
        return None
    return folder if folder.is_dir() else None


def ensure_compiler(report: Callable[[str], None] | None = None) -> Path:
    """The pinned solc-js package folder: a ``node_modules`` one above cwd or this file,
    else the user's cache, installed there on first use (``report`` hears about it)."""
    _node()
    try:
        node_modules = find_node_modules()
    except ToolchainNotFound:
        node_modules = None
    if node_modules is None or _solc_version(node_modules) != SOLC_VERSION:
        try:
            node_modules = solcjs.install_solc(SOLC_VERSION, report=report or log.info)
        except solcjs.SolcInstallError as exc:
            raise ToolchainNotFound(str(exc)) from None
    return node_modules / "solc"


def _solc_dir() -> Path:
    return ensure_compiler()


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        raise ToolchainNotFound(f"`node` is not on PATH. {solcjs.NODE_HINT}")
    return node


def _settings(evm_version: str, optimize: bool, via_ir: bool) -> dict[str, Any]:
    optimizer: dict[str, Any] = {"enabled": optimize or via_ir, "runs": OPTIMIZER_RUNS}
    if optimize and not via_ir:
        # The Yul optimizer of the legacy pipeline inlines the ABI decoder of ModelOutput
        # (structs nested three deep) until it is "stack too deep"; the legacy optimizer
        # alone compiles it. via_ir=True is the other way out (about 2x slower to compile).
        optimizer["details"] = {"yul": False}
    return {
        "evmVersion": evm_version,
        "viaIR": via_ir,
        "optimizer": optimizer,
        "outputSelection": {
            "*": {"*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object"]}
        },
    }


def _standard_input(sources: Mapping[str, str], settings: dict[str, Any]) -> dict[str, Any]:
    return {
        "language": "Solidity",
        "sources": {name: {"content": text} for name, text in sorted(sources.items())},
        "settings": settings,
    }


def _cache_key(stdin: str, roots: list[str]) -> str:
    return hashlib.sha256(json.dumps([stdin, roots]).encode()).hexdigest()


def _imports_unchanged(imports: dict[str, str], roots: list[str]) -> bool:
    # A cached result is reused only while every file it imported still reads the same.
    for name, contents in imports.items():
        candidates = [name, name.removeprefix("neurostack/")]
        found = next(
            (Path(r) / c for r in roots for c in candidates if (Path(r) / c).is_file()), None
        )
        if found is None or found.read_text() != contents:
            return False
    return True


def _import_roots(extra: Iterable[Path]) -> list[str]:
    roots: list[Path] = [p.resolve() for p in extra]
    repo_contracts = find_repo_contracts_dir()
    if repo_contracts is not None:
        roots.append(repo_contracts.resolve())
    roots.append(PACKAGE_CONTRACTS_DIR)
    return list(dict.fromkeys(str(r) for r in roots))


def compile_contracts(
    sources: Mapping[str, str],
    *,
    evm_version: str = DEFAULT_EVM_VERSION,
    optimize: bool = True,
    via_ir: bool = False,
    import_roots: Iterable[Path] = (),
) -> dict[str, CompiledContract]:
    """Compile Solidity ``sources`` (source unit name -> text); return contracts by name.

    Every contract, interface and library of the sources and of the files they import
    is returned. ``optimize`` runs solc's optimizer (without its Yul step, see
    ``_settings``); ``via_ir`` compiles through the IR pipeline instead. Raises
    :class:`CompilationFailed` with solc's messages on errors, and
    :class:`SolidityError` when two contracts share a name.
    """
    if evm_version not in EVM_VERSIONS:
        raise SolidityError(
            f"unknown evmVersion {evm_version!r}: choose one of {', '.join(EVM_VERSIONS)} "
            f"(py-evm 0.12 runs up to 'prague')"
        )
    if not sources:
        raise SolidityError("no Solidity sources given: pass at least one {name: source}")
    roots = _import_roots(import_roots)
    settings = _settings(evm_version, optimize, via_ir)
    stdin = json.dumps(_standard_input(sources, settings), sort_keys=True)
    key = _cache_key(stdin, roots)
    hit = _cache.get(key)
    if hit is not None and _imports_unchanged(hit[0], roots):
        return dict(hit[1])

    solc_dir = _solc_dir()
    proc = subprocess.run(
        [_node(), "-e", _NODE_SCRIPT, str(solc_dir), json.dumps(roots)],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=COMPILE_TIMEOUT_S,
        check=False,
    )
    if proc.returncode != 0:
        raise SolidityError(
            f"solc-js crashed (exit {proc.returncode}): {proc.stderr.strip()[-2000:]}"
        )
    reply = json.loads(proc.stdout)
    contracts = _parse_output(reply["output"], evm_version)
    _cache[key] = (reply["imports"], contracts)
    return dict(contracts)


def _parse_output(output: dict[str, Any], evm_version: str) -> dict[str, CompiledContract]:
    diagnostics = output.get("errors", [])
    failed = [_diagnostic(d) for d in diagnostics if d["severity"] == "error"]
    if failed:
        raise CompilationFailed([d.formatted for d in failed], failed)
    warnings = tuple(d.get("formattedMessage") or d["message"] for d in diagnostics)
    result: dict[str, CompiledContract] = {}
    for source, by_name in sorted(output.get("contracts", {}).items()):
        for name, data in sorted(by_name.items()):
            if name in result:
                raise SolidityError(
                    f"contract name {name!r} is defined in both {result[name].source!r} and "
                    f"{source!r}: rename one, the results are keyed by contract name"
                )
            evm = data.get("evm", {})
            result[name] = CompiledContract(
                name=name,
                abi=data.get("abi", []),
                bytecode=bytes.fromhex(evm.get("bytecode", {}).get("object", "")),
                deployed_bytecode=bytes.fromhex(evm.get("deployedBytecode", {}).get("object", "")),
                source=source,
                evm_version=evm_version,
                warnings=warnings,
            )
    return result


def compile_files(
    paths: Iterable[str | Path],
    *,
    evm_version: str = DEFAULT_EVM_VERSION,
    optimize: bool = True,
    via_ir: bool = False,
) -> dict[str, CompiledContract]:
    """Compile Solidity files; imports resolve from their folders and ``contracts/``.

    A file inside the repository's ``contracts/`` folder gets its path relative to that
    folder as source unit name (``examples/ModelConsumer.sol``); any other file its bare
    file name.
    """
    files = [Path(p).resolve() for p in paths]
    missing = [str(p) for p in files if not p.is_file()]
    if missing:
        raise SolidityError(f"Solidity file(s) not found: {', '.join(missing)}")
    repo_contracts = find_repo_contracts_dir()
    sources: dict[str, str] = {}
    for path in files:
        if repo_contracts is not None and path.is_relative_to(repo_contracts.resolve()):
            name = path.relative_to(repo_contracts.resolve()).as_posix()
        else:
            name = path.name
        sources[name] = path.read_text()
    return compile_contracts(
        sources,
        evm_version=evm_version,
        optimize=optimize,
        via_ir=via_ir,
        import_roots=list(dict.fromkeys(p.parent for p in files)),
    )


def load_artifact(name: str, directory: Path = PACKAGE_CONTRACTS_DIR) -> CompiledContract:
    """A compiled artifact ``<directory>/<name>.json`` (no compiler needed): by default one
    committed in ``neurostack/contracts/``; a project's are in ``contracts/artifacts/``."""
    path = directory / f"{name}.json"
    if not path.is_file():
        known = sorted(p.stem for p in directory.glob("*.json"))
        raise SolidityError(f"no compiled artifact {name!r}; available: {', '.join(known)}")
    data = json.loads(path.read_text())
    return CompiledContract(
        name=data["contractName"],
        abi=data["abi"],
        bytecode=bytes.fromhex(data["bytecode"].removeprefix("0x")),
        deployed_bytecode=bytes.fromhex(data["deployedBytecode"].removeprefix("0x")),
        source=data["sourceName"],
        evm_version=data["evmVersion"],
    )


# --- committed artifacts -------------------------------------------------------------

# Source files (relative to contracts/) whose contracts are shipped as artifacts, and
# the Solidity files copied into the package so projects outside the repo can import them.
ARTIFACT_SOURCES = (
    "INeuroInference.sol",
    "INeuroRegistry.sol",
    "NeuroTensors.sol",
    "examples/ModelConsumer.sol",
    "examples/ChainedModels.sol",
    "examples/SimpleStorage.sol",
    "examples/Counter.sol",
)
SHIPPED_SOURCES = ("INeuroInference.sol", "INeuroRegistry.sol", "NeuroTensors.sol")


def build_artifacts() -> dict[str, str]:
    """Compile ``ARTIFACT_SOURCES``; return {file name in neurostack/contracts: contents}."""
    contracts_dir = find_repo_contracts_dir()
    if contracts_dir is None:
        raise SolidityError("the repository's contracts/ folder is needed to build artifacts")
    compiled = compile_files([contracts_dir / s for s in ARTIFACT_SOURCES])
    files = {
        f"{c.name}.json": json.dumps(c.to_artifact(), indent=2, sort_keys=True) + "\n"
        for c in compiled.values()
    }
    for name in SHIPPED_SOURCES:
        files[name] = (contracts_dir / name).read_text()
    return files


def stale_artifacts(files: Mapping[str, str], directory: Path = PACKAGE_CONTRACTS_DIR) -> list[str]:
    """Names of ``files`` (from :func:`build_artifacts`) that ``directory`` lacks or differs in."""
    return sorted(
        name
        for name, text in files.items()
        if not (directory / name).is_file() or (directory / name).read_text() != text
    )


def _main(argv: list[str] | None = None, directory: Path = PACKAGE_CONTRACTS_DIR) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m neurostack.solidity", description="Build or check the compiled artifacts."
    )
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--build", action="store_true", help="write neurostack/contracts/*")
    group.add_argument("--check", action="store_true", help="fail if the artifacts are stale")
    args = parser.parse_args(argv)
    try:
        files = build_artifacts()
    except SolidityError as exc:
        print(exc, file=sys.stderr)
        return 2
    if args.build:
        directory.mkdir(exist_ok=True)
        for old in directory.glob("*.json"):
            if old.name not in files:
                old.unlink()
        for name, text in files.items():
            (directory / name).write_text(text)
        print(f"wrote {len(files)} files to {directory}")
        return 0
    stale = stale_artifacts(files, directory)
    if stale:
        print(f"stale artifacts: {', '.join(stale)}; run `python -m neurostack.solidity --build`")
        return 1
    print("artifacts are up to date")
    return 0


if __name__ == "__main__":
    raise SystemExit(_main())
