"""Block building: what a follower re-executing the block sees, invalid transactions left out."""

from __future__ import annotations

from eth.db.atomic import AtomicDB

from sequencer.chain import BlockInputs, ReadyTransaction, build_block, state_transition
from sequencer.chain.genesis import GENESIS_EXTRA_DATA, create_genesis
from sequencer.chainspec import chain_spec

from ..helpers import RECIPIENT, dev_keys, make_config, sign


def decode(chain, raw: bytes):
    return chain.get_vm().get_transaction_builder().decode(raw)


def inputs(txs) -> BlockInputs:
    return BlockInputs(tuple(ReadyTransaction(tx) for tx in txs))


def test_a_follower_reexecuting_the_block_gets_the_same_state_root(tmp_path) -> None:
    config = make_config(tmp_path)
    spec = chain_spec(config)
    sequencer = create_genesis(spec, AtomicDB())
    follower = create_genesis(spec, AtomicDB())
    keys = dev_keys(config)
    txs = [decode(sequencer, sign(keys[i % 3][1], i // 3, tx_type=i % 3)) for i in range(9)]
    parent = sequencer.get_canonical_head()
    built = build_block(
        sequencer, parent, inputs(txs), timestamp=parent.timestamp + 12, coinbase=b"\x22" * 20
    )
    block = built.executed.block
    sequencer.persist_block(block)
    assert len(block.transactions) == 9
    # sealing shares the transactions (py-evm deep-copied them, losing recovered senders)
    assert all(a is b for a, b in zip(block.transactions, txs, strict=True))
    assert block.header.extra_data == GENESIS_EXTRA_DATA  # inferenceRoot of no receipts

    executed = state_transition(follower, block, built.executed.witness)  # re-executes all
    assert executed.block.header.state_root == block.header.state_root
    follower.persist_block(executed.block)
    assert follower.get_canonical_head().hash == block.hash
    assert follower.get_vm().state.get_balance(RECIPIENT) == 9
    # py-evm's own import agrees (no inference in this block)
    other = create_genesis(spec, AtomicDB())
    assert other.import_block(block).imported_block.header.state_root == block.header.state_root


def test_invalid_transactions_are_left_out_not_fatal(tmp_path) -> None:
    config = make_config(tmp_path)
    chain = create_genesis(chain_spec(config), AtomicDB())
    (_, key_a), (_, key_b) = dev_keys(config)[:2]
    good = decode(chain, sign(key_a, 0))
    gap = decode(chain, sign(key_b, 5))  # nonce 5 on a fresh account
    also_good = decode(chain, sign(key_a, 1))
    parent = chain.get_canonical_head()
    built = build_block(
        chain, parent, inputs([good, gap, also_good]), timestamp=1, coinbase=b"\x00" * 20
    )
    assert [tx.hash for tx in built.executed.block.transactions] == [good.hash, also_good.hash]
    assert [tx.hash for tx, _ in built.rejected] == [gap.hash]
    assert "nonce" in built.rejected[0][1].lower()


def test_a_sender_left_out_is_not_tried_again_in_the_block(tmp_path) -> None:
    config = make_config(tmp_path)
    chain = create_genesis(chain_spec(config), AtomicDB())
    (_, key_a), (_, key_b) = dev_keys(config)[:2]
    too_big = decode(chain, sign(key_a, 0, gas=config.chain.gas_limit))
    next_of_a = decode(chain, sign(key_a, 1))
    other = decode(chain, sign(key_b, 0))
    first = decode(chain, sign(key_b, 1))  # fills the block enough that too_big does not fit
    parent = chain.get_canonical_head()
    built = build_block(
        chain, parent, inputs([other, too_big, next_of_a, first]), timestamp=1,
        coinbase=b"\x00" * 20,
    )  # fmt: skip
    # a's first transaction does not fit; its next nonce would fail, so it is not tried
    assert [tx.hash for tx in built.executed.block.transactions] == [other.hash, first.hash]
    assert built.rejected == [] and built.deferred == []
