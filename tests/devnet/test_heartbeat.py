"""`up`'s TEE heartbeats against a real node and RPC server (in-process, mine on demand):
aging genesis TEE keys are renewed with documents the chain verifies; fresh, pending and
revoked keys are left alone; without a root key nothing is sent."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from eth_abi import decode
from eth_account import Account
from eth_utils import to_canonical_address

from neurostack.devnet.heartbeat import RENEW_AFTER_S, TeeHeartbeats
from neurostack.devnet.project import create_project
from sequencer.chain.inference.attestation import DEV_MEASUREMENT
from sequencer.chain.inference.system_contract import registry_calldata
from sequencer.config import Allocation, ChainConfig, load_chain_config
from sequencer.node import Node
from sequencer.rpc import RpcServer

pytestmark = pytest.mark.slow


@dataclass
class Chain:
    config: ChainConfig
    node: Node
    url: str

    def rpc(self, method: str, *params: Any) -> Any:
        body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}
        reply = httpx.post(self.url, json=body, timeout=30).json()
        assert "error" not in reply, reply
        return reply["result"]

    def tee_key(self, key: str) -> tuple[bytes, int, bool]:
        data = registry_calldata("teeKeyOf", to_canonical_address(key))
        raw = self.rpc("eth_call", {"to": "0x4E53000000000000000000000000000000000001", "data": "0x" + data.hex()})
        measurement, attested_at, active = decode(
            ["bytes32", "uint64", "bool"], bytes.fromhex(raw[2:])
        )
        return measurement, attested_at, active


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chain]:
    project = create_project("beat", tmp_path_factory.mktemp("heartbeat"), {"block_time": 0})
    config = load_chain_config(project / "chain.toml")
    owner = Account.from_key(config.key_file.read_text().strip())
    config.alloc.append(Allocation(address=owner.address, balance=10**20))  # to revoke a key
    node = Node(config, dev_methods=True)
    server = None
    try:
        node.start()
        server = RpcServer(node).start()
        yield Chain(config, node, server.url)
    finally:
        if server is not None:
            server.stop()
        node.stop()


def test_aging_keys_are_renewed_once_and_revoked_keys_never(chain: Chain) -> None:
    beats = TeeHeartbeats(chain.config, chain.url)
    keys = [entry.key for entry in chain.config.inference.tee_keys]
    assert beats.enabled and len(keys) == 2
    assert beats.check() == []  # fresh from `neurostack new`
    before = {key: chain.tee_key(key)[1] for key in keys}

    chain.rpc("evm_increaseTime", RENEW_AFTER_S + 60)
    chain.rpc("evm_mine")
    sent = beats.check()
    assert len(sent) == 2
    assert beats.check() == []  # not mined yet: no second heartbeat piles up
    chain.rpc("evm_mine")
    for tx_hash in sent:
        assert chain.rpc("eth_getTransactionReceipt", tx_hash)["status"] == "0x1"
    for key in keys:
        measurement, attested_at, active = chain.tee_key(key)
        assert (measurement, active) == (DEV_MEASUREMENT, True)
        assert attested_at >= before[key] + RENEW_AFTER_S
    assert beats.check() == []  # fresh again

    # The chain owner revokes one key: it ages like the other but is never renewed.
    owner = Account.from_key(chain.config.key_file.read_text().strip())
    revoked = keys[0]
    tx = {
        "chainId": chain.config.chain.chain_id, "type": 2, "to": "0x4E53000000000000000000000000000000000001",
        "nonce": int(chain.rpc("eth_getTransactionCount", owner.address, "pending"), 16),
        "gas": 200_000, "maxFeePerGas": 10**11, "maxPriorityFeePerGas": 10**9, "value": 0,
        "data": registry_calldata("revokeTeeKey", to_canonical_address(revoked)),
    }  # fmt: skip
    raw = "0x" + bytes(owner.sign_transaction(tx).raw_transaction).hex()
    chain.rpc("eth_sendRawTransaction", raw)
    chain.rpc("evm_increaseTime", RENEW_AFTER_S + 60)
    chain.rpc("evm_mine")
    assert chain.tee_key(revoked)[2] is False
    assert len(beats.check()) == 1
    chain.rpc("evm_mine")
    assert chain.tee_key(revoked)[2] is False
    assert chain.tee_key(keys[1])[2] is True


def test_invalid_root_key_or_none_means_no_heartbeats(chain: Chain, tmp_path: Path) -> None:
    without = chain.config.model_copy(deep=True)
    without.inference.attestation_root_key = None
    assert not TeeHeartbeats(without, chain.url).enabled

    missing = chain.config.model_copy(deep=True)
    missing.inference.attestation_root_key = tmp_path / "nowhere.key"
    beats = TeeHeartbeats(missing, chain.url)
    assert not beats.enabled and beats.start(threading.Event()) is None
