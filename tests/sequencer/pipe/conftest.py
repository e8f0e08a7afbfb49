"""Fixtures of the PIPE tests: committed contract artifacts, a fresh node with PIPE per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from neurostack.protocol.modes import InferenceMode
from neurostack.solidity import CompiledContract, compile_files, load_artifact

from .kit import Pipe, open_pipe


@pytest.fixture(scope="session")
def consumer_abi() -> CompiledContract:
    return load_artifact("ModelConsumer")


@pytest.fixture(scope="session")
def chained_abi() -> CompiledContract:
    return load_artifact("ChainedModels")


@pytest.fixture(scope="session")
def adjustable_abi() -> CompiledContract:
    return compile_files([Path(__file__).parent / "contracts" / "Adjustable.sol"])["Adjustable"]


@pytest.fixture
def pipe(tmp_path: Path) -> Iterator[Pipe]:
    p = open_pipe(tmp_path)
    yield p
    p.close()


@pytest.fixture
def consumer(pipe: Pipe, consumer_abi: CompiledContract) -> bytes:
    return pipe.deploy(consumer_abi, ["string", "uint8"], ["x", InferenceMode.VANILLA])
