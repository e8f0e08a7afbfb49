"""The binary Merkle tree committing a block's inference receipts (``inferenceRoot``).

Leaves in block order; parent = ``keccak256(left ‖ right)``; an odd last node is carried
up unchanged (not duplicated, so no two leaf lists share a root by padding); the root of
no leaves is 32 zero bytes and the root of one leaf is the leaf.
"""

from __future__ import annotations

from collections.abc import Sequence

from .hashing import keccak
from .types import ZERO_HASH32, Hash32


def _next_level(level: Sequence[bytes]) -> list[bytes]:
    pairs = [bytes(keccak(level[i] + level[i + 1])) for i in range(0, len(level) - 1, 2)]
    if len(level) % 2:
        pairs.append(level[-1])
    return pairs


def merkle_root(leaves: Sequence[Hash32]) -> Hash32:
    """The root of ``leaves`` (zero hash for none)."""
    if not leaves:
        return ZERO_HASH32
    level = [bytes(leaf) for leaf in leaves]
    while len(level) > 1:
        level = _next_level(level)
    return Hash32(level[0])


def merkle_branch(leaves: Sequence[Hash32], index: int) -> list[Hash32]:
    """The sibling hashes from leaf ``index`` up to the root (levels where the node is
    carried up contribute no sibling)."""
    if not 0 <= index < len(leaves):
        raise IndexError(f"leaf index {index} out of range for {len(leaves)} leaves")
    branch: list[Hash32] = []
    level = [bytes(leaf) for leaf in leaves]
    while len(level) > 1:
        sibling = index ^ 1
        if sibling < len(level):
            branch.append(Hash32(level[sibling]))
        level = _next_level(level)
        index //= 2
    return branch


def verify_merkle_branch(
    leaf: Hash32, branch: Sequence[Hash32], index: int, root: Hash32, leaf_count: int
) -> bool:
    """Whether ``branch`` proves ``leaf`` is leaf ``index`` of a ``leaf_count``-leaf tree."""
    if not 0 <= index < leaf_count or len(leaf) != 32:
        return False
    node, width, used = bytes(leaf), leaf_count, 0
    while width > 1:
        sibling = index ^ 1
        if sibling < width:
            if used >= len(branch) or len(branch[used]) != 32:
                return False
            pair = (node, bytes(branch[used])) if index % 2 == 0 else (bytes(branch[used]), node)
            node = keccak(pair[0] + pair[1])
            used += 1
        index //= 2
        width = (width + 1) // 2
    return used == len(branch) and node == bytes(root)
