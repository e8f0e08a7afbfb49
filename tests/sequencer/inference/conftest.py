"""Fixtures of the on-chain inference tests: a real node (py-evm, sqlite store) whose blocks
execute with a witness the test controls, and ModelConsumer compiled with solc-js.

A rig is module-scoped (one node per test module, to keep the suite fast); tests in a
module therefore use distinct inputs so their requests never collide.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from eth._utils.address import generate_contract_address
from eth_abi import decode, encode
from eth_utils import function_abi_to_4byte_selector

from neurostack.protocol.modes import InferenceMode
from neurostack.solidity import CompiledContract, compile_files
from sequencer.node import Node

from .kit import MODEL_CID, OWNER_KEY, Wallet, WitnessFeed, make_config

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="session")
def contracts() -> dict[str, CompiledContract]:
    examples = REPO / "contracts" / "examples"
    return compile_files([examples / "ModelConsumer.sol", examples / "ChainedModels.sol"])


@dataclass
class Rig:
    node: Node
    feed: WitnessFeed
    wallets: list[Wallet]
    owner: Wallet
    consumer: bytes
    consumer_abi: CompiledContract

    def predict_data(self, features: list[int], decimals: int = 1, cid: str = MODEL_CID) -> bytes:
        return selector(self.consumer_abi, "predict") + encode(
            ["string", "int128[]", "int128"], [cid, features, decimals]
        )

    def read(self, name: str, out: str, contract: bytes | None = None) -> Any:
        raw = self.wallets[0].call(contract or self.consumer, selector(self.consumer_abi, name))
        return decode([out], raw)[0]

    def mine(self, timestamp: int | None = None) -> Any:
        return self.node.mine(timestamp)

    def receipt_of(self, block: Any, tx_hash: bytes) -> Any:
        return self.node.receipts(block)[[t.hash for t in block.transactions].index(tx_hash)]


def selector(contract: CompiledContract, name: str) -> bytes:
    abi = next(f for f in contract.abi if f.get("name") == name and f["type"] == "function")
    return function_abi_to_4byte_selector(abi)


def deploy(
    node: Node, wallet: Wallet, contract: CompiledContract, types: list[str], args: list[Any]
) -> bytes:
    """Deploy ``contract`` from ``wallet`` in its own block; its address."""
    tx_hash = wallet.send(None, contract.bytecode + encode(types, args), gas=4_000_000)
    block = node.mine()
    receipt = node.receipts(block)[[t.hash for t in block.transactions].index(tx_hash)]
    assert receipt.state_root == b"\x01", "deployment failed"
    return generate_contract_address(wallet.address, wallet.nonce - 1)


def make_rig(
    tmp_path: Path, contracts: dict[str, CompiledContract], **inference: Any
) -> Iterator[Rig]:
    config = make_config(tmp_path, **inference)
    node = Node(config)
    try:
        feed = WitnessFeed(node).attach()
        wallets = [Wallet(node, a.private_key) for a in config.dev_accounts()]
        owner = Wallet(node, "0x" + OWNER_KEY.hex())
        consumer = deploy(node, wallets[0], contracts["ModelConsumer"], ["string", "uint8"],
                          ["x", InferenceMode.VANILLA])  # fmt: skip
        yield Rig(node, feed, wallets, owner, consumer, contracts["ModelConsumer"])
    finally:
        node.stop()


@pytest.fixture(scope="module")
def rig(
    tmp_path_factory: pytest.TempPathFactory, contracts: dict[str, CompiledContract]
) -> Iterator[Rig]:
    yield from make_rig(tmp_path_factory.mktemp("chain"), contracts)
