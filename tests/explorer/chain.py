"""A real node for the explorer's fast tests: py-evm + the JSON-RPC under uvicorn, in this
process, mining on demand (``evm_mine``), with a funded account that signs transfers and
deployments. The explorer talks to it only over HTTP, as it would to any node."""

from __future__ import annotations

import tempfile
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import httpx
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import to_checksum_address

from sequencer.config import ChainConfig
from sequencer.node import Node
from sequencer.rpc import RpcServer

CHAIN_ID = 4242
MNEMONIC = "test test test test test test test test test test test junk"
GWEI = 10**9


class DevChain:
    """``with DevChain() as chain: chain.transfer(...); chain.mine()``."""

    def __init__(
        self, name: str = "explorer-test", root: Path | None = None, chain_id: int = CHAIN_ID
    ) -> None:
        self.chain_id = chain_id
        self.config = ChainConfig.model_validate(
            {
                "chain": {"name": name, "chain_id": chain_id, "block_time": 0},
                "dev": {"mnemonic": MNEMONIC, "accounts": 3},
            }
        )
        self.config.root = Path(root or tempfile.mkdtemp(prefix="explorer-chain-"))
        self.node = Node(self.config)
        self.server: RpcServer | None = None
        Account.enable_unaudited_hdwallet_features()
        self.accounts: list[LocalAccount] = [
            Account.from_mnemonic(MNEMONIC, account_path=f"m/44'/60'/0'/0/{i}") for i in range(3)
        ]
        self._http = httpx.Client(timeout=30)

    @property
    def url(self) -> str:
        assert self.server is not None
        return self.server.url.rstrip("/")

    def __enter__(self) -> Self:
        self.node.start()
        self.server = RpcServer(self.node, host="127.0.0.1", port=0).start()
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self.server is not None:
            self.server.stop()
        self.node.stop()
        self._http.close()

    def rpc(self, method: str, *params: Any) -> Any:
        reply = self._http.post(
            self.url, json={"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}
        ).json()
        assert "error" not in reply, reply
        return reply["result"]

    def send(self, to: str | None, *, value: int = 0, data: bytes = b"", sender: int = 0,
             gas: int = 21_000) -> str:  # fmt: skip
        account = self.accounts[sender]
        nonce = int(self.rpc("eth_getTransactionCount", account.address, "pending"), 16)
        tx: dict[str, Any] = {
            "chainId": self.chain_id, "nonce": nonce, "gas": gas, "value": value, "data": data,
            "maxFeePerGas": 20 * GWEI, "maxPriorityFeePerGas": GWEI, "type": 2,
        }  # fmt: skip
        if to is not None:
            tx["to"] = to_checksum_address(to)
        raw = account.sign_transaction(tx).raw_transaction
        return str(self.rpc("eth_sendRawTransaction", "0x" + bytes(raw).hex()))

    def mine(self) -> int:
        self.rpc("evm_mine")
        return int(self.rpc("eth_blockNumber"), 16)
