"""The fast keccak256 eth-hash uses in the node gives eth-hash's own results, on any thread."""

from __future__ import annotations

import os
import threading

from eth_hash.auto import keccak
from eth_hash.backends import pycryptodome
from eth_utils import keccak as eth_utils_keccak

from neurostack.protocol import fast_keccak


def test_installed_and_equal_to_eth_hash_backend_on_random_inputs_from_many_threads() -> None:
    assert fast_keccak.install()
    assert keccak.hasher.__module__ == fast_keccak.__name__  # the installed hasher is ours
    assert eth_utils_keccak(b"").hex() == (
        "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"
    )
    inputs = [os.urandom(n) for n in range(0, 700, 7)] + [os.urandom(20_000)]
    expected = [pycryptodome.keccak256(data) for data in inputs]
    failures: list[int] = []

    def hash_all() -> None:  # each thread its own state: interleaving must not mix them
        for _ in range(20):
            for i, data in enumerate(inputs):
                if eth_utils_keccak(data) != expected[i] or keccak(bytearray(data)) != expected[i]:
                    failures.append(i)

    threads = [threading.Thread(target=hash_all) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
