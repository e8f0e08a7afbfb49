"""Block building: what a follower re-importing the block sees, invalid transactions skipped."""

from __future__ import annotations

from eth.db.atomic import AtomicDB

from sequencer.chain.builder import ListSource, build_block
from sequencer.chain.genesis import create_genesis

from ..helpers import RECIPIENT, dev_keys, make_config, sign


def decode(chain, raw: bytes):
    return chain.get_vm().get_transaction_builder().decode(raw)


def test_a_follower_importing_the_block_gets_the_same_state_root(tmp_path) -> None:
    config = make_config(tmp_path)
    sequencer = create_genesis(config, AtomicDB())
    follower = create_genesis(config, AtomicDB())
    keys = dev_keys(config)
    txs = [decode(sequencer, sign(keys[i % 3][1], i // 3, tx_type=i % 3)) for i in range(9)]
    parent = sequencer.get_canonical_head()
    built = build_block(
        sequencer, parent, ListSource(txs), timestamp=parent.timestamp + 12,
        coinbase=b"\x22" * 20, gas_limit=parent.gas_limit, extra_data=b"\x07" * 32,
    )  # fmt: skip
    sequencer.persist_block(built.block)
    assert len(built.block.transactions) == 9
    assert built.block.header.extra_data == b"\x07" * 32

    result = follower.import_block(built.block)  # re-executes every transaction
    assert result.imported_block.header.state_root == built.block.header.state_root
    assert follower.get_canonical_head().hash == built.block.hash
    assert follower.get_vm().state.get_balance(RECIPIENT) == 9


def test_invalid_transactions_are_left_out_not_fatal(tmp_path) -> None:
    config = make_config(tmp_path)
    chain = create_genesis(config, AtomicDB())
    (_, key_a), (_, key_b) = dev_keys(config)[:2]
    good = decode(chain, sign(key_a, 0))
    gap = decode(chain, sign(key_b, 5))  # nonce 5 on a fresh account
    also_good = decode(chain, sign(key_a, 1))
    parent = chain.get_canonical_head()
    built = build_block(
        chain, parent, ListSource([good, gap, also_good]), timestamp=1,
        coinbase=b"\x00" * 20, gas_limit=parent.gas_limit,
    )  # fmt: skip
    assert [tx.hash for tx in built.block.transactions] == [good.hash, also_good.hash]
    assert [tx.hash for tx, _ in built.rejected] == [gap.hash]
    assert "nonce" in built.rejected[0][1].lower()
