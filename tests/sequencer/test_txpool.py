"""Mempool admission (geth's messages), ordering, replacement, nonce gaps, journal."""

from __future__ import annotations

from pathlib import Path

import pytest
from eth_account import Account

from sequencer.config import TxPoolSection
from sequencer.errors import TransactionRejected
from sequencer.node import Node
from sequencer.txpool import MAX_TX_SIZE, Journal

from .helpers import CHAIN_ID, GWEI, dev_keys, make_config, sign


def rejected(node: Node, raw: bytes) -> TransactionRejected:
    with pytest.raises(TransactionRejected) as info:
        node.send_raw_transaction(raw)
    return info.value


def test_accepted_transaction_is_pending_and_counted(node: Node) -> None:
    (addr, key), *_ = dev_keys(node.config)
    tx_hash = node.send_raw_transaction(sign(key, 0))
    lookup = node.transaction(tx_hash)
    assert lookup is not None and lookup.pending
    assert node.pending_nonce(addr) == 1
    assert [tx.hash for tx in node.pending_transactions()] == [tx_hash]


def test_invalid_nonce_too_low(node: Node) -> None:
    _, key = dev_keys(node.config)[0]
    node.send_raw_transaction(sign(key, 0))
    node.mine()
    err = rejected(node, sign(key, 0, value=2))
    assert err.reason == "nonce too low"
    assert str(err) == "nonce too low: next nonce 1, tx nonce 0"


def test_invalid_already_known(node: Node) -> None:
    _, key = dev_keys(node.config)[0]
    raw = sign(key, 0)
    node.send_raw_transaction(raw)
    assert str(rejected(node, raw)) == "already known"


def test_invalid_insufficient_funds(node: Node) -> None:
    _, key = dev_keys(node.config)[0]
    err = rejected(node, sign(key, 0, value=node.config.dev.balance))
    assert err.reason == "insufficient funds for gas * price + value"
    assert str(err).startswith("insufficient funds for gas * price + value: balance ")


def test_invalid_insufficient_funds_counts_earlier_pooled_transactions(node: Node) -> None:
    _, key = dev_keys(node.config)[0]
    half = node.config.dev.balance // 2
    node.send_raw_transaction(sign(key, 0, value=half))
    assert rejected(node, sign(key, 1, value=half)).reason == (
        "insufficient funds for gas * price + value"
    )


def test_invalid_unfunded_sender(node: Node) -> None:
    stranger = Account.create()
    err = rejected(node, sign(stranger.key.hex(), 0))
    assert err.reason == "insufficient funds for gas * price + value"


def test_invalid_replacement_underpriced(node: Node) -> None:
    _, key = dev_keys(node.config)[0]
    node.send_raw_transaction(sign(key, 0, maxFeePerGas=2 * GWEI, maxPriorityFeePerGas=GWEI))
    # +5 % is not enough (geth wants 10 % on both fee cap and tip)
    raw = sign(
        key, 0, value=2, maxFeePerGas=21 * GWEI // 10, maxPriorityFeePerGas=105 * GWEI // 100
    )
    assert str(rejected(node, raw)).startswith("replacement transaction underpriced")
    # raising only the fee cap is not enough either
    raw = sign(key, 0, value=3, maxFeePerGas=3 * GWEI, maxPriorityFeePerGas=GWEI)
    assert rejected(node, raw).reason == "replacement transaction underpriced"


def test_replacement_with_ten_percent_bump_replaces(node: Node) -> None:
    addr, key = dev_keys(node.config)[0]
    first = node.send_raw_transaction(
        sign(key, 0, maxFeePerGas=2 * GWEI, maxPriorityFeePerGas=GWEI)
    )
    second = node.send_raw_transaction(
        sign(key, 0, value=7, maxFeePerGas=22 * GWEI // 10, maxPriorityFeePerGas=11 * GWEI // 10)
    )
    assert node.transaction(first) is None
    block = node.mine()
    assert [tx.hash for tx in block.transactions] == [second]
    assert node.state_at(block.number).get_balance(b"\x11" * 20) == 7
    assert node.pending_nonce(addr) == 1


def test_invalid_underpriced_below_base_fee(node: Node) -> None:
    _, key = dev_keys(node.config)[0]
    err = rejected(node, sign(key, 0, maxFeePerGas=GWEI // 2, maxPriorityFeePerGas=1))
    assert err.reason == "transaction underpriced"


def test_invalid_oversized_data(node: Node) -> None:
    _, key = dev_keys(node.config)[0]
    raw = sign(key, 0, data=b"\x01" * MAX_TX_SIZE, gas=10_000_000)
    assert str(rejected(node, raw)).startswith("oversized data")


def test_invalid_wrong_chain_id(node: Node) -> None:
    _, key = dev_keys(node.config)[0]
    err = rejected(node, sign(key, 0, chain_id=CHAIN_ID + 1))
    assert err.reason == "invalid sender"
    assert f"invalid chain id for signer: have {CHAIN_ID + 1} want {CHAIN_ID}" in str(err)


def test_invalid_unprotected_legacy_transaction(node: Node) -> None:
    _, key = dev_keys(node.config)[0]
    tx = {"nonce": 0, "to": "0x" + "11" * 20, "value": 1, "gas": 21000, "gasPrice": 2 * GWEI}
    raw = bytes(Account.sign_transaction(tx, key).raw_transaction)
    err = rejected(node, raw)
    assert str(err) == "only replay-protected (EIP-155) transactions allowed over RPC"


def test_invalid_signature_zero_s(node: Node) -> None:
    import rlp

    _, key = dev_keys(node.config)[0]
    raw = sign(key, 0)
    fields = rlp.decode(raw[1:])
    fields[-1] = b""  # s = 0 can never verify
    assert str(rejected(node, b"\x02" + rlp.encode(fields))) == "invalid sender"


def test_invalid_intrinsic_gas_too_low(node: Node) -> None:
    _, key = dev_keys(node.config)[0]
    err = rejected(node, sign(key, 0, gas=20_000))
    assert str(err) == "intrinsic gas too low: gas 20000, minimum needed 21000"


def test_invalid_exceeds_block_gas_limit(node: Node) -> None:
    _, key = dev_keys(node.config)[0]
    err = rejected(node, sign(key, 0, gas=node.config.chain.gas_limit + 1))
    assert err.reason == "exceeds block gas limit"


def test_invalid_tip_above_fee_cap(node: Node) -> None:
    _, key = dev_keys(node.config)[0]
    err = rejected(node, sign(key, 0, maxFeePerGas=2 * GWEI, maxPriorityFeePerGas=3 * GWEI))
    assert err.reason == "max priority fee per gas higher than max fee per gas"


def test_invalid_unsupported_type_and_garbage(node: Node) -> None:
    assert rejected(node, b"\x03" + b"\xc0").reason == "transaction type not supported"
    assert rejected(node, b"\x02\x01\x02").reason == "rlp"
    assert rejected(node, b"").reason == "typed transaction too short"


def test_priority_fee_orders_senders_and_nonce_orders_each_sender(node: Node) -> None:
    keys = dev_keys(node.config)
    (_, low), (_, high), (_, mid) = keys[0], keys[1], keys[2]
    hashes = {
        "low0": node.send_raw_transaction(sign(low, 0, maxPriorityFeePerGas=1)),
        "low1": node.send_raw_transaction(sign(low, 1, maxPriorityFeePerGas=9 * GWEI // 10)),
        "mid0": node.send_raw_transaction(sign(mid, 0, maxPriorityFeePerGas=GWEI // 2)),
        "high1": node.send_raw_transaction(sign(high, 1, maxPriorityFeePerGas=GWEI)),
        "high0": node.send_raw_transaction(sign(high, 0, maxPriorityFeePerGas=GWEI)),
    }
    order = {v: k for k, v in hashes.items()}
    block = node.mine()
    # high's txs first (nonce order), mid next; low0's tiny tip keeps low1 behind it
    assert [order[tx.hash] for tx in block.transactions] == [
        "high0",
        "high1",
        "mid0",
        "low0",
        "low1",
    ]


def test_nonce_gap_is_held_until_filled(node: Node) -> None:
    addr, key = dev_keys(node.config)[0]
    later = node.send_raw_transaction(sign(key, 1))
    assert node.pending_nonce(addr) == 0
    assert node.mine().transactions == ()
    assert node.transaction(later).pending
    first = node.send_raw_transaction(sign(key, 0))
    assert node.pending_nonce(addr) == 2
    block = node.mine()
    assert [tx.hash for tx in block.transactions] == [first, later]


def test_block_gas_limit_caps_a_block(tmp_path: Path) -> None:
    node = Node(make_config(tmp_path, gas_limit=50_000))
    try:
        keys = dev_keys(node.config)
        for _, key in keys[:3]:
            node.send_raw_transaction(sign(key, 0))
        assert len(node.mine().transactions) == 2  # 2 x 21000 fit in 50000
        assert len(node.mine().transactions) == 1
    finally:
        node.stop()


def test_journal_replay_restores_pending_after_restart(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    node = Node(config)
    keys = dev_keys(config)
    mined = node.send_raw_transaction(sign(keys[0][1], 0))
    node.mine()
    pending = [node.send_raw_transaction(sign(keys[1][1], n)) for n in range(3)]
    node.stop()

    again = Node(config)
    try:
        assert [tx.hash for tx in again.pending_transactions()] == pending
        assert again.transaction(mined).block_number == 1
        assert again.pending_nonce(keys[1][0]) == 3
        block = again.mine()
        assert [tx.hash for tx in block.transactions] == pending
    finally:
        again.stop()
    # the journal now holds nothing: a third start has an empty pool
    third = Node(config)
    try:
        assert third.pending_transactions() == []
    finally:
        third.stop()


def test_journal_ignores_a_torn_last_record(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j")
    journal.append(b"abc")
    journal.append(b"defgh")
    journal.close()
    with open(tmp_path / "j", "ab") as f:
        f.write(b"\x00\x00\x00\x09abc")  # a crash in the middle of an append
    assert Journal(tmp_path / "j").read() == [b"abc", b"defgh"]


def test_journal_skips_transactions_mined_before_a_crash(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    node = Node(config)
    _, key = dev_keys(config)[0]
    raw = sign(key, 0)
    node.send_raw_transaction(raw)
    node.mine()
    node.stop()
    # simulate a crash between the block commit and the journal compaction
    Journal(tmp_path / "data" / "mempool.journal").append(raw)
    again = Node(config)
    try:
        assert again.pending_transactions() == []
        assert again.head().number == 1
    finally:
        again.stop()


def test_journal_replay_keeps_transactions_the_base_fee_has_priced_out(tmp_path: Path) -> None:
    config = make_config(tmp_path, gas_limit=42_000)  # two transfers fill a block
    node = Node(config)
    keys = dev_keys(config)
    next_base_fee = config.chain.base_fee * 7 // 8
    for _, key in keys[:2]:
        node.send_raw_transaction(sign(key, 0, maxFeePerGas=10 * GWEI, maxPriorityFeePerGas=GWEI))
    cheap = node.send_raw_transaction(
        sign(keys[2][1], 0, maxFeePerGas=next_base_fee, maxPriorityFeePerGas=0)
    )
    full = node.mine()
    assert len(full.transactions) == 2  # the full block pushes the base fee up
    next_block_fee = node.fee_history(1, full.number, []).base_fee_per_gas[-1]
    assert next_block_fee > next_base_fee  # cheap cannot pay it now
    node.stop()
    again = Node(config)
    try:
        lookup = again.transaction(cheap)
        assert lookup is not None and lookup.pending  # acknowledged: still there
    finally:
        again.stop()


def test_batch_admission_answers_each_and_fsyncs_once(
    node: Node, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    _, key = dev_keys(node.config)[0]
    fsyncs = []
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (fsyncs.append(fd), real_fsync(fd)))
    raws = [sign(key, 0), sign(key, 0), sign(key, 1), sign(key, 2, gas=1)]
    results = node.send_raw_transactions(raws)
    assert isinstance(results[0], bytes) and isinstance(results[2], bytes)
    assert str(results[1]) == "already known"
    assert str(results[3]).startswith("intrinsic gas too low")
    assert len(fsyncs) == 1  # one fsync made the whole batch durable
    assert [tx.hash for tx in node.mine().transactions] == [results[0], results[2]]


def test_limits_as_geth_executable_burst_per_sender_free_gapped_queue_and_pool_capped(
    tmp_path: Path,
) -> None:
    config = make_config(tmp_path)
    config = config.model_copy(
        update={"txpool": TxPoolSection(global_slots=8, global_queue=2, account_queue=2)}
    )
    node = Node(config)
    try:
        keys = [key for _, key in dev_keys(config)]
        a, b = keys[0], keys[1]
        for nonce in range(6):  # more in-order transactions than account_queue: accepted
            node.send_raw_transaction(sign(a, nonce))
        node.send_raw_transaction(sign(a, 10))  # behind a gap: queued, up to account_queue
        node.send_raw_transaction(sign(a, 11))
        error = rejected(node, sign(a, 12))
        assert error.reason == "account limit exceeded" and "nonce gap" in str(error)
        node.send_raw_transaction(sign(b, 0))
        node.send_raw_transaction(sign(b, 1))
        assert rejected(node, sign(b, 2)).reason == "txpool is full"  # 8 + 2 pooled
        assert len(node.mine().transactions) == 8
        node.send_raw_transaction(sign(b, 2))  # room again once mined
        assert rejected(node, sign(a, 13)).reason == "account limit exceeded"
        node.send_raw_transaction(sign(a, 6))  # the gap shrinks, 7..9 still missing
        assert rejected(node, sign(a, 14)).reason == "account limit exceeded"
        for nonce in (7, 8, 9):  # the gap fills: 10 and 11 become executable
            node.send_raw_transaction(sign(a, nonce))
        node.send_raw_transaction(sign(a, 14))  # queued again (13 missing): allowed
        assert len(node.mine().transactions) == 7  # b 2, a 6..11
    finally:
        node.stop()
