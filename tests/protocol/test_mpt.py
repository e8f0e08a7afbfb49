"""The independent Merkle-Patricia verifier against py-trie (the node's trie) as the oracle:
same roots, proofs of present and absent keys accepted, every kind of tampering refused."""

from __future__ import annotations

import pytest
import rlp
from hypothesis import given, settings
from hypothesis import strategies as st
from trie import HexaryTrie

from neurostack.protocol.errors import InvalidProof
from neurostack.protocol.hashing import keccak
from neurostack.protocol.mpt import (
    EMPTY_TRIE_ROOT,
    ordered_trie_root,
    trie_root,
    verify_trie_proof,
)
from neurostack.protocol.state_proofs import (
    EMPTY_ACCOUNT,
    EMPTY_CODE_HASH,
    Account,
    account_exists,
    verify_account_proof,
    verify_storage_proof,
)

keys = st.binary(min_size=1, max_size=4)  # short keys: prefixes, embedded nodes, extensions
values = st.binary(min_size=1, max_size=48)


def proof_of(trie: HexaryTrie, key: bytes) -> list[bytes]:
    """What a geth-style node sends: hashed nodes only (embedded ones travel in their parent)."""
    encoded = [rlp.encode(node) for node in trie.get_proof(key)]
    return [e for i, e in enumerate(encoded) if i == 0 or len(e) >= 32]


def build(items: dict[bytes, bytes]) -> HexaryTrie:
    trie = HexaryTrie({})
    for k, v in items.items():
        trie[k] = v
    return trie


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(keys, values, max_size=24), st.lists(keys, max_size=6))
def test_roots_and_proofs_agree_with_py_trie(
    items: dict[bytes, bytes], absent: list[bytes]
) -> None:
    trie = build(items)
    assert trie_root(items) == trie.root_hash
    for key in [*items, *absent]:
        assert verify_trie_proof(trie.root_hash, key, proof_of(trie, key)) == items.get(key)


def test_ordered_root_is_a_blocks_transactions_root() -> None:
    values_ = [
        bytes([i % 256]) * (i % 50 + 1) for i in range(300)
    ]  # keys rlp(0)=0x80 .. rlp(299)=0x82012b
    trie = build({rlp.encode(i): v for i, v in enumerate(values_)})
    assert ordered_trie_root(values_) == trie.root_hash
    assert ordered_trie_root([]) == EMPTY_TRIE_ROOT == keccak(b"\x80")


@pytest.fixture(scope="module")
def hashed() -> tuple[HexaryTrie, dict[bytes, bytes]]:
    items = {keccak(i.to_bytes(2, "big")): rlp.encode(i * 7919 + 1) for i in range(200)}
    return build(items), items


def test_invalid_proof_with_an_altered_node_is_refused(hashed: tuple[HexaryTrie, dict]) -> None:
    trie, items = hashed
    key = next(iter(items))
    proof = proof_of(trie, key)
    for i in range(len(proof)):
        for position in (0, len(proof[i]) // 2, len(proof[i]) - 1):
            tampered = list(proof)
            node = bytearray(tampered[i])
            node[position] ^= 0x01
            tampered[i] = bytes(node)
            with pytest.raises(InvalidProof):
                verify_trie_proof(trie.root_hash, key, tampered)


def test_invalid_proof_missing_or_padded_or_for_another_root(
    hashed: tuple[HexaryTrie, dict],
) -> None:
    trie, items = hashed
    first, second = list(items)[:2]
    proof = proof_of(trie, first)
    with pytest.raises(InvalidProof, match="lacks the node"):
        verify_trie_proof(trie.root_hash, first, proof[:-1])
    with pytest.raises(InvalidProof, match="not on the key's path"):
        verify_trie_proof(trie.root_hash, first, [*proof, *proof_of(trie, second)[-1:]])
    with pytest.raises(InvalidProof, match="lacks the node"):
        verify_trie_proof(keccak(b"another root"), first, proof)
    with pytest.raises(InvalidProof):
        verify_trie_proof(trie.root_hash, first, [b"\xff\x00"])  # not RLP
    with pytest.raises(InvalidProof):
        verify_trie_proof(trie.root_hash[:31], first, proof)


def test_a_proof_for_one_key_does_not_prove_another(hashed: tuple[HexaryTrie, dict]) -> None:
    trie, items = hashed
    first, second = list(items)[:2]
    # Walking `second` through `first`'s path leaves the proof at a node it does not carry.
    with pytest.raises(InvalidProof):
        verify_trie_proof(trie.root_hash, second, proof_of(trie, first))


def test_exclusion_proofs_of_absent_keys(hashed: tuple[HexaryTrie, dict]) -> None:
    trie, _ = hashed
    for i in range(50):
        key = keccak(b"absent" + bytes([i]))
        assert verify_trie_proof(trie.root_hash, key, proof_of(trie, key)) is None
    assert verify_trie_proof(EMPTY_TRIE_ROOT, keccak(b"x"), []) is None
    assert verify_trie_proof(EMPTY_TRIE_ROOT, keccak(b"x"), [b"\x80"]) is None


# --- accounts and storage (EIP-1186) -------------------------------------------------------


def state_with(accounts: dict[bytes, Account]) -> HexaryTrie:
    return build(
        {
            keccak(a): rlp.encode([x.nonce, x.balance, x.storage_root, x.code_hash])
            for a, x in accounts.items()
        }
    )


def test_account_and_storage_proofs() -> None:
    storage = build({keccak(s.to_bytes(32, "big")): rlp.encode(s * 3) for s in range(1, 40)})
    alice, bob, nobody = b"\xaa" * 20, b"\xbb" * 20, b"\xcc" * 20
    accounts = {
        alice: Account(5, 10**18, EMPTY_TRIE_ROOT, EMPTY_CODE_HASH),
        bob: Account(1, 0, storage.root_hash, keccak(b"\xfe")),
    }
    state = state_with(accounts)
    for address, account in accounts.items():
        proof = proof_of(state, keccak(address))
        assert verify_account_proof(state.root_hash, address, proof) == account
        assert account_exists(state.root_hash, address, proof)
    absent = proof_of(state, keccak(nobody))
    assert verify_account_proof(state.root_hash, nobody, absent) == EMPTY_ACCOUNT
    assert not account_exists(state.root_hash, nobody, absent)
    for slot in (1, 7, 39):
        key = keccak(slot.to_bytes(32, "big"))
        assert verify_storage_proof(storage.root_hash, slot, proof_of(storage, key)) == 3 * slot
    empty = keccak((1000).to_bytes(32, "big"))
    assert verify_storage_proof(storage.root_hash, 1000, proof_of(storage, empty)) == 0
    assert verify_storage_proof(EMPTY_TRIE_ROOT, 5, []) == 0


def test_invalid_storage_values_are_refused() -> None:
    for bad in (b"\x80", b"\x00", rlp.encode(b"\x00\x01")):  # a stored zero, non-RLP, leading 0
        trie = build({keccak((1).to_bytes(32, "big")): bad})
        with pytest.raises(InvalidProof):
            verify_storage_proof(trie.root_hash, 1, proof_of(trie, keccak((1).to_bytes(32, "big"))))
    trie = build({keccak(b"\x01" * 20): b"\xc3\x01\x02\x03"})  # 3 items, not an account
    with pytest.raises(InvalidProof, match="not an RLP account"):
        verify_account_proof(trie.root_hash, b"\x01" * 20, proof_of(trie, keccak(b"\x01" * 20)))
