"""The one-pass ordered-trie builder gives py-trie's root and nodes (sequencer/chain/roots.py)."""

from __future__ import annotations

import random

import pytest
import rlp
from eth.constants import BLANK_ROOT_HASH
from trie import HexaryTrie

from sequencer.chain.roots import ordered_trie_root_and_nodes, trie_root_and_nodes


def py_trie(pairs: list[tuple[bytes, bytes]]) -> tuple[bytes, dict[bytes, bytes]]:
    store: dict[bytes, bytes] = {}
    trie = HexaryTrie(store, BLANK_ROOT_HASH)
    with trie.squash_changes() as memory:
        for key, value in pairs:
            memory[key] = value
    return trie.root_hash, store


def values(rng: random.Random, count: int) -> list[bytes]:
    # sizes around the limits that matter: a 1-byte value < 0x80 encodes as itself, nodes
    # under 32 bytes are embedded in their parent, strings and lists of 56+ bytes take a
    # long rlp prefix
    sizes = (1, 2, 5, 20, 31, 32, 55, 56, 100, 300)
    return [rng.randbytes(rng.choice(sizes)) or b"\x01" for _ in range(count)]


@pytest.mark.parametrize("count", [0, 1, 2, 3, 15, 16, 17, 127, 128, 129, 255, 256, 257, 1000])
def test_ordered_roots_match_py_trie(count: int) -> None:
    rng = random.Random(count)
    for _ in range(3 if count < 1000 else 1):
        pairs = [(rlp.encode(i), v) for i, v in enumerate(values(rng, count))]
        assert trie_root_and_nodes(pairs) == py_trie(pairs)


def test_small_values_embed_nodes() -> None:
    # one-byte values: every leaf is embedded in its branch, as py-trie does
    for count in (2, 17, 130):
        pairs = [(rlp.encode(i), bytes((i % 0x7F + 1,))) for i in range(count)]
        assert trie_root_and_nodes(pairs) == py_trie(pairs)


def test_arbitrary_keys_match_py_trie() -> None:
    rng = random.Random(7)
    for count in (1, 2, 10, 200):
        keys = {rng.randbytes(rng.choice((1, 2, 3, 32))) for _ in range(count)}
        pairs = [(k, v) for k, v in zip(sorted(keys), values(rng, len(keys)), strict=True)]
        rng.shuffle(pairs)
        assert trie_root_and_nodes(pairs) == py_trie(pairs)


class Item:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def encode(self) -> bytes:
        return self.data


def test_items_by_identity() -> None:
    items = [Item(bytes((i,)) * 40) for i in range(5)]
    first = ordered_trie_root_and_nodes(items)
    assert first[0] == py_trie([(rlp.encode(i), x.data) for i, x in enumerate(items)])[0]
    assert ordered_trie_root_and_nodes(list(items)) is first  # the same objects: cached
    other = [Item(bytes((i,)) * 40) for i in range(4)] + [Item(b"\x09" * 40)]
    assert ordered_trie_root_and_nodes(other)[0] != first[0]  # equal lengths, new objects
