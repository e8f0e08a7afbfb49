"""``eth_getProof`` (EIP-1186): an account and some of its storage, with Merkle proofs.

The answer is geth's ``AccountResult``: ``address, accountProof, balance, codeHash, nonce,
storageHash, storageProof[{key, value, proof}]``, each proof the RLP nodes from the root
down the key's path (``keccak256(address)`` in the state trie, ``keccak256(slot)`` in the
account's storage trie), hashed nodes only (a node whose RLP is under 32 bytes travels
inside its parent). A client checks it against the ``stateRoot`` of the block's header,
which it checks against the block hash, so nothing in the answer needs trusting; this is
how ``hub_client``'s light client reads the sprinter registry.

The node keeps the state of every block, so any block can be named (number, tag, hash,
EIP-1898 object). ``pending`` is the head: proofs are against a header, and no header
commits to the pending state. An absent account is proven absent (an exclusion proof) and
reported as the empty account (code hash ``keccak256("")``, storage hash the empty trie
root); an empty slot likewise (value ``0x0``; ``proof`` is ``[]`` when the account has no
storage at all). Storage keys follow geth: up to 32 bytes of hex, ``0x`` optional; a
32-byte key is echoed as given, a shorter one as a quantity; at most 1024 keys.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import rlp
from eth.abc import BlockHeaderAPI, DatabaseAPI
from eth.rlp.accounts import Account
from eth_utils import keccak
from trie import HexaryTrie

from .context import RpcContext, block_number_of
from .dispatch import MethodTable
from .errors import InvalidParams, ServerError
from .formatters import hexb
from .params import ArgumentError, BlockRef, address, block_ref

METHODS = MethodTable()
MAX_PROOF_KEYS = 1024  # geth's maxGetProofKeys


def storage_key_list(value: Any) -> list[str]:
    """``storageKeys``: a JSON array of strings (each decoded by :func:`decode_storage_key`)."""
    if not isinstance(value, list):
        raise ArgumentError("json: cannot unmarshal non-array into Go value of type []string")
    if not all(isinstance(item, str) for item in value):
        raise ArgumentError("json: cannot unmarshal non-string into Go value of type string")
    return value


def decode_storage_key(text: str) -> tuple[int, int]:
    """A storage key as geth reads it (``0x`` optional, odd length padded): (slot, its length)."""
    body = text[2:] if text.startswith(("0x", "0X")) else text
    if len(body) % 2:
        body = "0" + body
    if len(body) > 64:
        raise InvalidParams(f"storage key too long (want at most 32 bytes): {_quoted(text)}")
    try:
        raw = bytes.fromhex(body)
    except ValueError:
        raise InvalidParams(f"invalid hex in storage key: {_quoted(text)}") from None
    return int.from_bytes(raw, "big"), len(raw)


def _quoted(text: str) -> str:
    """The key as geth quotes it (``%q``), cut short: an error never echoes a huge input."""
    return '"' + (text if len(text) <= 80 else text[:80] + "...") + '"'


def trie_proof(db: DatabaseAPI, root: bytes, key: bytes) -> list[str]:
    """The hashed nodes on ``key``'s path in the trie at ``root``, as 0x-hex RLP."""
    encoded = [rlp.encode(node) for node in HexaryTrie(db, root).get_proof(key)]
    return [hexb(node) for i, node in enumerate(encoded) if i == 0 or len(node) >= 32]


def account_proof(
    db: DatabaseAPI, state_root: bytes, account: bytes, keys: Sequence[tuple[int, int]]
) -> dict[str, Any]:
    """The EIP-1186 answer for ``account`` and ``keys`` ((slot, input length) pairs)."""
    path = keccak(account)
    raw = HexaryTrie(db, state_root).get(path)
    state = rlp.decode(raw, sedes=Account) if raw else Account()
    storage = HexaryTrie(db, state.storage_root)
    storage_proof = []
    for slot, length in keys:
        word = slot.to_bytes(32, "big")
        stored = storage.get(keccak(word))
        storage_proof.append(
            {
                "key": hexb(word) if length == 32 else hex(slot),
                "value": hex(rlp.decode(stored, sedes=rlp.sedes.big_endian_int) if stored else 0),
                "proof": trie_proof(db, state.storage_root, keccak(word)),
            }
        )
    return {
        "address": hexb(account),
        "accountProof": trie_proof(db, state_root, path),
        "balance": hex(state.balance),
        "codeHash": hexb(state.code_hash),
        "nonce": hex(state.nonce),
        "storageHash": hexb(state.storage_root),
        "storageProof": storage_proof,
    }


def _header(ctx: RpcContext, ref: BlockRef | None) -> BlockHeaderAPI:
    if ref is not None and ref.hash is not None:
        block = ctx.node.block_by_hash(ref.hash)
        if block is None:
            raise ServerError(f"header for hash not found: 0x{ref.hash.hex()}")
        return block.header
    if ref is not None and ref.tag == "pending":
        ref = BlockRef(tag="latest")
    block = ctx.node.block_by_number(block_number_of(ctx, ref))
    if block is None:  # rewound by evm_revert between the two reads
        raise ServerError("header not found")
    return block.header


@METHODS.method("eth_getProof", address, storage_key_list, block_ref, required=1)
def get_proof(
    ctx: RpcContext, account: bytes, keys: list[str] | None, ref: BlockRef | None
) -> dict[str, Any]:
    keys = keys or []
    if len(keys) > MAX_PROOF_KEYS:
        raise InvalidParams(
            f"too many storage keys requested (max {MAX_PROOF_KEYS}, got {len(keys)})"
        )
    slots = [decode_storage_key(key) for key in keys]  # every key checked before any state read
    header = _header(ctx, ref)
    return account_proof(ctx.node.store, header.state_root, account, slots)
