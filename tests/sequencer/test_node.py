"""The node facade: reads, tags, tx types and receipts, restart, dev methods, listeners."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from eth_utils import keccak

from sequencer.errors import (
    BlockNotFound,
    ConfigError,
    DevMethodsDisabled,
    InvalidBlockTimestamp,
)
from sequencer.node import Node
from sequencer.types import CallParams

from .helpers import GWEI, RECIPIENT, dev_keys, make_config, sign


def test_transaction_types_0_1_2_are_mined_with_correct_receipts(node: Node) -> None:
    keys = dev_keys(node.config)
    base_fee = node.head().header.base_fee_per_gas * 7 // 8  # block 1: empty genesis parent
    hashes = [
        node.send_raw_transaction(sign(keys[0][1], 0, tx_type=0, value=10)),
        node.send_raw_transaction(sign(keys[1][1], 0, tx_type=1, value=20)),
        node.send_raw_transaction(
            sign(keys[2][1], 0, value=30, maxFeePerGas=3 * GWEI, maxPriorityFeePerGas=GWEI)
        ),
    ]
    block = node.mine()
    assert block.header.base_fee_per_gas == base_fee
    assert sorted(tx.hash for tx in block.transactions) == sorted(hashes)
    assert {tx.type_id or 0 for tx in block.transactions} == {0, 1, 2}
    receipts = node.receipts(block)
    assert [r.state_root for r in receipts] == [b"\x01"] * 3  # post-Byzantium: status
    assert [r.gas_used for r in receipts] == [21_000, 42_000, 63_000]  # cumulative
    state = node.state_at(block.number)
    assert state.get_balance(RECIPIENT) == 60
    # each sender paid value + 21000 * effective gas price
    start = node.config.dev.balance
    assert state.get_balance(keys[0][0]) == start - 10 - 21_000 * 2 * GWEI
    assert state.get_balance(keys[2][0]) == start - 30 - 21_000 * (base_fee + GWEI)
    # the tips went to the coinbase (zero address: no key file), the base fee was burnt
    tips = 21_000 * ((2 * GWEI - base_fee) * 2 + GWEI)
    assert state.get_balance(node.coinbase) == tips
    for index, tx_hash in enumerate(tx.hash for tx in block.transactions):
        lookup = node.transaction(tx_hash)
        assert (lookup.block_number, lookup.block_hash, lookup.index) == (1, block.hash, index)


def test_block_header_fields(node: Node) -> None:
    genesis = node.head()
    block = node.mine()
    assert block.header.parent_hash == genesis.hash
    assert block.header.extra_data == b"\x00" * 32
    assert block.header.gas_limit == node.config.chain.gas_limit
    assert block.header.timestamp > genesis.header.timestamp
    assert node.block_by_hash(block.hash).number == 1
    assert node.block_by_number(1).hash == block.hash
    assert node.block_by_number(2) is None
    assert node.block_by_hash(b"\x00" * 32) is None


def test_resolve_tag(node: Node) -> None:
    node.mine()
    node.mine()
    for tag in ("latest", "safe", "finalized", "pending"):
        assert node.resolve_tag(tag) == 2
    assert node.resolve_tag("earliest") == 0
    assert node.resolve_tag(1) == 1


def test_invalid_tag_beyond_head(node: Node) -> None:
    with pytest.raises(BlockNotFound):
        node.resolve_tag(5)
    with pytest.raises(BlockNotFound):
        node.resolve_tag("soon")


def test_pending_state_sees_pending_transactions(node: Node) -> None:
    addr, key = dev_keys(node.config)[0]
    node.send_raw_transaction(sign(key, 0, value=5))
    node.send_raw_transaction(sign(key, 1, value=5))
    pending = node.pending_state()
    assert pending.get_nonce(addr) == 2
    assert pending.get_balance(RECIPIENT) == 10
    assert node.state_at(0).get_balance(RECIPIENT) == 0


def test_restart_resumes_at_the_same_head_and_state_root(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    node = Node(config)
    keys = dev_keys(config)
    for i in range(3):
        node.send_raw_transaction(sign(keys[i][1], 0, value=i + 1))
        node.mine()
    head = node.head().header
    node.stop()
    again = Node(config)
    try:
        assert again.head().header == head
        assert again.state_at(3).get_balance(RECIPIENT) == 6
        assert again.mine().header.parent_hash == head.hash
    finally:
        again.stop()


def test_invalid_data_dir_of_another_chain(tmp_path: Path) -> None:
    Node(make_config(tmp_path)).stop()
    with pytest.raises(ConfigError, match="another chain"):
        Node(make_config(tmp_path, chain_id=7))


def test_invalid_dev_methods_disabled(tmp_path: Path) -> None:
    node = Node(make_config(tmp_path), dev_methods=False)
    try:
        for call in (
            node.mine,
            node.snapshot,
            lambda: node.revert(1),
            lambda: node.increase_time(5),
        ):
            with pytest.raises(DevMethodsDisabled, match="dev_methods"):
                call()
    finally:
        node.stop()


def test_mine_with_timestamp_and_increase_time(node: Node) -> None:
    block = node.mine(timestamp=2_000_000_000)
    assert block.header.timestamp == 2_000_000_000
    with pytest.raises(InvalidBlockTimestamp):
        node.mine(timestamp=2_000_000_000)
    assert node.increase_time(3600) == 3600
    assert node.increase_time(60) == 3660
    assert node.mine().header.timestamp > block.header.timestamp


def test_snapshot_and_revert(node: Node) -> None:
    _, key = dev_keys(node.config)[0]
    node.mine()
    snap = node.snapshot()
    tx_hash = node.send_raw_transaction(sign(key, 0, value=9))
    node.mine()
    node.mine()
    assert node.head().number == 3
    assert node.revert(snap) is True
    assert node.head().number == 1
    assert node.block_by_number(2) is None
    assert node.transaction(tx_hash) is None
    assert node.state_at(1).get_balance(RECIPIENT) == 0
    assert node.revert(snap) is False  # used up
    # the chain continues from the reverted head
    again = node.send_raw_transaction(sign(key, 0, value=4))
    block = node.mine()
    assert block.number == 2 and [tx.hash for tx in block.transactions] == [again]


def test_block_and_pending_listeners(node: Node) -> None:
    seen_blocks, seen_pending = [], []
    node.add_block_listener(
        lambda block, receipts: seen_blocks.append((block.number, len(receipts)))
    )
    node.add_pending_listener(seen_pending.append)
    _, key = dev_keys(node.config)[0]
    tx_hash = node.send_raw_transaction(sign(key, 0))
    node.mine()
    node.mine()
    assert seen_pending == [tx_hash]
    assert seen_blocks == [(1, 1), (2, 0)]


def test_concurrent_senders_and_miner(node: Node) -> None:
    keys = dev_keys(node.config)[:4]
    errors: list[Exception] = []

    def send(key: str) -> None:
        try:
            for n in range(15):
                node.send_raw_transaction(sign(key, n))
        except Exception as exc:  # noqa: BLE001 - surfaced by the assert below
            errors.append(exc)

    threads = [threading.Thread(target=send, args=(k,)) for _, k in keys]
    for t in threads:
        t.start()
    mined = 0
    while any(t.is_alive() for t in threads):
        mined += len(node.mine().transactions)
    for t in threads:
        t.join()
    mined += len(node.mine().transactions)
    assert errors == []
    assert mined == 60
    assert all(node.pending_nonce(addr) == 15 for addr, _ in keys)


def test_call_and_estimate_gas_for_a_transfer(node: Node) -> None:
    addr, _ = dev_keys(node.config)[0]
    params = CallParams(sender=addr, to=RECIPIENT, value=1)
    assert node.call(params) == b""
    assert node.estimate_gas(params) == 21_000


def test_gas_price_and_fee_history(node: Node) -> None:
    keys = dev_keys(node.config)
    node.send_raw_transaction(sign(keys[0][1], 0, maxPriorityFeePerGas=GWEI // 10))
    node.send_raw_transaction(sign(keys[1][1], 0, maxPriorityFeePerGas=GWEI // 5))
    node.mine()
    head = node.head().header
    target = head.gas_limit // 2
    # EIP-1559: below the gas target the base fee falls by (target - used) / target / 8
    next_base = head.base_fee_per_gas - head.base_fee_per_gas * (target - 42_000) // target // 8
    assert node.max_priority_fee() == GWEI // 10  # smallest tip of the only busy block
    assert node.gas_price() == next_base + GWEI // 10
    history = node.fee_history(4, node.resolve_tag("latest"), [0.0, 100.0])
    assert history.oldest_block == 0
    assert history.base_fee_per_gas == [GWEI, GWEI * 7 // 8, next_base]
    assert history.gas_used_ratio == [0.0, 42_000 / node.config.chain.gas_limit]
    assert history.reward == [[0, 0], [GWEI // 10, GWEI // 5]]
    assert len(history.base_fee_per_blob_gas) == 3


def test_coinbase_is_the_sequencer_key_address(tmp_path: Path) -> None:
    key = keccak(b"sequencer")
    (tmp_path / "keys").mkdir()
    (tmp_path / "keys" / "sequencer.key").write_text("0x" + key.hex())
    node = Node(make_config(tmp_path))
    try:
        from eth_keys import keys as eth_keys

        assert node.coinbase == eth_keys.PrivateKey(key).public_key.to_canonical_address()
        _, sender = dev_keys(node.config)[0]
        node.send_raw_transaction(sign(sender, 0))
        block = node.mine()
        assert block.header.coinbase == node.coinbase
        assert node.state_at(1).get_balance(node.coinbase) > 0
    finally:
        node.stop()


def test_invalid_block_whose_commit_fails_leaves_chain_and_pool_as_they_were(
    node: Node, monkeypatch: pytest.MonkeyPatch
) -> None:
    save_records = node.engine.records.save
    failed: list[bool] = []

    def failing_once(executed) -> None:  # the witness records, written with the block
        node.store[b"hook-wrote-this"] = b"1"  # part of the block's transaction
        save_records(executed)
        if not failed:
            failed.append(True)
            raise RuntimeError("disk full")

    monkeypatch.setattr(node.engine.records, "save", failing_once)
    _, key = dev_keys(node.config)[0]
    tx_hash = node.send_raw_transaction(sign(key, 0))
    with pytest.raises(RuntimeError, match="disk full"):
        node.mine()
    assert node.head().number == 0
    assert b"hook-wrote-this" not in node.store
    assert node.transaction(tx_hash).pending
    block = node.mine()
    assert [tx.hash for tx in block.transactions] == [tx_hash]
    assert node.store[b"hook-wrote-this"] == b"1"


def test_invalid_call_and_estimate_beyond_the_balance(node: Node) -> None:
    from sequencer.errors import InvalidCall

    addr, _ = dev_keys(node.config)[0]
    params = CallParams(sender=addr, to=RECIPIENT, value=node.config.dev.balance + 1)
    with pytest.raises(InvalidCall, match="insufficient funds"):
        node.call(params)
    with pytest.raises(InvalidCall, match="insufficient funds"):
        node.estimate_gas(params)


def test_admission_and_reads_go_on_while_a_block_is_built(
    node: Node, monkeypatch: pytest.MonkeyPatch
) -> None:
    building, release = threading.Event(), threading.Event()
    build = node.engine.build

    def slow_build(*args, **kwargs):
        building.set()
        release.wait(10)  # a block whose execution takes a while
        return build(*args, **kwargs)

    monkeypatch.setattr(node.engine, "build", slow_build)
    keys = dev_keys(node.config)
    first = node.send_raw_transaction(sign(keys[0][1], 0))
    mined: list = []
    miner = threading.Thread(target=lambda: mined.append(node.mine()))
    miner.start()
    try:
        assert building.wait(10)
        answers: list = []
        sender = threading.Thread(
            target=lambda: answers.append(
                (node.send_raw_transaction(sign(keys[1][1], 0)), node.head().number)
            )
        )
        sender.start()
        sender.join(timeout=5)
        assert not sender.is_alive(), "admission waited for the block being built"
        second, head_meanwhile = answers[0]
        assert head_meanwhile == 0  # readers see the last committed block
    finally:
        release.set()
        miner.join(timeout=10)
    assert [tx.hash for tx in mined[0].transactions] == [first]  # the pool as it was
    assert [tx.hash for tx in node.mine().transactions] == [second]
