"""The receipts Merkle tree: roots and branches for 1..9 leaves."""

from __future__ import annotations

import pytest

from neurostack.protocol import (
    ZERO_HASH32,
    keccak,
    merkle_branch,
    merkle_root,
    verify_merkle_branch,
)


def leaves(n: int) -> list[bytes]:
    return [keccak(bytes([i])) for i in range(n)]


def h(a: bytes, b: bytes) -> bytes:
    return keccak(a + b)


def test_small_roots_follow_the_documented_rule() -> None:
    a, b, c = leaves(3)
    assert merkle_root([]) == ZERO_HASH32
    assert merkle_root([a]) == a
    assert merkle_root([a, b]) == h(a, b)
    assert merkle_root([a, b, c]) == h(h(a, b), c)  # odd last node carried up
    d, e = keccak(b"d"), keccak(b"e")
    assert merkle_root([a, b, c, d, e]) == h(h(h(a, b), h(c, d)), e)


@pytest.mark.parametrize("n", range(1, 10))
def test_every_branch_verifies_and_nothing_else_does(n: int) -> None:
    ls = leaves(n)
    root = merkle_root(ls)
    for i in range(n):
        branch = merkle_branch(ls, i)
        assert verify_merkle_branch(ls[i], branch, i, root, n)
        other = (i + 1) % n
        if n > 1:
            assert not verify_merkle_branch(ls[other], branch, i, root, n)
            assert not verify_merkle_branch(ls[i], branch, other, root, n)
        assert not verify_merkle_branch(ls[i], branch, i, keccak(root), n)
        if branch:
            assert not verify_merkle_branch(ls[i], branch[:-1], i, root, n)
            bad = [keccak(branch[0]), *branch[1:]]
            assert not verify_merkle_branch(ls[i], bad, i, root, n)
        assert not verify_merkle_branch(ls[i], [*branch, ls[0]], i, root, n)


def test_padding_does_not_collide() -> None:
    a, b, c = leaves(3)
    assert merkle_root([a, b, c]) != merkle_root([a, b, c, c])


def test_invalid_branch_index() -> None:
    with pytest.raises(IndexError):
        merkle_branch(leaves(2), 2)
    assert not verify_merkle_branch(leaves(1)[0], [], 1, leaves(1)[0], 1)
