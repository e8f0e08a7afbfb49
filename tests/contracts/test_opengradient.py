"""OpenGradient's published interfaces (contracts/opengradient) compile unchanged and match
this chain: the same runModelInference ABI, and the selectors the chain answers with a
clear "not supported" revert are exactly OpenGradient's."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest
from eth_utils import function_abi_to_4byte_selector
from eth_utils.abi import collapse_if_tuple

from neurostack.protocol.request import RUN_MODEL_INFERENCE_SELECTOR
from neurostack.protocol.tensors import INFERENCE_REQUEST_ABI, MODEL_OUTPUT_ABI
from neurostack.solidity import CompiledContract, compile_files
from sequencer.chain.inference.constants import INFERENCE_PRECOMPILE_ADDRESS, PRICE_HISTORY_ADDRESS
from sequencer.chain.inference.opengradient import (
    LLM_FUNCTIONS,
    RUN_LLM_CHAT_SELECTOR,
    RUN_LLM_COMPLETION_SELECTOR,
)

REPO = Path(__file__).resolve().parents[2]
VENDORED = REPO / "contracts" / "opengradient"
CONSUMER = Path(__file__).resolve().parent / "opengradient" / "SimulationAwareConsumer.sol"


@pytest.fixture(scope="module")
def compiled() -> dict[str, CompiledContract]:
    return compile_files([CONSUMER])


def _functions(contract: CompiledContract) -> dict[str, dict]:
    return {f["name"]: f for f in contract.abi if f.get("type") == "function"}


def test_vendored_files_are_byte_for_byte_the_published_ones() -> None:
    # The README pins each file's sha256: an edit to a vendored file fails here.
    table = re.findall(
        r"\| `([\w/]+\.sol)` \| `([0-9a-f]{64})` \|", (VENDORED / "README.md").read_text()
    )
    assert {name for name, _ in table} == {
        "og_inference/OGInference.sol",
        "historical/OGHistorical.sol",
        "types/CommonTypes.sol",
    }
    for name, digest in table:
        assert hashlib.sha256((VENDORED / name).read_bytes()).hexdigest() == digest, name
    assert "MIT License" in (VENDORED / "LICENSE").read_text()


def test_run_model_inference_has_the_neuro_abi(compiled: dict[str, CompiledContract]) -> None:
    fn = _functions(compiled["OGInference"])["runModelInference"]
    assert function_abi_to_4byte_selector(fn) == RUN_MODEL_INFERENCE_SELECTOR
    assert [collapse_if_tuple(i) for i in fn["inputs"]] == [INFERENCE_REQUEST_ABI]
    assert [collapse_if_tuple(o) for o in fn["outputs"]] == [MODEL_OUTPUT_ABI]
    assert fn["outputs"][0]["components"][-1]["name"] == "is_simulation_result"


def test_unsupported_selectors_are_opengradients(compiled: dict[str, CompiledContract]) -> None:
    fns = _functions(compiled["OGInference"])
    assert set(fns) == {"runModelInference", "runLLMCompletion", "runLLMChat"}
    assert function_abi_to_4byte_selector(fns["runLLMCompletion"]) == RUN_LLM_COMPLETION_SELECTOR
    assert function_abi_to_4byte_selector(fns["runLLMChat"]) == RUN_LLM_CHAT_SELECTOR
    assert set(LLM_FUNCTIONS.values()) == {"runLLMCompletion", "runLLMChat"}


def test_addresses_are_opengradients() -> None:
    source = (VENDORED / "og_inference" / "OGInference.sol").read_text()
    (address,) = re.findall(r"OG_INFERENCE_ADDRESS = (0x[0-9a-fA-F]{40});", source)
    assert bytes.fromhex(address[2:]) == INFERENCE_PRECOMPILE_ADDRESS
    assert PRICE_HISTORY_ADDRESS == bytes(19) + b"\xf5"
    historical = _functions(
        compile_files([VENDORED / "historical" / "OGHistorical.sol"])["OGHistorical"]
    )
    assert set(historical) == {"runInferenceOnPriceFeed", "queryHistoricalCandles"}
