"""Ethereum's Merkle-Patricia trie, as a verifier sees it: proofs walked, roots computed.

This is the check a light client runs on what a node says (``eth_getProof`` answers, a
block's transactions and receipts); it is written from the Yellow Paper (appendix D) and
shares no code with the node's trie (py-trie), so a bug there cannot hide itself here.

- A node is RLP: a *branch* of 17 items (16 children by nibble, then a value), or a pair
  ``[hex-prefix(path, leaf?), value-or-child]`` (*leaf* or *extension*).
- A child is referenced by the keccak256 of its RLP, or embedded as is when its RLP is
  shorter than 32 bytes; the empty child is ``b""``. The root is always a hash.
- A proof is the list of RLP nodes on the path from the root to the key; for a key that
  is absent, the path up to where it leaves the trie (an *exclusion* proof). The empty
  trie (root ``EMPTY_TRIE_ROOT``) is proven by an empty proof.

Malformed input raises :class:`~.errors.InvalidProof` naming what did not hold; nothing
here raises anything else on bytes from the network.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Final

import rlp
from rlp.exceptions import DecodingError

from .errors import InvalidProof
from .hashing import keccak
from .types import Hash32

EMPTY_TRIE_ROOT: Final = keccak(rlp.encode(b""))
"""``0x56e81f17…b421``: the root of a trie without keys."""

Node = list  # a decoded node: 17 items (branch) or 2 (leaf / extension); items bytes or lists


def nibbles(key: bytes) -> bytes:
    """``key`` as one nibble per byte, high nibble first."""
    return bytes(n for b in key for n in (b >> 4, b & 0x0F))


def _hex_prefix_decode(encoded: bytes) -> tuple[bytes, bool]:
    """The nibble path and leaf flag of a leaf/extension node's first item."""
    if not encoded:
        raise InvalidProof("a leaf or extension node has an empty path")
    path = nibbles(encoded)
    flag = path[0]
    if flag > 3 or (flag in (0, 2) and path[1] != 0):
        raise InvalidProof(f"a node path has the invalid hex-prefix 0x{encoded[:1].hex()}")
    return path[2 - (flag & 1) :], flag >= 2


def _hex_prefix_encode(path: bytes, leaf: bool) -> bytes:
    flag = 2 * leaf + len(path) % 2
    full = bytes([flag]) + path if len(path) % 2 else bytes([flag, 0]) + path
    return bytes(full[i] << 4 | full[i + 1] for i in range(0, len(full), 2))


def _decode_node(encoded: bytes) -> Node | None:
    """A proof node decoded and its shape checked; ``None`` for the empty node (``0x80``)."""
    try:
        node = rlp.decode(encoded, strict=True)
    except DecodingError as exc:
        raise InvalidProof(f"a proof node is not RLP: {exc}") from None
    if node == b"":
        return None
    _check_node(node)
    return node


def _check_node(node: object) -> None:
    if not isinstance(node, list) or len(node) not in (2, 17):
        raise InvalidProof("a proof node is neither a branch (17 items) nor a leaf/extension (2)")
    if len(node) == 17 and not isinstance(node[16], bytes):
        raise InvalidProof("a branch node's value is not a byte string")


def verify_trie_proof(root: bytes, key: bytes, proof: Sequence[bytes]) -> bytes | None:
    """The value stored under ``key`` in the trie with ``root``, as ``proof`` proves it.

    Returns the value's bytes, or ``None`` when the proof shows the key is absent. Raises
    :class:`InvalidProof` when the proof does not lead from ``root`` to an answer: a node
    missing or altered (its hash is not the reference), a malformed node, or nodes the
    path does not use (a proof carries exactly the path).
    """
    if len(root) != 32:
        raise InvalidProof(f"a trie root is 32 bytes, not {len(root)}")
    by_hash = {bytes(keccak(bytes(node))): bytes(node) for node in proof}
    path, used = nibbles(key), set[bytes]()
    ref: bytes | Node = bytes(root)
    position = 0
    while True:
        if isinstance(ref, list):  # embedded child: part of its parent, already hashed with it
            node = ref
            _check_node(node)
        elif ref == b"":
            return _answer(None, used, by_hash)
        elif len(ref) == 32:
            if ref == EMPTY_TRIE_ROOT and ref not in by_hash:
                return _answer(None, used, by_hash)
            found = by_hash.get(ref)
            if found is None:
                raise InvalidProof(
                    f"the proof lacks the node with hash 0x{ref.hex()} "
                    f"(at nibble {position} of the key's path): a node is missing or was altered"
                )
            used.add(ref)
            decoded = _decode_node(found)
            if decoded is None:
                return _answer(None, used, by_hash)  # the empty trie, sent as its one node
            node = decoded
        else:
            raise InvalidProof(f"a child reference has {len(ref)} bytes (want 32, or embedded)")

        if len(node) == 17:
            if position == len(path):
                return _answer(node[16] or None, used, by_hash)
            ref = node[path[position]]
            position += 1
            continue
        segment, leaf = _hex_prefix_decode(node[0])
        if leaf:
            here = path[position:] == segment
            if here and not isinstance(node[1], bytes):
                raise InvalidProof("a leaf node's value is not a byte string")
            return _answer(node[1] if here else None, used, by_hash)
        if path[position : position + len(segment)] != segment:
            return _answer(None, used, by_hash)  # the key leaves the trie inside the extension
        if not segment:
            raise InvalidProof("an extension node has an empty path")
        position += len(segment)
        ref = node[1]


def _answer(value: bytes | None, used: set[bytes], by_hash: Mapping[bytes, bytes]) -> bytes | None:
    extra = len(by_hash) - len(used)
    if extra:
        raise InvalidProof(f"the proof carries {extra} node(s) that are not on the key's path")
    if value is not None and not value:
        raise InvalidProof("the trie stores an empty value, which a valid trie never does")
    return value


# --- roots --------------------------------------------------------------------------------


def _reference(node: object) -> object:
    """How a parent refers to ``node``: embedded when its RLP is short, else its hash."""
    if node == b"":
        return b""
    encoded = rlp.encode(node)
    return node if len(encoded) < 32 else keccak(encoded)


def _subtrie(items: Sequence[tuple[bytes, bytes]], depth: int) -> object:
    """The node holding ``items`` (nibble paths, values) whose paths agree on ``depth`` nibbles."""
    if not items:
        return b""
    if len(items) == 1:
        path, value = items[0]
        return [_hex_prefix_encode(path[depth:], True), value]
    first = items[0][0]
    shared = len(first) - depth
    for path, _ in items[1:]:
        limit = min(shared, len(path) - depth)
        shared = next((i for i in range(limit) if path[depth + i] != first[depth + i]), limit)
        if shared == 0:
            break
    if shared:
        child = _subtrie(items, depth + shared)
        return [_hex_prefix_encode(first[depth : depth + shared], False), _reference(child)]
    buckets: list[list[tuple[bytes, bytes]]] = [[] for _ in range(16)]
    value = b""
    for path, item_value in items:
        if len(path) == depth:
            value = item_value
        else:
            buckets[path[depth]].append((path, item_value))
    return [_reference(_subtrie(bucket, depth + 1)) for bucket in buckets] + [value]


def trie_root(items: Mapping[bytes, bytes] | Iterable[tuple[bytes, bytes]]) -> Hash32:
    """The root of the trie holding ``items`` (key -> non-empty value bytes)."""
    pairs = items.items() if isinstance(items, Mapping) else items
    table = {nibbles(bytes(k)): bytes(v) for k, v in pairs if v}
    if not table:
        return EMPTY_TRIE_ROOT
    return keccak(rlp.encode(_subtrie(sorted(table.items()), 0)))


def ordered_trie_root(values: Sequence[bytes]) -> Hash32:
    """A block's ``transactionsRoot``/``receiptsRoot``: value ``i`` under key ``rlp(i)``."""
    return trie_root((rlp.encode(i), bytes(v)) for i, v in enumerate(values))
