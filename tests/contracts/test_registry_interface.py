"""INeuroRegistry.sol mirrors the registry system contract the chain implements."""

from __future__ import annotations

from eth_utils import event_abi_to_log_topic, function_abi_to_4byte_selector
from eth_utils.abi import collapse_if_tuple

from neurostack.solidity import compile_contracts, load_artifact
from sequencer.chain.inference import system_contract
from sequencer.chain.inference.constants import REGISTRY_ADDRESS


def _functions() -> dict[str, dict]:
    abi = load_artifact("INeuroRegistry").abi
    return {e["name"]: e for e in abi if e["type"] == "function"}


def test_every_function_matches_the_system_contract() -> None:
    solidity = _functions()
    native = {f.name: f for f in system_contract.FUNCTIONS}
    assert set(solidity) == set(native)
    for name, fn in solidity.items():
        assert function_abi_to_4byte_selector(fn) == native[name].selector, name
        assert tuple(collapse_if_tuple(o) for o in fn["outputs"]) == native[name].outputs, name
        # writes must not be declared view (Solidity would STATICCALL them and fail)
        assert (fn["stateMutability"] == "view") == (not native[name].writes), name


def test_every_event_matches_the_system_contract() -> None:
    abi = load_artifact("INeuroRegistry").abi
    events = {e["name"]: e for e in abi if e["type"] == "event"}
    assert set(events) == set(system_contract.EVENTS)
    for name, event in events.items():
        assert event_abi_to_log_topic(event) == system_contract.EVENTS[name], name
    registered = [i["indexed"] for i in events["ModelRegistered"]["inputs"]]
    assert registered == [False, False, True, False, False]  # only the owner is a topic
    tee = [i["indexed"] for i in events["TeeKeyRegistered"]["inputs"]]
    assert tee == [True, True, False]


def test_registry_address_constant() -> None:
    src = """// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;
import "INeuroRegistry.sol";
contract RegistryProbe {
    function at() external pure returns (address) { return address(NEURO_REGISTRY); }
}"""
    from tests.contracts.devchain import DevChain

    probe = DevChain().deploy(compile_contracts({"RegistryProbe.sol": src})["RegistryProbe"])
    assert bytes.fromhex(probe.call("at")[2:]) == REGISTRY_ADDRESS
