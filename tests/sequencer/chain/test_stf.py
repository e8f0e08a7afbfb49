"""The state-transition function on a real block: it accepts what the node built, and each
tampering of a header field, a root, the transaction order or a witness entry is refused
with one typed ``InvalidBlock`` naming the block, the transaction, the request and the check.

The block (built by a node whose witness the test supplies) holds two inference calls with
different receipts, a plain transfer, and a second transaction of the first caller.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from eth._utils.address import generate_contract_address
from eth.db.atomic import AtomicDB
from eth.db.trie import make_trie_root_and_nodes
from eth_abi import encode

from neurostack.protocol.modes import InferenceMode
from neurostack.solidity import load_artifact
from sequencer.chain import (
    Check,
    ExecutedBlock,
    InvalidBlock,
    InvalidHeader,
    InvalidInference,
    InvalidResult,
    InvalidTransaction,
    InvalidWitness,
    NeuroChain,
    state_transition,
)
from sequencer.chain.genesis import create_genesis
from sequencer.node import Node
from tests.sequencer.inference.kit import MODEL_CID, Wallet, WitnessFeed, make_config, receipt_for
from tests.sequencer.pipe.kit import selector

pytestmark = pytest.mark.slow

RECIPIENT = b"\x12" * 20


@dataclasses.dataclass
class Published:
    """A block as a follower receives it, and the chain of a verifier at its parent."""

    block: Any
    witness: list[Any]
    requests: list[Any]  # the two requests, in the block's order
    spare: Any  # a valid receipt of a third request the block does not use
    verifier: NeuroChain


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Published]:
    root = tmp_path_factory.mktemp("stf")
    node = Node(make_config(root))
    try:
        feed = WitnessFeed(node).attach()
        wallets = [Wallet(node, a.private_key) for a in node.config.dev_accounts()]
        consumer_abi = load_artifact("ModelConsumer")
        wallets[0].send(
            None, consumer_abi.bytecode + encode(["string", "uint8"], ["x", InferenceMode.VANILLA]),
            gas=4_000_000,
        )  # fmt: skip
        node.mine()
        consumer = generate_contract_address(wallets[0].address, wallets[0].nonce - 1)

        def predict(value: int) -> bytes:
            return selector(consumer_abi, "predict") + encode(
                ["string", "int128[]", "int128"], [MODEL_CID, [value], 0]
            )

        requests = [
            w.requests_of(consumer, predict(v)) for w, v in ((wallets[1], 1), (wallets[2], 2))
        ]
        for request in requests:
            feed.witness[request.request_id] = receipt_for(request)
        spare = receipt_for(wallets[3].requests_of(consumer, predict(3)))
        wallets[1].send(consumer, predict(1), tip=4 * 10**9)
        wallets[2].send(consumer, predict(2), tip=3 * 10**9)
        wallets[3].send(RECIPIENT, b"", gas=21_000, value=5, tip=2 * 10**9)
        wallets[1].send(RECIPIENT, b"", gas=21_000, value=7, tip=10**9)
        block = node.mine()
        assert len(block.transactions) == 4
        witness = list(feed.blocks[-1].witness)
        assert [r.request_id for r in witness] == [r.request_id for r in requests]

        verifier = create_genesis(node.spec, AtomicDB())
        parent = node.block_by_number(block.number - 1)
        verifier.persist_block(
            state_transition(verifier, parent, list(feed.blocks[-2].witness)).block
        )
        yield Published(block, witness, requests, spare, verifier)
    finally:
        node.stop()


def _header(published: Published, **fields: Any) -> Any:
    block = published.block
    return block.copy(header=block.header.copy(**fields))


def _tx_root(transactions: list[Any]) -> bytes:
    return make_trie_root_and_nodes(transactions)[0]


def _flip(data: bytes, index: int = 0) -> bytes:
    return data[:index] + bytes([data[index] ^ 1]) + data[index + 1 :]


def test_the_published_block_passes(published: Published) -> None:
    executed = state_transition(published.verifier, published.block, published.witness)
    assert isinstance(executed, ExecutedBlock)
    assert executed.block.hash == published.block.hash
    assert list(executed.witness) == published.witness
    assert [len(t.calls) for t in executed.inferences] == [1, 1]


Tamper = Callable[[Published], tuple[Any, list[Any]]]


def _reordered_same_sender(p: Published) -> tuple[Any, list[Any]]:
    txs = list(p.block.transactions)
    txs[0], txs[3] = txs[3], txs[0]  # the first caller's second transaction first
    block = p.block.copy(
        transactions=txs, header=p.block.header.copy(transaction_root=_tx_root(txs))
    )
    return block, p.witness


def _swapped(p: Published) -> tuple[Any, list[Any]]:
    txs = list(p.block.transactions)
    txs[1], txs[2] = txs[2], txs[1]
    return p.block.copy(transactions=txs), p.witness


# (tamper, exception class, check, transaction index, which request: 0/1/"spare"/None)
CASES: dict[str, tuple[Tamper, type[InvalidBlock], Check, int | None, Any]] = {
    "parent_hash": (lambda p: (_header(p, parent_hash=b"\x01" * 32), p.witness), InvalidHeader, Check.PARENT_HASH, None, None),
    "number": (lambda p: (_header(p, block_number=p.block.number + 1), p.witness), InvalidHeader, Check.NUMBER, None, None),
    "timestamp": (lambda p: (_header(p, timestamp=0), p.witness), InvalidHeader, Check.TIMESTAMP, None, None),
    "gas_limit": (lambda p: (_header(p, gas_limit=2 * p.block.header.gas_limit), p.witness), InvalidHeader, Check.GAS_LIMIT, None, None),
    "base_fee": (lambda p: (_header(p, base_fee_per_gas=p.block.header.base_fee_per_gas + 1), p.witness), InvalidHeader, Check.BASE_FEE, None, None),
    "extra_data_length": (lambda p: (_header(p, extra_data=b"\x00" * 31), p.witness), InvalidHeader, Check.EXTRA_DATA, None, None),
    "transactions_root": (lambda p: (_header(p, transaction_root=b"\x02" * 32), p.witness), InvalidHeader, Check.TRANSACTIONS_ROOT, None, None),
    "two_transactions_swapped": (_swapped, InvalidHeader, Check.TRANSACTIONS_ROOT, None, None),
    "witness_lists_a_request_twice": (lambda p: (p.block, [p.witness[0], *p.witness]), InvalidWitness, Check.WITNESS, None, 0),
    "reordered_with_header_fixed": (_reordered_same_sender, InvalidTransaction, Check.TRANSACTION, 0, None),
    "output_byte": (lambda p: (p.block, [p.witness[0], dataclasses.replace(p.witness[1], output=_flip(p.witness[1].output, 40))]), InvalidInference, Check.INFERENCE_RECEIPT, 1, 1),
    "signature_byte": (lambda p: (p.block, [dataclasses.replace(p.witness[0], signature=_flip(p.witness[0].signature, 5)), p.witness[1]]), InvalidInference, Check.INFERENCE_RECEIPT, 0, 0),
    "receipt_dropped": (lambda p: (p.block, p.witness[:1]), InvalidInference, Check.INFERENCE_RECEIPT, 1, 1),
    "receipt_swapped_for_another_requests": (lambda p: (p.block, [p.witness[0], p.spare]), InvalidInference, Check.INFERENCE_RECEIPT, 1, 1),
    "witness_reordered": (lambda p: (p.block, list(reversed(p.witness))), InvalidWitness, Check.WITNESS, None, 1),
    "unused_receipt_added": (lambda p: (p.block, [*p.witness, p.spare]), InvalidWitness, Check.WITNESS, None, "spare"),
    "inference_root": (lambda p: (_header(p, extra_data=b"\x03" * 32), p.witness), InvalidHeader, Check.EXTRA_DATA, None, None),
    "gas_used": (lambda p: (_header(p, gas_used=p.block.header.gas_used + 1), p.witness), InvalidResult, Check.GAS_USED, None, None),
    "state_root": (lambda p: (_header(p, state_root=b"\x04" * 32), p.witness), InvalidResult, Check.STATE_ROOT, None, None),
    "receipts_root": (lambda p: (_header(p, receipt_root=b"\x05" * 32), p.witness), InvalidResult, Check.RECEIPTS_ROOT, None, None),
    "logs_bloom": (lambda p: (_header(p, bloom=p.block.header.bloom ^ 1), p.witness), InvalidResult, Check.LOGS_BLOOM, None, None),
    "mix_hash": (lambda p: (_header(p, mix_hash=b"\x06" * 32), p.witness), InvalidResult, Check.BLOCK_HASH, None, None),
}  # fmt: skip


@pytest.mark.parametrize("case", list(CASES))
def test_invalid_block_names_block_transaction_request_and_check(
    published: Published, case: str
) -> None:
    tamper, kind, check, tx_index, which = CASES[case]
    block, witness = tamper(published)
    head_before = published.verifier.get_canonical_head()
    with pytest.raises(kind) as caught:
        state_transition(published.verifier, block, witness)
    error = caught.value
    assert (error.check, error.block_number, error.block_hash) == (check, block.number, block.hash)
    assert error.tx_index == tx_index
    assert error.tx_hash == (block.transactions[tx_index].hash if tx_index is not None else None)
    expected_request = {
        None: None, 0: published.requests[0].request_id, 1: published.requests[1].request_id,
        "spare": published.spare.request_id,
    }[which]  # fmt: skip
    assert error.request_id == expected_request
    report = error.to_json()
    assert report["check"] == check.value and report["blockNumber"] == block.number
    assert report["blockHash"] == "0x" + block.hash.hex()
    assert report.get("requestId") == (
        None if expected_request is None else "0x" + expected_request.hex()
    )
    assert report.get("transactionIndex") == tx_index
    assert published.verifier.get_canonical_head() == head_before  # nothing adopted


def test_every_check_has_a_tampering_case() -> None:
    assert {case[2] for case in CASES.values()} == set(Check)
