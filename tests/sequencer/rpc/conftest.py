"""Fixtures: a real Node on a temporary data dir served by a real uvicorn on a free port."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import Web3

from sequencer.config import ChainConfig

CHAIN_ID = 31337
CONTRACTS = Path(__file__).parent / "contracts"


@dataclass
class Rpc:
    """One running node + RPC server, and clients for it."""

    node: Any
    server: Any
    w3: Web3
    accounts: list[LocalAccount]

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def ws_url(self) -> str:
        return self.server.ws_url

    def request(self, method: str, params: list[Any] | None = None) -> dict[str, Any]:
        """A raw JSON-RPC call: the whole response object (result or error)."""
        return dict(self.w3.provider.make_request(method, params or []))

    def mine(self) -> int:
        self.request("evm_mine")
        return self.w3.eth.block_number


def make_config(root: Path, **chain: Any) -> ChainConfig:
    rpc = chain.pop("rpc", {})
    config = ChainConfig.model_validate(
        {
            "chain": {"name": "rpc-test", "chain_id": CHAIN_ID, "block_time": 0, **chain},
            "token": {"name": "Test Neuro", "symbol": "TNEURO"},
            "dev": {"accounts": 4},
            "rpc": rpc,
        }
    )
    config.root = root
    return config


def sign(rpc: Rpc, account: LocalAccount, tx_type: int = 2, **fields: Any) -> bytes:
    """A signed transaction with sensible defaults for ``tx_type`` (0, 1 or 2)."""
    w3 = rpc.w3
    tx: dict[str, Any] = {
        "chainId": CHAIN_ID,
        "nonce": w3.eth.get_transaction_count(account.address, "pending"),
        "gas": 100_000,
        "to": Account.create().address,
        "value": 1,
    }
    if tx_type == 2:
        tx["maxPriorityFeePerGas"] = w3.eth.max_priority_fee
        tx["maxFeePerGas"] = (
            2 * w3.eth.get_block("latest")["baseFeePerGas"] + tx["maxPriorityFeePerGas"]
        )
    else:
        tx["gasPrice"] = w3.eth.gas_price
    if tx_type == 1:
        tx["accessList"] = [{"address": tx["to"], "storageKeys": ["0x" + "00" * 32]}]
    tx.update(fields)
    return bytes(account.sign_transaction(tx).raw_transaction)


def deploy_counter(rpc: Rpc, artifact: dict[str, Any], start: int = 0) -> Any:
    """Deploy the test Counter from dev account 0 (mining if the chain mines on demand)."""
    w3 = rpc.w3
    factory = w3.eth.contract(abi=artifact["abi"], bytecode=artifact["bytecode"])
    data = factory.constructor(start).data_in_transaction
    tx_hash = w3.eth.send_raw_transaction(
        sign(rpc, rpc.accounts[0], to=None, value=0, gas=1_000_000, data=data)
    )
    if rpc.node.config.chain.block_time == 0:
        rpc.mine()
    receipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=10, poll_latency=0.05)
    return w3.eth.contract(address=receipt["contractAddress"], abi=artifact["abi"])


@pytest.fixture(scope="module")
def rpc_factory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., Rpc]]:
    """Start nodes with servers; every one is stopped at the end of the module, even on failure."""
    from sequencer.node import Node
    from sequencer.rpc import RpcServer

    running: list[tuple[Any, Any]] = []

    def start(dev_methods: bool = True, **chain: Any) -> Rpc:
        config = make_config(tmp_path_factory.mktemp("chain"), **chain)
        node = Node(config, dev_methods=dev_methods)
        try:
            node.start()
            server = RpcServer(node).start()
        except BaseException:
            node.stop()
            raise
        running.append((node, server))
        accounts = [Account.from_key(a.private_key) for a in config.dev_accounts()]
        return Rpc(
            node,
            server,
            Web3(Web3.HTTPProvider(server.url, request_kwargs={"timeout": 30})),
            accounts,
        )

    yield start
    for node, server in reversed(running):
        server.stop()
        node.stop()


@pytest.fixture(scope="module")
def rpc(rpc_factory: Callable[..., Rpc]) -> Rpc:
    """A mine-on-demand chain (block_time 0, dev methods on)."""
    return rpc_factory()


@pytest.fixture(scope="session")
def counter_artifact(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    from neurostack.solidity import compile_contracts

    compiled = compile_contracts({"Counter.sol": (CONTRACTS / "Counter.sol").read_text()})
    artifact = compiled["Counter"].to_artifact()
    path = tmp_path_factory.mktemp("artifacts") / "Counter.json"
    path.write_text(json.dumps(artifact))
    artifact["path"] = str(path)
    return artifact
