"""The engine: every block this suite builds passes the state-transition function before it
is committed; a block that does not is refused with nothing written; a follower's engine
imports published blocks with their witness records."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest

from sequencer.chain import Check, InvalidResult
from sequencer.node import VERIFY_ENV, Node

from .helpers import RECIPIENT, dev_keys, make_config, sign


def test_this_suite_verifies_every_block_it_builds(node: Node) -> None:
    assert os.environ.get(VERIFY_ENV) == "1"
    assert node.driver.verify_built_blocks


def _verifies(config, **kwargs) -> bool:
    node = Node(config, **kwargs)
    node.stop()
    return node.driver.verify_built_blocks


def test_verify_built_blocks_is_a_node_setting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert not _verifies(make_config(tmp_path / "a"), verify_built_blocks=False)
    monkeypatch.delenv(VERIFY_ENV)
    assert not _verifies(make_config(tmp_path / "b"))  # off by default: it doubles block cost
    config = make_config(tmp_path / "c")
    config.sequencer.verify_built_blocks = True
    assert _verifies(config)


def test_invalid_built_block_is_refused_before_commit(
    node: Node, monkeypatch: pytest.MonkeyPatch
) -> None:
    build = node.engine.build

    def wrong_state_root(*args, **kwargs):  # a builder bug the STF must catch
        built = build(*args, **kwargs)
        block = built.executed.block
        bad = block.copy(header=block.header.copy(state_root=b"\x09" * 32))
        return dataclasses.replace(built, executed=dataclasses.replace(built.executed, block=bad))

    monkeypatch.setattr(node.engine, "build", wrong_state_root)
    _, key = dev_keys(node.config)[0]
    tx_hash = node.send_raw_transaction(sign(key, 0))
    with pytest.raises(InvalidResult) as caught:
        node.mine()
    assert caught.value.check is Check.STATE_ROOT and caught.value.block_number == 1
    assert node.head().number == 0  # nothing committed
    assert node.transaction(tx_hash).pending
    monkeypatch.undo()
    assert [tx.hash for tx in node.mine().transactions] == [tx_hash]


def test_a_follower_engine_imports_published_blocks(tmp_path: Path) -> None:
    sequencer = Node(make_config(tmp_path / "sequencer"))
    follower = Node(make_config(tmp_path / "follower"), dev_methods=False)
    try:
        keys = dev_keys(sequencer.config)
        for n in range(3):
            sequencer.send_raw_transaction(sign(keys[n][1], 0, value=n + 1))
            sequencer.mine()
        seen: list[int] = []
        follower.add_block_listener(lambda block, receipts: seen.append(block.number))
        for number in range(1, 4):
            block = sequencer.block_by_number(number)
            witness = sequencer.engine.records.load(block.hash).receipts
            executed = follower.engine.import_block(block, witness)
            assert executed.block.hash == block.hash
        assert follower.head().hash == sequencer.head().hash
        assert seen == [1, 2, 3]
        assert follower.state_at(3).get_balance(RECIPIENT) == 6
    finally:
        sequencer.stop()
        follower.stop()
