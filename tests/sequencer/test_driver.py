"""The block-time loop: blocks come on their own, with increasing timestamps, never empty
unless configured."""

from __future__ import annotations

import itertools
import time
from pathlib import Path

import pytest

from sequencer.node import Node

from .helpers import dev_keys, make_config, sign

pytestmark = pytest.mark.slow  # real threads and sleeps

BLOCK_TIME = 0.1


def wait_for(predicate, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_transactions_are_mined_without_asking_and_idle_chain_stays_put(tmp_path: Path) -> None:
    node = Node(make_config(tmp_path, block_time=BLOCK_TIME))
    node.start()
    try:
        keys = dev_keys(node.config)
        hashes = [node.send_raw_transaction(sign(key, 0)) for _, key in keys[:3]]
        wait_for(lambda: all(not node.transaction(h).pending for h in hashes))
        head = node.head().number
        time.sleep(BLOCK_TIME * 5)
        assert node.head().number == head  # idle: no empty blocks
        node.send_raw_transaction(sign(keys[0][1], 1))
        wait_for(lambda: node.head().number == head + 1)
        stamps = [node.block_by_number(n).header.timestamp for n in range(node.head().number + 1)]
        assert all(a < b for a, b in itertools.pairwise(stamps))
    finally:
        node.stop()


def test_empty_blocks_when_configured(tmp_path: Path) -> None:
    node = Node(make_config(tmp_path, block_time=BLOCK_TIME, empty_blocks=True))
    node.start()
    try:
        wait_for(lambda: node.head().number >= 5)
        stamps = [node.block_by_number(n).header.timestamp for n in range(6)]
        # sub-second block times still get strictly increasing (whole-second) timestamps
        assert all(a < b for a, b in itertools.pairwise(stamps))
    finally:
        node.stop()


def test_stop_ends_the_loop(tmp_path: Path) -> None:
    config = make_config(tmp_path, block_time=BLOCK_TIME, empty_blocks=True)
    node = Node(config)
    node.start()
    wait_for(lambda: node.head().number >= 1)
    node.stop()
    reopened = Node(config)
    head = reopened.head().number
    time.sleep(BLOCK_TIME * 4)
    assert reopened.head().number == head  # nothing started the old loop again
    reopened.stop()


def test_the_open_block_follows_dev_methods_and_loses_nothing_on_stop(tmp_path: Path) -> None:
    """The loop executes a transaction into its open block as soon as it arrives; a block
    mined meanwhile (evm_mine) or a clock moved forward (evm_increaseTime) makes it build
    that block again on the new head and clock, and a stop before the tick leaves the
    transaction pooled, not lost."""
    config = make_config(tmp_path, block_time=3.0)  # a long open window
    node = Node(config)
    node.start()
    try:
        keys = dev_keys(node.config)
        first = node.send_raw_transaction(sign(keys[0][1], 0))
        wait_for(lambda: node.driver.open_transactions == 1)  # executed long before its tick
        mined = node.mine()  # evm_mine takes it first
        assert [tx.hash for tx in mined.transactions] == [first]
        offset = node.increase_time(1_000)
        second = node.send_raw_transaction(sign(keys[0][1], 1))
        wait_for(lambda: not node.transaction(second).pending, timeout=10)
        assert node.head().number == mined.number + 1  # the stale block was not committed
        assert [tx.hash for tx in node.head().transactions] == [second]
        assert node.head().header.timestamp >= int(time.time()) + offset - 5
        third = node.send_raw_transaction(sign(keys[0][1], 2))
        wait_for(lambda: node.driver.open_transactions == 1)
    finally:
        node.stop()  # before the tick: the open block is dropped, its transaction kept
    reopened = Node(config)
    try:
        assert reopened.transaction(third).pending
        assert [tx.hash for tx in reopened.mine().transactions] == [third]
    finally:
        reopened.stop()
