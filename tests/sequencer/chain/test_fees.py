"""EIP-1559 base fee movement as the node's blocks show it."""

from __future__ import annotations

from pathlib import Path

from sequencer.node import Node

from ..helpers import dev_keys, make_config, sign


def test_base_fee_rises_after_a_full_block_and_falls_after_an_empty_one(tmp_path: Path) -> None:
    node = Node(make_config(tmp_path, gas_limit=42_000))
    try:
        keys = dev_keys(node.config)
        first = node.mine()  # genesis had no gas used: -12.5 %
        genesis_fee = node.config.chain.base_fee
        assert first.header.base_fee_per_gas == genesis_fee - genesis_fee // 8
        node.send_raw_transaction(sign(keys[0][1], 0, maxFeePerGas=10**10))
        node.send_raw_transaction(sign(keys[1][1], 0, maxFeePerGas=10**10))
        full = node.mine()
        assert full.header.gas_used == full.header.gas_limit
        after_full = node.mine()
        # used = 2 x target: +12.5 %
        fee = full.header.base_fee_per_gas
        assert after_full.header.base_fee_per_gas == fee + fee // 8
        after_empty = node.mine()
        fee = after_full.header.base_fee_per_gas
        assert after_empty.header.base_fee_per_gas == fee - fee // 8
    finally:
        node.stop()


def test_half_full_block_keeps_the_base_fee(tmp_path: Path) -> None:
    node = Node(make_config(tmp_path, gas_limit=42_000))
    try:
        _, key = dev_keys(node.config)[0]
        node.send_raw_transaction(sign(key, 0))
        at_target = node.mine()
        assert at_target.header.gas_used == at_target.header.gas_limit // 2
        assert node.mine().header.base_fee_per_gas == at_target.header.base_fee_per_gas
    finally:
        node.stop()
