"""Blocks keep their time and ordinary transactions keep flowing while inference is pending."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from eth_abi import encode

from neurostack.solidity import CompiledContract

from .kit import MODEL_CID, open_pipe, selector

BLOCK_TIME = 0.25
pytestmark = pytest.mark.slow  # runs the block producer for a few seconds


def test_transfers_flow_while_a_model_call_is_parked_and_only_its_sender_waits(
    tmp_path: Path, consumer_abi: CompiledContract
) -> None:
    pipe = open_pipe(tmp_path, block_time=BLOCK_TIME)
    try:
        consumer = pipe.deploy(consumer_abi, ["string", "uint8"], ["x", 0])
        pipe.node.start()
        alice, bob, carol = pipe.wallets[1:4]
        data = selector(consumer_abi, "predict") + encode(
            ["string", "int128[]", "int128"], [MODEL_CID, [8], 0]
        )
        parked = alice.send(consumer, data)
        held = alice.send(carol.address, b"", gas=21_000, value=1)  # alice's next nonce

        for _ in range(4):  # each of bob's transfers lands within a few block times
            sent = time.monotonic()
            tx_hash = bob.send(carol.address, b"", gas=21_000, value=1)
            while pipe.node.transaction(tx_hash).pending:
                assert time.monotonic() - sent < 6 * BLOCK_TIME, "a block waited for inference"
                time.sleep(0.02)
        assert pipe.status(parked) == "dispatched"
        assert pipe.node.transaction(parked).pending and pipe.node.transaction(held).pending

        pipe.backend.answer()  # the model answers: alice's two transactions follow, in order
        end = time.monotonic() + 20 * BLOCK_TIME
        while pipe.node.transaction(held).pending and time.monotonic() < end:
            time.sleep(0.02)
        first, second = pipe.node.transaction(parked), pipe.node.transaction(held)
        assert not second.pending
        assert (first.block_number, first.index) < (second.block_number, second.index)
    finally:
        pipe.close()
