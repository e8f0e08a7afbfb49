"""Shared helpers of the node tests: a chain config in a temp dir, dev keys, signed txs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from eth_account import Account

from sequencer.config import ChainConfig, ChainSection

CHAIN_ID = 4242
RECIPIENT = b"\x11" * 20
GWEI = 10**9


def make_config(tmp_path: Path, **chain: Any) -> ChainConfig:
    """A config whose data dir is under ``tmp_path``; mine-on-demand unless told otherwise."""
    fields: dict[str, Any] = {"name": "test", "chain_id": CHAIN_ID, "block_time": 0}
    fields.update(chain)
    return ChainConfig(chain=ChainSection(**fields), root=tmp_path)


_KEYS_CACHE: dict[str, list[tuple[bytes, str]]] = {}


def dev_keys(config: ChainConfig) -> list[tuple[bytes, str]]:
    """(address, private key hex) of the funded dev accounts (derivation is cached)."""
    mnemonic = config.dev.mnemonic
    if mnemonic not in _KEYS_CACHE:
        _KEYS_CACHE[mnemonic] = [
            (bytes.fromhex(a.address[2:]), a.private_key) for a in config.dev_accounts()
        ]
    return _KEYS_CACHE[mnemonic][: config.dev.accounts]


def sign(
    key: str, nonce: int, *, tx_type: int = 2, chain_id: int = CHAIN_ID, **fields: Any
) -> bytes:
    """A signed raw transaction of type 0 (EIP-155), 1 or 2 with sensible defaults."""
    tx: dict[str, Any] = {
        "chainId": chain_id,
        "nonce": nonce,
        "to": "0x" + RECIPIENT.hex(),
        "value": 1,
        "gas": 21_000,
    }
    if tx_type == 2:
        tx.update(maxFeePerGas=2 * GWEI, maxPriorityFeePerGas=GWEI // 10, type=2)
    else:
        tx["gasPrice"] = 2 * GWEI
        if tx_type == 1:
            tx.update(type=1, accessList=[])
    tx.update(fields)
    for key_name in ("maxFeePerGas", "maxPriorityFeePerGas"):
        if key_name in tx and "gasPrice" in tx and tx_type == 2:
            del tx["gasPrice"]
    return bytes(Account.sign_transaction(tx, key).raw_transaction)
