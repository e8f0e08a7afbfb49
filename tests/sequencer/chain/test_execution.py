"""Contracts on the node: deploy, transact, eth_call, eth_estimateGas, reverts (solc-js compiled)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from eth._utils.address import generate_contract_address
from eth_abi import decode, encode
from eth_utils import function_signature_to_4byte_selector as selector

from neurostack.solidity import compile_contracts
from sequencer.errors import ExecutionReverted, InvalidCall
from sequencer.node import Node
from sequencer.types import CallParams

from ..helpers import dev_keys, make_config, sign

pytestmark = pytest.mark.slow  # runs solc-js in a subprocess

SOURCE = """
// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;
contract Counter {
    uint256 public count;
    mapping(uint256 => uint256) private sink;
    event Bumped(address indexed by, uint256 count);
    function bump() external { count += 1; emit Bumped(msg.sender, count); }
    function fail(string calldata why) external pure { revert(why); }
    function fill(uint256 n) external { for (uint256 i = 0; i < n; i++) { sink[i] = i + 1; } }
    function whoAmI() external view returns (address, uint256) { return (msg.sender, block.number); }
}
"""


@pytest.fixture(scope="module")
def counter_code() -> bytes:
    return compile_contracts({"Counter.sol": SOURCE}, evm_version="prague")["Counter"].bytecode


@pytest.fixture
def deployed(tmp_path: Any, counter_code: bytes) -> Iterator[tuple[Node, bytes, bytes, str]]:
    node = Node(make_config(tmp_path))
    addr, key = dev_keys(node.config)[0]
    node.send_raw_transaction(sign(key, 0, to=b"", value=0, data=counter_code, gas=1_000_000))
    block = node.mine()
    assert node.receipts(block)[0].state_root == b"\x01"
    yield node, addr, generate_contract_address(addr, 0), key
    node.stop()


def calldata(
    signature: str, types: list[str] | None = None, args: list[Any] | None = None
) -> bytes:
    return selector(signature) + (encode(types, args) if types else b"")


def test_transaction_changes_state_and_emits_a_log(
    deployed: tuple[Node, bytes, bytes, str],
) -> None:
    node, addr, contract, key = deployed
    node.send_raw_transaction(
        sign(key, 1, to=contract, value=0, data=calldata("bump()"), gas=100_000)
    )
    block = node.mine()
    (receipt,) = node.receipts(block)
    (log,) = receipt.logs
    assert log.address == contract
    assert log.topics[1] == int.from_bytes(addr.rjust(32, b"\0"), "big")
    assert decode(["uint256"], log.data) == (1,)
    count = node.call(CallParams(to=contract, data=calldata("count()")))
    assert decode(["uint256"], count) == (1,)
    # the state at block 1 (before the bump) is still readable
    assert decode(["uint256"], node.call(CallParams(to=contract, data=calldata("count()")), 1)) == (
        0,
    )


def test_call_sees_sender_and_block(deployed: tuple[Node, bytes, bytes, str]) -> None:
    node, addr, contract, _ = deployed
    out = node.call(CallParams(sender=addr, to=contract, data=calldata("whoAmI()")))
    assert decode(["address", "uint256"], out) == ("0x" + addr.hex(), 1)


def test_invalid_call_reverts_with_reason(deployed: tuple[Node, bytes, bytes, str]) -> None:
    node, _, contract, _ = deployed
    params = CallParams(to=contract, data=calldata("fail(string)", ["string"], ["nope"]))
    with pytest.raises(ExecutionReverted) as info:
        node.call(params)
    assert info.value.message == "execution reverted: nope"
    assert info.value.data[:4] == selector("Error(string)")
    with pytest.raises(ExecutionReverted, match="nope"):
        node.estimate_gas(params)


def test_invalid_call_out_of_gas(deployed: tuple[Node, bytes, bytes, str]) -> None:
    node, _, contract, _ = deployed
    with pytest.raises(InvalidCall, match="out of gas"):
        node.call(
            CallParams(to=contract, data=calldata("fill(uint256)", ["uint256"], [50]), gas=60_000)
        )


def test_estimate_gas_is_enough_and_tight(deployed: tuple[Node, bytes, bytes, str]) -> None:
    node, addr, contract, key = deployed
    data = calldata("fill(uint256)", ["uint256"], [5])
    estimate = node.estimate_gas(CallParams(sender=addr, to=contract, data=data))
    # 5 % less than the estimate is not enough (the fill writes 5 fresh slots)
    node.send_raw_transaction(
        sign(key, 1, to=contract, value=0, data=data, gas=estimate * 95 // 100)
    )
    assert node.receipts(node.mine())[0].state_root == b""  # failed: out of gas
    node.send_raw_transaction(sign(key, 2, to=contract, value=0, data=data, gas=estimate))
    receipt = node.receipts(node.mine())[0]
    assert receipt.state_root == b"\x01"  # succeeded with the estimate
    assert receipt.gas_used <= estimate <= receipt.gas_used * 1.02
