"""The fork's faster paths give py-evm's results, bit for bit (differential).

The node's fork replaces parts of py-evm with cheaper equivalents (accounts, receipts,
header updates, tries, the executor's trace lines: ``accounts.py``, ``receipts.py``,
``roots.py``, ``executor.py``). Here the same transactions — legacy, EIP-2930 and
EIP-1559 transfers, contract creations (one reverting), calls that emit logs, revert or run
out of gas, value to new accounts, zero value to empty accounts, a zero tip to an empty
coinbase — are executed by the node's builder and by a stock py-evm Prague VM (the same
precompile map, nothing else of ours), and everything a client or a follower sees is
compared: block hashes, state roots, receipts and their encodings.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from eth._utils.address import generate_contract_address
from eth.abc import BlockAPI, ReceiptAPI, SignedTransactionAPI
from eth.chains.base import Chain, MiningChain
from eth.db.atomic import AtomicDB
from eth.vm.forks.prague import PragueVM
from eth.vm.forks.prague.computation import PragueComputation
from eth.vm.forks.prague.state import PragueState
from eth_utils import to_checksum_address

from sequencer.chain import BlockInputs, NeuroChain, NeuroVM, ReadyTransaction, build_block
from sequencer.chain.fork import NEURO_PRECOMPILES
from sequencer.chain.genesis import create_genesis, genesis_params, genesis_state
from sequencer.chain.receipts import encode_receipt
from sequencer.chainspec import chain_spec

from ..helpers import CHAIN_ID, GWEI, dev_keys, make_config, sign


class StockComputation(PragueComputation):
    _precompiles = NEURO_PRECOMPILES  # type: ignore[assignment]  # same warm-address set


class StockState(PragueState):
    computation_class = StockComputation


class StockVM(PragueVM):
    """py-evm's Prague VM, as shipped, with the fork's precompile map."""

    _state_class = StockState


def _runtime() -> bytes:
    """Empty calldata: store count+1 in slot 0 and emit LOG2(data=42, topics A, B); any
    calldata: revert."""
    topic_a, topic_b = b"\xaa" * 32, b"\xbb" * 32
    body = (
        bytes.fromhex("602a600052")  # mstore(0, 42)
        + b"\x7f" + topic_b + b"\x7f" + topic_a
        + bytes.fromhex("60206000a2")  # log2(0, 32, A, B)
        + bytes.fromhex("600054600101600055")  # sstore(0, sload(0) + 1)
        + b"\x00"
    )  # fmt: skip
    head_len = 4  # CALLDATASIZE PUSH1 tag JUMPI
    tag = head_len + len(body)
    return bytes((0x36, 0x60, tag, 0x57)) + body + bytes.fromhex("5b60006000fd")


LOOP = bytes.fromhex("5b600056")  # jumpdest; jump(0): runs until out of gas


def _deploy(runtime: bytes) -> bytes:
    n = len(runtime)
    return bytes((0x60, n, 0x60, 12, 0x60, 0, 0x39, 0x60, n, 0x60, 0, 0xF3)) + runtime


class Mix:
    """The transactions, signed by the dev accounts, block by block."""

    def __init__(self, keys: Sequence[tuple[bytes, str]]) -> None:
        self.keys = keys
        self.nonces = [0] * len(keys)

    def tx(self, who: int, tx_type: int = 2, **fields: Any) -> bytes:
        raw = sign(self.keys[who][1], self.nonces[who], tx_type=tx_type, **fields)
        self.nonces[who] += 1
        return raw

    def address(self, who: int) -> bytes:
        return self.keys[who][0]


def _blocks(mix: Mix) -> list[tuple[bytes, list[bytes]]]:
    """(coinbase, raw transactions) of each block."""
    counter = to_checksum_address(generate_contract_address(mix.address(0), 0))
    looper = to_checksum_address(generate_contract_address(mix.address(0), 1))
    fresh = [to_checksum_address(bytes([0xC0 + i]) * 20) for i in range(4)]
    gas_price = {"gasPrice": 3 * GWEI}
    first = [
        mix.tx(0, data=_deploy(_runtime()), to=b"", value=0, gas=200_000),
        mix.tx(0, tx_type=0, data=_deploy(LOOP), to=b"", value=0, gas=100_000, **gas_price),
        mix.tx(1, tx_type=0, to=fresh[0], value=5, **gas_price),  # value to a new account
        mix.tx(2, tx_type=1, to=fresh[1], value=7, **gas_price),
        mix.tx(3, to=fresh[2], value=0),  # zero value to an empty account: touched, not kept
        mix.tx(1, data=bytes.fromhex("60006000fd"), to=b"", value=3, gas=100_000),  # reverts
    ]
    second = [
        mix.tx(1, to=counter, value=0, gas=80_000),  # LOG2 and a storage write
        mix.tx(
            2,
            tx_type=1,
            to=counter,
            value=0,
            gas=80_000,
            **gas_price,
            accessList=[{"address": counter, "storageKeys": ["0x" + "00" * 32]}],
        ),
        mix.tx(3, tx_type=0, to=counter, value=0, gas=80_000, **gas_price),
        mix.tx(1, to=counter, data=b"\x01", value=0, gas=80_000),  # reverts
        mix.tx(2, to=counter, value=0, gas=25_000),  # out of gas in the SSTORE
        mix.tx(3, to=looper, value=1, gas=60_000),  # out of gas, value refunded
        mix.tx(1, to=fresh[0], value=0),  # zero value to an existing account
        mix.tx(4, to=to_checksum_address(mix.address(4)), value=9),  # to itself
        mix.tx(2, tx_type=0, to=fresh[3], value=2**70, **gas_price),
    ]
    zero_tip = [mix.tx(5, to=fresh[1], value=1, maxPriorityFeePerGas=0)]
    return [
        (b"\x22" * 20, first),
        (b"\x22" * 20, second),
        (b"\xee" * 20, zero_tip),  # an empty coinbase touched with no fee is not kept
    ]


def _stock_chain(spec: Any) -> Chain:
    cls = Chain.configure(vm_configuration=((0, StockVM),), chain_id=spec.chain_id)
    return cls.from_genesis(AtomicDB(), genesis_params(spec), genesis_state(spec))


def _decode(chain: Any, raw: bytes) -> SignedTransactionAPI:
    return chain.get_vm().get_transaction_builder().decode(raw)


def _assert_same_receipts(ours: Sequence[ReceiptAPI], stock: Sequence[ReceiptAPI]) -> None:
    assert len(ours) == len(stock)
    for a, b in zip(ours, stock, strict=True):
        assert type(a) is type(b)
        assert a.encode() == b.encode() == encode_receipt(a) == encode_receipt(b)
        assert (a.state_root, a.gas_used, a.bloom) == (b.state_root, b.gas_used, b.bloom)
        assert [(log.address, log.topics, log.data) for log in a.logs] == [
            (log.address, log.topics, log.data) for log in b.logs
        ]


def test_built_blocks_import_unchanged_into_stock_py_evm(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    spec = chain_spec(config)
    node: NeuroChain = create_genesis(spec, AtomicDB())
    stock = _stock_chain(spec)
    assert stock.get_canonical_head().hash == node.get_canonical_head().hash
    statuses = []
    for number, (coinbase, raws) in enumerate(_blocks(Mix(dev_keys(config))), start=1):
        parent = node.get_canonical_head()
        inputs = BlockInputs(tuple(ReadyTransaction(_decode(node, raw)) for raw in raws))
        built = build_block(node, parent, inputs, timestamp=parent.timestamp + 2, coinbase=coinbase)
        assert not built.rejected and not built.deferred
        block: BlockAPI = built.executed.block
        assert len(block.transactions) == len(raws)
        node.persist_block(block)

        # stock py-evm re-executes every transaction and checks each root and the hash
        imported = stock.import_block(block).imported_block
        assert imported.hash == block.hash and imported.header == block.header
        stock_receipts = imported.get_receipts(stock.chaindb)
        _assert_same_receipts(built.executed.receipts, stock_receipts)
        _assert_same_receipts(block.get_receipts(node.chaindb), stock_receipts)
        statuses += [r.state_root for r in stock_receipts]
        assert stock.get_block_header_by_hash(block.hash).block_number == number

    node_state, stock_state = node.get_vm().state, stock.get_vm().state
    assert node_state.state_root == stock_state.state_root
    # the mix covered what it says: failures among successes, logs, deleted empty accounts
    assert statuses.count(b"") >= 4 and statuses.count(b"\x01") >= 8
    assert not stock_state.account_exists(b"\xc2" * 20)  # zero value to an empty account
    assert not stock_state.account_exists(b"\xee" * 20)  # coinbase paid nothing
    assert stock_state.get_balance(b"\xc0" * 20) == 5


@pytest.mark.parametrize("vm_first", [True, False])
def test_py_evm_mining_gives_the_same_blocks(tmp_path: Path, vm_first: bool) -> None:
    """py-evm's own ``mine_all`` on the fork (its apply-all path, through the fork's
    receipts, header updates, roots and sealing) mines the stock VM's blocks."""
    config = make_config(tmp_path)
    spec = chain_spec(config)
    chains = []
    for vm in (NeuroVM, StockVM) if vm_first else (StockVM, NeuroVM):
        cls = MiningChain.configure(vm_configuration=((0, vm),), chain_id=CHAIN_ID)
        chains.append(cls.from_genesis(AtomicDB(), genesis_params(spec), genesis_state(spec)))
    for coinbase, raws in _blocks(Mix(dev_keys(config))):
        mined = []
        for chain in chains:
            head = chain.get_canonical_head()
            result, receipts, _ = chain.mine_all(
                [_decode(chain, raw) for raw in raws], coinbase=coinbase,
                timestamp=head.timestamp + 2,
            )  # fmt: skip
            mined.append((result.imported_block, receipts))
        (a, receipts_a), (b, receipts_b) = mined
        assert a.hash == b.hash and a.header == b.header
        _assert_same_receipts(receipts_a, receipts_b)
