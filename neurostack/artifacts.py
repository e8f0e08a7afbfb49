"""A chain project's contracts: ``contracts/**/*.sol`` compiled into ``contracts/artifacts/``.

``neurostack compile`` runs :func:`build_project` and :func:`write_artifacts`. Every
``.sol`` file under ``contracts/`` (except ``contracts/artifacts/``) is one source unit
named by its path from the project folder (``contracts/Predictor.sol``), as Hardhat names
them, so solc's messages point at files the user can open. Imports resolve from the
project folder (``import "./Lib.sol"`` next to the importing file) and from Neuro Stack's
Solidity library (``import "neurostack/NeuroTensors.sol"``, also ``INeuroInference.sol``
and ``INeuroRegistry.sol``), see :mod:`neurostack.solidity`.

Each contract, library and interface defined in the project's files gets
``contracts/artifacts/<Name>.json`` (``abi``, ``bytecode``, ``deployedBytecode``,
``contractName``, ``sourceName``, ``compiler``, ``evmVersion``). The folder belongs to
the compiler: an artifact whose contract is gone is removed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from neurostack.solidity import (
    DEFAULT_EVM_VERSION,
    CompiledContract,
    SolidityError,
    compile_contracts,
)

CONTRACTS = "contracts"
ARTIFACTS = "artifacts"


@dataclass(frozen=True)
class ProjectBuild:
    """The result of compiling a project: artifact files by name, and solc's warnings."""

    contracts: dict[str, CompiledContract]
    files: dict[str, str]  # "<Name>.json" -> its text
    warnings: tuple[str, ...]


def artifacts_dir(project: Path) -> Path:
    return project / CONTRACTS / ARTIFACTS


def project_sources(project: Path) -> dict[str, str]:
    """``{"contracts/X.sol": text}`` for every Solidity file of the project."""
    root = project / CONTRACTS
    if not root.is_dir():
        raise SolidityError(
            f"no {CONTRACTS}/ folder in {project}: run this in a chain project "
            "(made by `neurostack new`) or pass --project"
        )
    out = artifacts_dir(project)
    files = sorted(p for p in root.rglob("*.sol") if not p.is_relative_to(out))
    if not files:
        raise SolidityError(f"no .sol files under {root}")
    return {p.relative_to(project).as_posix(): p.read_text() for p in files}


def artifact_text(contract: CompiledContract) -> str:
    """The file written for one contract (stable: sorted keys, trailing newline)."""
    return json.dumps(contract.to_artifact(), indent=2, sort_keys=True) + "\n"


def build_project(project: Path, *, evm_version: str = DEFAULT_EVM_VERSION) -> ProjectBuild:
    """Compile the project's contracts; raises ``CompilationFailed`` with solc's messages."""
    project = project.resolve()
    sources = project_sources(project)
    compiled = compile_contracts(sources, evm_version=evm_version, import_roots=[project])
    own = {name: c for name, c in compiled.items() if c.source in sources}
    warnings = next((c.warnings for c in compiled.values()), ())
    return ProjectBuild(
        contracts=own,
        files={f"{name}.json": artifact_text(c) for name, c in own.items()},
        warnings=warnings,
    )


def stale_artifacts(project: Path, build: ProjectBuild) -> list[str]:
    """Artifact files that are missing, differ from ``build``, or belong to no contract."""
    out = artifacts_dir(project)
    present = {p.name for p in out.glob("*.json")} if out.is_dir() else set()
    differing = {
        name
        for name, text in build.files.items()
        if not (out / name).is_file() or (out / name).read_text() != text
    }
    return sorted(differing | (present - set(build.files)))


def write_artifacts(project: Path, build: ProjectBuild) -> tuple[list[str], list[str]]:
    """Write ``build`` into ``contracts/artifacts/``; return (written, removed) file names."""
    out = artifacts_dir(project)
    out.mkdir(parents=True, exist_ok=True)
    removed = sorted(p.name for p in out.glob("*.json") if p.name not in build.files)
    for name in removed:
        (out / name).unlink()
    for name, text in sorted(build.files.items()):
        (out / name).write_text(text)
    return sorted(build.files), removed
