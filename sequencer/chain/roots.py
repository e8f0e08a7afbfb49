"""Ordered-trie roots (transactions, receipts, withdrawals) built bottom-up in one pass.

A block's transactions and receipts roots are the roots of hexary Merkle-Patricia tries
keyed by ``rlp(index)``. py-evm computes them with py-trie (``make_trie_root_and_nodes``),
inserting item by item: each insert reads, decodes, re-encodes and re-hashes the nodes on
its path, so a block of 1,400 transfers spent a third of its sealing there. The keys of an
ordered trie are all known up front, so the trie can be built as geth's ``StackTrie`` and
reth's ``HashBuilder`` do: sort the keys, and encode every node once, children first. The
result is the same root and the same set of hashed nodes as py-trie's (a node whose
encoding has fewer than 32 bytes is embedded in its parent; the root is always hashed),
which ``tests/sequencer/chain/test_roots.py`` checks against py-trie on many lists.

:func:`ordered_trie_root_and_nodes` is a drop-in for py-evm's ``make_trie_root_and_nodes``;
it remembers the last few results by the identity of the items, so the builder, py-evm's
``validate_block`` and the state-transition function compute the roots of one block once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from operator import methodcaller
from typing import Any

from eth.constants import BLANK_ROOT_HASH
from eth_hash.auto import keccak
from eth_typing import Hash32

_BLANK = b"\x80"  # rlp(b"")
_CACHED = 8


def rlp_bytes(data: bytes) -> bytes:
    """rlp of a byte string."""
    n = len(data)
    if n == 1 and data[0] < 0x80:
        return data
    if n < 56:
        return bytes((0x80 + n,)) + data
    size = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes((0xB7 + len(size),)) + size + data


def rlp_int(value: int) -> bytes:
    """rlp of an unsigned integer (big-endian, no leading zeros; 0 is the empty string)."""
    if value < 0x80:  # nonces, indexes, flags: one byte (the encoders' hot path)
        return bytes((value,)) if value else b"\x80"
    data = value.to_bytes((value.bit_length() + 7) // 8, "big")
    if len(data) < 56:  # every uint256
        return bytes((0x80 + len(data),)) + data
    return rlp_bytes(data)


def rlp_list(payload: bytes) -> bytes:
    """rlp of a list whose items' encodings are ``payload``."""
    n = len(payload)
    if n < 56:
        return bytes((0xC0 + n,)) + payload
    size = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes((0xF7 + len(size),)) + size + payload


def _hex_prefix(nibbles: bytes, leaf: bool) -> bytes:
    flag = 2 if leaf else 0
    if len(nibbles) % 2:
        head, rest = bytes(((flag + 1) << 4 | nibbles[0],)), nibbles[1:]
    else:
        head, rest = bytes((flag << 4,)), nibbles
    return head + bytes(rest[i] << 4 | rest[i + 1] for i in range(0, len(rest), 2))


def _nibbles(key: bytes) -> bytes:
    return bytes(n for b in key for n in (b >> 4, b & 0x0F))


class _Builder:
    def __init__(self, items: list[tuple[bytes, bytes]]) -> None:
        self.items = items  # (key nibbles, value), sorted by key
        self.nodes: dict[Hash32, bytes] = {}

    def ref(self, encoded: bytes) -> bytes:
        """How a parent holds a child node: embedded under 32 bytes, else by hash."""
        if len(encoded) < 32:
            return encoded
        digest = Hash32(keccak(encoded))
        self.nodes[digest] = encoded
        return b"\xa0" + digest

    def node(self, lo: int, hi: int, depth: int) -> bytes:
        """The encoded node holding items ``lo:hi``, which share their first ``depth``
        nibbles."""
        items = self.items
        first = items[lo][0]
        if hi - lo == 1:
            return rlp_list(rlp_bytes(_hex_prefix(first[depth:], True)) + rlp_bytes(items[lo][1]))
        last = items[hi - 1][0]
        common, end = depth, min(len(first), len(last))
        while common < end and first[common] == last[common]:  # sorted: all share it
            common += 1
        if common > depth:
            child = self.ref(self.node(lo, hi, common))
            return rlp_list(rlp_bytes(_hex_prefix(first[depth:common], False)) + child)
        slots = [_BLANK] * 16
        value = _BLANK
        i = lo
        if len(first) == depth:  # a key that ends here (not in an ordered trie: rlp is
            value = rlp_bytes(items[i][1])  # prefix-free; kept for a general trie)
            i += 1
        while i < hi:
            nibble = items[i][0][depth]
            j = i + 1
            while j < hi and items[j][0][depth] == nibble:
                j += 1
            slots[nibble] = self.ref(self.node(i, j, depth + 1))
            i = j
        return rlp_list(b"".join(slots) + value)


def trie_root_and_nodes(pairs: Sequence[tuple[bytes, bytes]]) -> tuple[Hash32, dict[Hash32, bytes]]:
    """Root and hashed nodes of the trie holding ``pairs`` (distinct keys, non-empty
    values), as py-trie's ``HexaryTrie`` stores them."""
    if not pairs:
        return BLANK_ROOT_HASH, {}
    builder = _Builder(sorted((_nibbles(key), value) for key, value in pairs))
    encoded = builder.node(0, len(builder.items), 0)
    root = Hash32(keccak(encoded))
    builder.nodes[root] = encoded
    return root, builder.nodes


_cache: list[tuple[tuple[Any, ...], tuple[Hash32, dict[Hash32, bytes]]]] = []
_cache_lock = threading.Lock()


def ordered_trie_root_and_nodes(
    items: Sequence[Any], encode: Callable[[Any], bytes] = methodcaller("encode")
) -> tuple[Hash32, dict[Hash32, bytes]]:
    """Root and nodes of the trie of ``items`` (objects with ``encode()``: transactions,
    receipts, withdrawals) keyed by ``rlp(index)``: py-evm's ``make_trie_root_and_nodes``.
    ``encode``, when given, stands for the items' ``encode()`` (and must equal it).

    The last few results are kept by the identity of the items (the objects are
    immutable once in a block): sealing, ``validate_block`` and the state transition ask
    for the same lists. The nodes dict is shared; callers must not change it."""
    key = tuple(items)
    with _cache_lock:
        for cached, result in _cache:
            if len(cached) == len(key) and all(a is b for a, b in zip(cached, key)):
                return result
    result = trie_root_and_nodes([(rlp_int(index), encode(item)) for index, item in enumerate(key)])
    with _cache_lock:
        _cache.insert(0, (key, result))
        del _cache[_CACHED:]
    return result
