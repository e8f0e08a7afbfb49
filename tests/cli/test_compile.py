"""`neurostack compile`: a chain project's contracts/ into contracts/artifacts/."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from neurostack.artifacts import build_project, stale_artifacts
from neurostack.cli.main import app
from neurostack.devnet.project import create_project
from neurostack.solidity import load_artifact
from tests.contracts.devchain import DevChain

runner = CliRunner()

# Uses all three files of the Solidity library and a file next to it.
SCORER = """// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import "neurostack/NeuroTensors.sol";
import "neurostack/INeuroInference.sol";
import "neurostack/INeuroRegistry.sol";
import "./Weights.sol";

contract Scorer {
    address public constant REGISTRY = NEURO_REGISTRY_ADDRESS;

    function score(int256 x) external pure returns (int256) {
        return Weights.affine(x);
    }

    function modeOf() external pure returns (uint8) {
        return uint8(ModelInferenceMode.TEE);
    }
}
"""
WEIGHTS = """// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

library Weights {
    function affine(int256 x) internal pure returns (int256) {
        return 3 * x + 1;
    }
}
"""


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return create_project("cchain", tmp_path_factory.mktemp("compile"))


@pytest.fixture
def project(rendered: Path, tmp_path: Path) -> Path:
    """A fresh copy of a new project for each test (rendering one takes seconds)."""
    return Path(shutil.copytree(rendered, tmp_path / "cchain"))


def compile_in(project: Path, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["compile", "--project", str(project), *args])
    return result.exit_code, result.output


def test_new_projects_artifacts_are_what_compile_makes(project: Path) -> None:
    assert stale_artifacts(project, build_project(project)) == []
    code, output = compile_in(project, "--check")
    assert code == 0, output
    assert "up to date (2 artifacts)" in output


def test_compile_writes_an_artifact_per_project_contract_that_runs(project: Path) -> None:
    (project / "contracts" / "lib").mkdir()
    (project / "contracts" / "lib" / "Scorer.sol").write_text(SCORER)
    (project / "contracts" / "lib" / "Weights.sol").write_text(WEIGHTS)

    code, output = compile_in(project)

    assert code == 0, output
    artifacts = project / "contracts" / "artifacts"
    # the project's own contracts only, not Neuro Stack's library it imports
    assert sorted(p.name for p in artifacts.iterdir()) == [
        "Predictor.json", "Scorer.json", "Storage.json", "Weights.json",
    ]  # fmt: skip
    assert "Scorer.json" in output and "solc 0.8.37" in output
    artifact = json.loads((artifacts / "Scorer.json").read_text())
    assert artifact["sourceName"] == "contracts/lib/Scorer.sol"
    assert (artifact["compiler"], artifact["evmVersion"]) == ("0.8.37", "cancun")
    scorer = DevChain().deploy(load_artifact("Scorer", artifacts))
    assert scorer.call("score", 5) == 16
    assert scorer.call("modeOf") == 2
    assert scorer.call("REGISTRY").lower() == "0x4e53000000000000000000000000000000000001"


def test_check_finds_stale_and_orphaned_artifacts_and_compile_fixes_them(project: Path) -> None:
    storage = project / "contracts" / "Storage.sol"
    added = "uint256 public value;\n    uint256 public v2;"
    storage.write_text(storage.read_text().replace("uint256 public value;", added))
    (project / "contracts" / "artifacts" / "Gone.json").write_text("{}")

    code, output = compile_in(project, "--check")
    assert code == 1
    assert "Gone.json, Storage.json" in output and "neurostack compile" in output

    code, output = compile_in(project)
    assert code == 0, output
    assert "removed Gone.json" in output
    assert compile_in(project, "--check")[0] == 0
    abi = json.loads((project / "contracts" / "artifacts" / "Storage.json").read_text())["abi"]
    assert "v2" in {entry.get("name") for entry in abi}


@pytest.mark.slow
@pytest.mark.parametrize(
    ("source", "line", "complaint"),
    [
        ("contract Broken {\n    uint256 x = 1\n}\n", 5, "Expected ';'"),
        ("contract Broken {\n    function f() external { y = 2; }\n}\n", 4, "Undeclared"),
        ('import "neurostack/Missing.sol";\ncontract Broken {}\n', 3, "not found"),
    ],
)
def test_invalid_solidity_fails_with_file_line_and_writes_nothing(
    project: Path, source: str, line: int, complaint: str
) -> None:
    header = "// SPDX-License-Identifier: MIT\npragma solidity ^0.8.24;\n"
    (project / "contracts" / "Broken.sol").write_text(header + source)
    before = {p.name: p.read_text() for p in (project / "contracts" / "artifacts").iterdir()}

    code, output = compile_in(project)

    assert code == 1
    assert f"Broken.sol:{line}:" in output and complaint in output
    assert "Traceback" not in output
    assert "1 compiler error" in output
    after = {p.name: p.read_text() for p in (project / "contracts" / "artifacts").iterdir()}
    assert after == before


def test_invalid_folder_without_contracts_says_where_to_run(tmp_path: Path) -> None:
    code, output = compile_in(tmp_path)
    assert code == 1
    assert "no contracts/ folder" in output and "neurostack new" in output
