"""neurostack.solidity: compiling through solc-js, its errors, its settings and its cache."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from neurostack import solidity
from neurostack.solidity import (
    CompilationFailed,
    SolidityError,
    ToolchainNotFound,
    compile_contracts,
    compile_files,
)

HEADER = "// SPDX-License-Identifier: MIT\npragma solidity ^0.8.20;\n"

# Transient storage (EIP-1153) exists from cancun on: a target-sensitive contract.
TRANSIENT = (
    HEADER
    + """
contract Lock {
    function enter() external returns (uint256 v) {
        assembly { tstore(0, 1) v := tload(0) }
    }
}
"""
)


def test_compile_returns_abi_and_both_bytecodes() -> None:
    src = HEADER + "contract Box { uint256 public x; function set(uint256 v) external { x = v; } }"
    box = compile_contracts({"Box.sol": src})["Box"]
    assert {e["name"] for e in box.abi if e["type"] == "function"} == {"x", "set"}
    assert box.bytecode and box.deployed_bytecode
    # creation code returns the runtime code, which it therefore contains
    assert box.deployed_bytecode in box.bytecode
    assert box.source == "Box.sol" and box.evm_version == "cancun"


def test_invalid_source_reports_solc_message_with_location() -> None:
    with pytest.raises(CompilationFailed) as info:
        compile_contracts({"Broken.sol": HEADER + "contract Broken { function f( }"})
    message = str(info.value)
    assert "ParserError" in message
    assert "Broken.sol:3:" in message  # file and line, as solc formats it
    assert info.value.errors and all("ParserError" in e for e in info.value.errors)


def test_invalid_type_error_is_reported() -> None:
    src = HEADER + "contract T { function f() external pure returns (uint8) { return 300; } }"
    with pytest.raises(CompilationFailed, match="TypeError"):
        compile_contracts({"T.sol": src})


@pytest.mark.slow  # two solc-js runs
def test_evm_version_is_honoured() -> None:
    lock = compile_contracts({"Lock.sol": TRANSIENT}, evm_version="cancun")["Lock"]
    assert lock.evm_version == "cancun"
    with pytest.raises(CompilationFailed, match="tstore"):
        compile_contracts({"Lock.sol": TRANSIENT}, evm_version="shanghai")


@pytest.mark.slow  # two solc-js runs
def test_paris_target_avoids_push0() -> None:
    # PUSH0 (0x5f) arrived with shanghai; the creation prologue shows which target ran.
    src = HEADER + "contract P { uint256 public x; }"
    paris = compile_contracts({"P.sol": src}, evm_version="paris")["P"].bytecode
    cancun = compile_contracts({"P.sol": src}, evm_version="cancun")["P"].bytecode
    assert paris != cancun
    assert cancun.startswith(
        bytes.fromhex("6080604052348015600e575f5ffd")
    )  # ... PUSH0 PUSH0 REVERT
    assert not paris.startswith(bytes.fromhex("6080604052348015600e575f"))


def test_invalid_evm_version_is_rejected_before_compiling() -> None:
    with pytest.raises(SolidityError, match="unknown evmVersion 'berlinn'.*prague"):
        compile_contracts({"P.sol": HEADER + "contract P {}"}, evm_version="berlinn")


def test_invalid_no_sources() -> None:
    with pytest.raises(SolidityError, match="no Solidity sources"):
        compile_contracts({})


def test_invalid_missing_import_names_the_file() -> None:
    src = HEADER + 'import "./Nowhere.sol";\ncontract A {}'
    with pytest.raises(CompilationFailed, match="Nowhere.sol"):
        compile_contracts({"A.sol": src})


def test_invalid_duplicate_contract_names() -> None:
    sources = {"a/One.sol": HEADER + "contract Same {}", "b/Two.sol": HEADER + "contract Same {}"}
    with pytest.raises(SolidityError, match="'Same' is defined in both"):
        compile_contracts(sources)


def test_imports_resolve_with_the_neurostack_prefix() -> None:
    # How a project outside this repository imports the shipped interface (the plain
    # `import "INeuroInference.sol"` form is exercised by test_interface.py).
    src = HEADER + (
        'import "neurostack/INeuroInference.sol";\n'
        "contract C { address public a = NEURO_INFERENCE_ADDRESS; }"
    )
    compiled = compile_contracts({"C.sol": src})
    assert {"C", "INeuroInference"} == set(compiled)
    assert compiled["INeuroInference"].source == "neurostack/INeuroInference.sol"


def test_compile_files_resolves_relative_imports_next_to_the_file(tmp_path: Path) -> None:
    (tmp_path / "Base.sol").write_text(
        HEADER + "contract Base { function one() external pure returns (uint256) { return 1; } }"
    )
    (tmp_path / "Child.sol").write_text(HEADER + 'import "./Base.sol";\ncontract Child is Base {}')
    compiled = compile_files([tmp_path / "Child.sol"])
    assert {"Base", "Child"} == set(compiled)
    assert compiled["Child"].source == "Child.sol"


def test_invalid_compile_files_missing_file(tmp_path: Path) -> None:
    with pytest.raises(SolidityError, match="not found"):
        compile_files([tmp_path / "Missing.sol"])


def test_cache_answers_without_running_node(monkeypatch: pytest.MonkeyPatch) -> None:
    src = {"Cached.sol": HEADER + "contract Cached { uint256 public n = 42; }"}
    first = compile_contracts(src)

    def no_subprocess(*args: object, **kwargs: object) -> None:
        raise AssertionError("the cache should have answered")

    monkeypatch.setattr(subprocess, "run", no_subprocess)
    assert compile_contracts(src) == first
    with pytest.raises(AssertionError, match="cache"):
        compile_contracts(src, optimize=False)  # other settings: a different key


@pytest.mark.slow  # two solc-js runs
def test_cache_is_invalidated_when_an_imported_file_changes(tmp_path: Path) -> None:
    lib = tmp_path / "Lib.sol"
    main = tmp_path / "Main.sol"
    main.write_text(
        HEADER
        + 'import "./Lib.sol";\ncontract Main { function v() external pure returns (uint256) { return Lib.value(); } }'
    )
    lib.write_text(
        HEADER + "library Lib { function value() internal pure returns (uint256) { return 1; } }"
    )
    before = compile_files([main])["Main"].deployed_bytecode
    lib.write_text(
        HEADER + "library Lib { function value() internal pure returns (uint256) { return 2; } }"
    )
    after = compile_files([main])["Main"].deployed_bytecode
    assert before != after


def _no_node_modules(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, version: str | None) -> None:
    """As on a wheel install: no node_modules with the pinned solc above cwd or the package
    (``version``: a nearby user project's own solc), and an empty cache in ``tmp_path``."""
    if version is None:
        find = solidity.find_node_modules
        monkeypatch.setattr(solidity, "find_node_modules", lambda start=None: find([tmp_path]))
    else:
        other = tmp_path / "project" / "node_modules"
        (other / "solc").mkdir(parents=True)
        (other / "solc" / "package.json").write_text(f'{{"version": "{version}"}}')
        monkeypatch.setattr(solidity, "find_node_modules", lambda start=None: other)
    monkeypatch.setenv("NEUROSTACK_CACHE_DIR", str(tmp_path / "cache"))


@pytest.mark.slow
@pytest.mark.parametrize("nearby", [None, "0.8.19"])
def test_without_the_pinned_solc_nearby_it_is_installed_into_the_cache_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, nearby: str | None
) -> None:
    _no_node_modules(monkeypatch, tmp_path, nearby)
    heard: list[str] = []

    first = solidity.ensure_compiler(report=heard.append)
    box = compile_contracts({"Cached.sol": HEADER + "contract Cached { uint256 public c = 5; }"})

    assert first == tmp_path / "cache" / "solc-0.8.37" / "node_modules" / "solc"
    assert "Installing solc-js 0.8.37" in heard[0]
    assert box["Cached"].deployed_bytecode
    assert solidity.ensure_compiler(report=heard.append) == first
    assert len(heard) == 1  # the second compile reuses the cached copy
    assert [p.name for p in (tmp_path / "cache").iterdir()] == ["solc-0.8.37"]  # no leftovers


def test_invalid_missing_node_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _no_node_modules(monkeypatch, tmp_path, None)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))  # neither node nor npm
    with pytest.raises(ToolchainNotFound, match="`node` is not on PATH.*Node.js 18"):
        compile_contracts(
            {"Fresh2.sol": HEADER + "contract Fresh2 { uint256 public uncached = 8; }"}
        )


def test_invalid_failing_npm_install_is_reported_and_leaves_no_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _no_node_modules(monkeypatch, tmp_path, None)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    npm = bin_dir / "npm"
    npm.write_text("#!/bin/sh\necho 'npm error 404 Not Found - solc' >&2\nexit 1\n")
    npm.chmod(0o755)
    (bin_dir / "node").symlink_to(solidity.shutil.which("node") or "/usr/bin/node")
    monkeypatch.setenv("PATH", str(bin_dir))

    with pytest.raises(ToolchainNotFound, match="npm could not install solc-js 0.8.37.*404"):
        compile_contracts(
            {"Fresh3.sol": HEADER + "contract Fresh3 { uint256 public uncached = 9; }"}
        )
    assert list((tmp_path / "cache").iterdir()) == []


def test_compile_errors_carry_file_line_and_column() -> None:
    src = HEADER + "contract E {\n    function f() external { uint256 x = 1 }\n}\n"
    with pytest.raises(CompilationFailed) as info:
        compile_contracts({"dir/E.sol": src})
    (diagnostic,) = info.value.diagnostics
    column = src.splitlines()[3].index("}") + 1  # 1-based, where the ';' is missing
    assert (diagnostic.file, diagnostic.line, diagnostic.column) == ("dir/E.sol", 4, column)
    assert str(diagnostic) == f"dir/E.sol:4:{column}: ParserError: Expected ';' but got '}}'"


def test_via_ir_output_runs_on_py_evm() -> None:
    from tests.contracts.devchain import DevChain

    src = HEADER + "contract V { uint256 public x; function set(uint256 v) external { x = v; } }"
    v = DevChain().deploy(compile_contracts({"V.sol": src}, via_ir=True)["V"])
    assert v.transact("set", 5).success
    assert v.call("x") == 5


def test_pinned_solc_wins_over_a_nearer_other_version(tmp_path: Path) -> None:
    # A user's JS project with its own solc must not shadow Neuro Stack's pinned one.
    other = tmp_path / "project" / "node_modules" / "solc"
    other.mkdir(parents=True)
    (other / "package.json").write_text('{"version": "0.8.19"}')
    repo = solidity.find_node_modules([Path(solidity.__file__).parent])
    found = solidity.find_node_modules([tmp_path / "project", Path(solidity.__file__).parent])
    assert found == repo
    assert solidity.find_node_modules([tmp_path / "project"]) == other.parent
