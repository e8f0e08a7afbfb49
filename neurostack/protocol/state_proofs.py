"""Account and storage proofs (EIP-1186, ``eth_getProof``) checked against a state root.

The state trie maps ``keccak256(address)`` to ``rlp([nonce, balance, storageRoot,
codeHash])``; an account's storage trie maps ``keccak256(uint256 slot)`` to
``rlp(value)`` (zero values are not stored). Both checks are pure: they take the root
from a header the caller has verified and the proof nodes a node sent, and return what
the proof establishes, or raise :class:`~.errors.InvalidProof`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import rlp
from rlp.exceptions import DeserializationError, RLPException
from rlp.sedes import Binary, List, big_endian_int

from .errors import InvalidProof
from .hashing import keccak
from .mpt import EMPTY_TRIE_ROOT, verify_trie_proof
from .types import Hash32

EMPTY_CODE_HASH: Final = keccak(b"")
"""``0xc5d24601…a470``: the code hash of an account without code."""

_ACCOUNT = List([big_endian_int, big_endian_int, Binary.fixed_length(32), Binary.fixed_length(32)])


@dataclass(frozen=True)
class Account:
    """An account as the state trie stores it."""

    nonce: int
    balance: int
    storage_root: Hash32
    code_hash: Hash32


EMPTY_ACCOUNT: Final = Account(0, 0, EMPTY_TRIE_ROOT, EMPTY_CODE_HASH)
"""What an absent account reads as (EIP-161 empty account)."""


def verify_account_proof(state_root: bytes, address: bytes, proof: Sequence[bytes]) -> Account:
    """The account at ``address`` in the state with ``state_root``, proven by ``proof``.

    An absent account (an exclusion proof) is returned as :data:`EMPTY_ACCOUNT`; use
    :func:`account_exists` to tell them apart.
    """
    if len(address) != 20:
        raise InvalidProof(f"an address is 20 bytes, not {len(address)}")
    value = verify_trie_proof(state_root, keccak(bytes(address)), proof)
    if value is None:
        return EMPTY_ACCOUNT
    try:
        nonce, balance, storage_root, code_hash = rlp.decode(value, sedes=_ACCOUNT, strict=True)
    except (RLPException, DeserializationError) as exc:
        raise InvalidProof(f"the proven account is not an RLP account: {exc}") from None
    return Account(nonce, balance, Hash32(storage_root), Hash32(code_hash))


def account_exists(state_root: bytes, address: bytes, proof: Sequence[bytes]) -> bool:
    """Whether ``proof`` shows an account at ``address`` (``False``: an exclusion proof)."""
    return verify_trie_proof(state_root, keccak(bytes(address)), proof) is not None


def storage_key(slot: int) -> bytes:
    """The storage trie key of ``slot``: ``keccak256`` of the slot as a 32-byte word."""
    if not 0 <= slot < 2**256:
        raise InvalidProof(f"a storage slot is a 256-bit word, not {slot}")
    return keccak(slot.to_bytes(32, "big"))


def verify_storage_proof(storage_root: bytes, slot: int, proof: Sequence[bytes]) -> int:
    """The word stored at ``slot`` under ``storage_root`` (an account's ``storageHash``),
    proven by ``proof``; 0 when the proof shows the slot is empty."""
    value = verify_trie_proof(storage_root, storage_key(slot), proof)
    if value is None:
        return 0
    try:
        word = rlp.decode(value, sedes=big_endian_int, strict=True)
    except (RLPException, DeserializationError) as exc:
        raise InvalidProof(f"the proven storage value is not an RLP integer: {exc}") from None
    if not 0 < word < 2**256:
        raise InvalidProof(f"the proven storage value {word} is not a non-zero 256-bit word")
    return int(word)
