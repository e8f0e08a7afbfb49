"""Hostile raw transactions through the real ``eth_sendRawTransaction``: non-canonical
encodings, trailing bytes, wrong type bytes and malleated signatures each get a JSON-RPC
error and are never admitted (so never under a sender other than the signer's)."""

from __future__ import annotations

from typing import Any

import rlp
from eth_keys.constants import SECPK1_N
from eth_utils import keccak

from .conftest import Rpc, sign


def _typed(type_byte: bytes, fields: list[bytes]) -> bytes:
    payload = b"".join(fields)
    size = len(payload).to_bytes(2 if len(payload) > 255 else 1, "big")
    return type_byte + bytes((0xF7 + len(size),)) + size + payload


def _variants(raw: bytes, legacy: bytes) -> dict[str, bytes]:
    items = rlp.decode(raw[1:])
    encoded = [rlp.encode(item) for item in items]
    assert _typed(raw[:1], encoded) == raw
    nonce, fee_slot, to_slot = 1, 3, 5
    assert len(items[to_slot]) == 20 and 0 < len(items[fee_slot]) <= 8
    fee = int.from_bytes(items[fee_slot], "big")
    y_parity, s = int.from_bytes(items[9], "big"), int.from_bytes(items[11], "big")
    high_s = [*encoded[:9], rlp.encode(1 - y_parity), encoded[10], rlp.encode(SECPK1_N - s)]
    legacy_items = rlp.decode(legacy)
    v, legacy_s = int.from_bytes(legacy_items[6], "big"), int.from_bytes(legacy_items[8], "big")
    flipped_v = v + 1 if v % 2 else v - 1  # EIP-155: v = chain_id * 2 + 35 + parity
    legacy_high_s = [*legacy_items[:6], flipped_v, legacy_items[7], SECPK1_N - legacy_s]
    return {
        "nonce as a long string": _typed(
            raw[:1], [*encoded[:nonce], b"\xb8\x01" + items[nonce][:1] if items[nonce] else
                      b"\xb8\x00", *encoded[nonce + 1:]]
        ),
        "fee with a leading zero": _typed(
            raw[:1], [*encoded[:fee_slot], rlp.encode(b"\x00" + fee.to_bytes(8, "big").lstrip(b"\x00")),
                      *encoded[fee_slot + 1:]]
        ),
        "a byte below 0x80 as a string": _typed(
            raw[:1], [*encoded[:2], b"\x81\x01", *encoded[3:]]
        ) if items[2] == b"\x01" else _typed(raw[:1], [*encoded[:2], b"\x81\x7f", *encoded[3:]]),
        "long prefix for a short string": _typed(
            raw[:1], [*encoded[:to_slot], b"\xb8\x14" + items[to_slot], *encoded[to_slot + 1:]]
        ),
        "integer zero as a zero byte": _typed(raw[:1], [*encoded[:nonce], b"\x00", *encoded[nonce + 1:]]),
        "trailing bytes": raw + b"\x00",
        "trailing bytes after a legacy list": legacy + b"\x80",
        "unsupported type byte 0x03": b"\x03" + raw[1:],
        "unsupported type byte 0x05": b"\x05" + raw[1:],
        "type 0x01 byte on a type 2 payload": b"\x01" + raw[1:],
        "high s (typed)": _typed(raw[:1], high_s),
        "high s (legacy)": rlp.encode(legacy_high_s),
    }  # fmt: skip


def test_hostile_raw_transactions_are_refused_and_never_admitted(rpc: Rpc) -> None:
    sender = rpc.accounts[3]
    address = sender.address
    raw = sign(rpc, sender, value=7)
    legacy = sign(rpc, sender, tx_type=0, value=7)
    before = rpc.request("eth_getTransactionCount", [address, "pending"])["result"]
    for name, variant in _variants(raw, legacy).items():
        assert variant not in (raw, legacy), name
        reply: dict[str, Any] = rpc.request("eth_sendRawTransaction", ["0x" + variant.hex()])
        assert "result" not in reply, name
        assert reply["error"]["code"] in (-32000, -32602), (name, reply)
        assert reply["error"]["message"], name
        found = rpc.request("eth_getTransactionByHash", ["0x" + keccak(variant).hex()])
        assert found["result"] is None, name
        pending = rpc.request("eth_getTransactionCount", [address, "pending"])["result"]
        assert pending == before, name
    # nothing pooled from any of them; the signer's own bytes are still accepted, as theirs
    pooled = rpc.request("txpool_content")["result"]
    assert address.lower() not in {a.lower() for kind in pooled.values() for a in kind}
    tx_hash = rpc.request("eth_sendRawTransaction", ["0x" + raw.hex()])["result"]
    assert tx_hash == "0x" + keccak(raw).hex()
    assert (
        rpc.request("eth_getTransactionByHash", [tx_hash])["result"]["from"].lower()
        == address.lower()
    )
