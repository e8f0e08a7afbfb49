"""TEE heartbeats of a devnet: keep the genesis-admitted dev TEE keys fresh while `up` runs.

Genesis admits ``[inference] tee_keys`` with the document ``neurostack new`` signed, so a
key's ``attestedAt`` is the time the project was created and the chain rejects its TEE
receipts ``TEE_ATTESTATION_TTL`` (24 h) of block time later. A real enclave renews its
attestation itself; on a devnet the "enclave" is an ordinary worker process and the
attestation provider is ``[inference] attestation_root_key``, so `neurostack up` plays
the provider: every :data:`CHECK_INTERVAL_S` it reads each key's ``teeKeyOf`` and, once
the attestation is older than half the TTL, signs a fresh development document and sends
``heartbeat(key, document)`` to the registry from the root's own account (premined by
``neurostack new``). The chain verifies that document exactly like any other.

Nothing here is trusted by the chain: a heartbeat that fails (unfunded root, node down)
is logged and retried at the next check; `up` keeps running.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
from eth_abi import decode
from eth_utils import to_canonical_address, to_checksum_address

from neurostack.protocol.types import Address, Hash32
from sequencer.chain.inference.attestation import make_dev_attestation
from sequencer.chain.inference.constants import REGISTRY_ADDRESS, TEE_ATTESTATION_TTL
from sequencer.chain.inference.system_contract import registry_calldata
from sequencer.config import ChainConfig

# eth_account (about 0.5 s of CPU to import) is imported where the root key is loaded:
# `neurostack node` imports neurostack.devnet.devnet, and so this module, to sign nothing.
if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount

log = logging.getLogger(__name__)

CHECK_INTERVAL_S = 10.0
"""Seconds between checks: one ``eth_call`` per TEE key, so cheap enough to be frequent."""

RENEW_AFTER_S = TEE_ATTESTATION_TTL // 2
"""Renew once the attestation is this old: half the TTL leaves room for a node that was
down or a heartbeat that failed."""

HEARTBEAT_GAS = 300_000
REGISTRY = to_checksum_address(REGISTRY_ADDRESS)


class TeeHeartbeats:
    """Renews the devnet's TEE keys through the chain's ``heartbeat`` while it runs."""

    def __init__(self, config: ChainConfig, rpc_url: str, interval: float = CHECK_INTERVAL_S):
        self.config = config
        self.rpc_url = rpc_url
        self.interval = interval
        self.pending: dict[bytes, str] = {}  # key -> heartbeat transaction not yet mined
        key_file = config.inference.attestation_root_key
        self.root: LocalAccount | None = None
        if key_file is not None and config.inference.tee_keys:
            from eth_account import Account

            path = key_file if key_file.is_absolute() else config.root / key_file
            try:
                self.root = Account.from_key(Path(path).read_text().strip())
            except (OSError, ValueError) as exc:
                log.warning("no TEE heartbeats: cannot read the attestation root key: %s", exc)

    @property
    def enabled(self) -> bool:
        """Whether there is anything to renew and a root to renew it with."""
        return self.root is not None

    def rpc(self, method: str, *params: Any) -> Any:
        body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}
        reply = httpx.post(self.rpc_url, json=body, timeout=10).json()
        if "error" in reply:
            raise RuntimeError(f"{method}: {reply['error'].get('message')}")
        return reply["result"]

    def check(self) -> list[str]:
        """Send a heartbeat for every key due one; the transaction hashes sent."""
        assert self.root is not None
        latest = self.rpc("eth_getBlockByNumber", "latest", False)
        # The document must not be newer than the block including it: blocks are stamped
        # with the node's clock (plus evm_increaseTime), never earlier than their parent.
        now = max(int(latest["timestamp"], 16), int(time.time()))
        sent = []
        for entry in self.config.inference.tee_keys:
            key = Address(to_canonical_address(entry.key))
            if key in self.pending:
                if self.rpc("eth_getTransactionReceipt", self.pending[key]) is None:
                    continue  # the last heartbeat is not mined yet: never pile them up
                del self.pending[key]
            data = registry_calldata("teeKeyOf", key)
            raw = self.rpc("eth_call", {"to": REGISTRY, "data": "0x" + data.hex()}, "latest")
            measurement, attested_at, active = decode(
                ["bytes32", "uint64", "bool"], bytes.fromhex(raw[2:])
            )
            if not active or now - attested_at < RENEW_AFTER_S:
                continue  # revoked (the owner decided so) or still fresh
            self.pending[key] = self.send_heartbeat(key, Hash32(measurement), now)
            sent.append(self.pending[key])
            log.info("TEE heartbeat for %s sent (attested %d s ago)", entry.key, now - attested_at)
        return sent

    def send_heartbeat(self, key: Address, measurement: Hash32, timestamp: int) -> str:
        """Sign a fresh dev document for ``key`` and send ``heartbeat`` from the root."""
        assert self.root is not None
        document = make_dev_attestation(
            key=key, measurement=measurement, timestamp=timestamp,
            root_private_key=bytes(self.root.key),
        )  # fmt: skip
        base_fee = int(self.rpc("eth_getBlockByNumber", "latest", False)["baseFeePerGas"], 16)
        tx: dict[str, Any] = {
            "chainId": self.config.chain.chain_id, "type": 2, "to": REGISTRY, "value": 0,
            "nonce": int(self.rpc("eth_getTransactionCount", self.root.address, "pending"), 16),
            "gas": HEARTBEAT_GAS, "maxFeePerGas": 2 * base_fee + 10**9,
            "maxPriorityFeePerGas": 10**9,
            "data": registry_calldata("heartbeat", key, document),
        }  # fmt: skip
        raw = self.root.sign_transaction(tx).raw_transaction
        return str(self.rpc("eth_sendRawTransaction", "0x" + bytes(raw).hex()))

    def run(self, stop: threading.Event) -> None:
        """Check now and every ``interval`` seconds until ``stop`` is set."""
        while not stop.is_set():
            try:
                self.check()
            except (httpx.HTTPError, RuntimeError, ValueError, KeyError) as exc:
                log.warning("TEE heartbeat check failed (retrying): %s", exc)
            except Exception:  # a bug here must not end the heartbeats of a running devnet
                log.exception("TEE heartbeat check failed unexpectedly (retrying)")
            stop.wait(self.interval)

    def start(self, stop: threading.Event) -> threading.Thread | None:
        """Run in a daemon thread when :attr:`enabled`; the thread, or ``None``."""
        if not self.enabled:
            return None
        thread = threading.Thread(target=self.run, args=(stop,), name="tee-heartbeats", daemon=True)
        thread.start()
        return thread
