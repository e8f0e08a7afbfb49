"""Fixtures of the on-chain inference tests: a real node (py-evm, sqlite store) whose blocks
execute with a witness the test controls, and ModelConsumer compiled with solc-js."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from eth_abi import encode
from eth._utils.address import generate_contract_address

from neurostack.solidity import CompiledContract, compile_files
from sequencer.chain.inference import policy_from_config
from sequencer.node import Node

from .kit import WitnessHooks, Wallet, make_config

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="session")
def consumer_contract() -> CompiledContract:
    return compile_files([REPO / "contracts" / "examples" / "ModelConsumer.sol"])["ModelConsumer"]


@dataclass
class Rig:
    node: Node
    hooks: WitnessHooks
    wallets: list[Wallet]


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    config = make_config(tmp_path)
    node = Node(config)
    try:
        hooks = WitnessHooks(node, policy_from_config(config.inference))
        node.set_block_hooks(hooks)
        keys = [a.private_key for a in config.dev_accounts()]
        yield Rig(node, hooks, [Wallet(node, k) for k in keys])
    finally:
        node.stop()


def deploy(rig: Rig, contract: CompiledContract, args_abi: list[str], args: list[object]) -> bytes:
    """Deploy ``contract`` from the first wallet; its address."""
    wallet = rig.wallets[0]
    tx_hash = wallet.send(None, contract.bytecode + encode(args_abi, args), gas=3_000_000)
    block = rig.node.mine()
    receipt = rig.node.receipts(block)[[t.hash for t in block.transactions].index(tx_hash)]
    assert receipt.state_root == b"\x01", "deployment failed"
    return generate_contract_address(wallet.address, wallet.nonce - 1)
