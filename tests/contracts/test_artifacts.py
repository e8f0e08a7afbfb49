"""The committed artifacts in neurostack/contracts/ are exactly what the sources compile to."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from neurostack import solidity
from neurostack.solidity import (
    ARTIFACT_SOURCES,
    PACKAGE_CONTRACTS_DIR,
    SOLC_VERSION,
    SolidityError,
    build_artifacts,
    find_repo_contracts_dir,
    load_artifact,
)


@pytest.mark.slow  # a fresh compile of every artifact source: 2-8 s
def test_committed_artifacts_equal_a_fresh_build() -> None:
    fresh = build_artifacts()
    on_disk = {
        p.name: p.read_text()
        for p in PACKAGE_CONTRACTS_DIR.iterdir()
        if p.suffix in (".json", ".sol")
    }
    stale = sorted(n for n in fresh if on_disk.get(n) != fresh[n])
    extra = sorted(set(on_disk) - set(fresh))
    assert not stale and not extra, (
        f"stale: {stale}, not built by the sources: {extra}; "
        "run `python -m neurostack.solidity --build` and commit neurostack/contracts/"
    )


def test_every_artifact_source_is_built() -> None:
    contracts_dir = find_repo_contracts_dir()
    assert contracts_dir is not None
    for source in ARTIFACT_SOURCES:
        text = (contracts_dir / source).read_text()
        for line in text.splitlines():
            if line.startswith(("contract ", "interface ", "library ")):
                name = line.split()[1]
                assert (PACKAGE_CONTRACTS_DIR / f"{name}.json").is_file(), name


def test_artifact_records_compiler_and_target() -> None:
    data = json.loads((PACKAGE_CONTRACTS_DIR / "ModelConsumer.json").read_text())
    assert data["compiler"] == SOLC_VERSION == "0.8.37"
    assert data["evmVersion"] == "cancun"
    assert data["sourceName"] == "examples/ModelConsumer.sol"
    consumer = load_artifact("ModelConsumer")
    assert consumer.bytecode.hex() == data["bytecode"].removeprefix("0x")
    assert consumer.deployed_bytecode and consumer.deployed_bytecode in consumer.bytecode


def test_invalid_unknown_artifact_lists_the_known_ones() -> None:
    with pytest.raises(SolidityError, match="no compiled artifact 'Nope'.*ModelConsumer"):
        load_artifact("Nope")


def test_check_command_passes_on_the_committed_tree(capsys: pytest.CaptureFixture[str]) -> None:
    # In-process: `python -m neurostack.solidity --check` runs this same function, and the
    # compile cache makes it cheap after the test above.
    assert solidity._main(["--check"]) == 0
    assert "up to date" in capsys.readouterr().out


def test_invalid_check_command_reports_stale_artifacts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for p in PACKAGE_CONTRACTS_DIR.iterdir():
        if p.suffix in (".json", ".sol"):
            (tmp_path / p.name).write_text(p.read_text())
    (tmp_path / "Counter.json").write_text("{}")
    assert solidity._main(["--check"], directory=tmp_path) == 1
    out = capsys.readouterr().out
    assert "stale artifacts: Counter.json" in out and "--build" in out
