"""PIPE on a real node with a hand-driven backend: park, dispatch, stitch, seal, expire."""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

import pytest
from eth_abi import encode
from eth_utils import keccak

from neurostack.protocol.merkle import merkle_root
from neurostack.protocol.receipts import receipt_leaf
from neurostack.solidity import CompiledContract
from sequencer.chain.inference import REGISTRY_ADDRESS
from sequencer.chain.inference.system_contract import registry_calldata
from sequencer.errors import TransactionRejected
from sequencer.node import Node
from sequencer.pipe import NO_BACKEND_MESSAGE, NoInference, attach
from tests.sequencer.inference.kit import OWNER_KEY, SPRINTER_KEY, address_of
from tests.sequencer.inference.kit import Wallet as OwnerWallet

from .kit import MODEL_CID, FakeBackend, Pipe, Wallet, open_pipe, selector


def predict(abi: CompiledContract, features: list[int], decimals: int = 0) -> bytes:
    return selector(abi, "predict") + encode(
        ["string", "int128[]", "int128"], [MODEL_CID, features, decimals]
    )


def included(block: object, tx_hash: bytes) -> bool:
    return tx_hash in [t.hash for t in block.transactions]  # type: ignore[attr-defined]


def test_park_dispatch_ready_include(
    pipe: Pipe, consumer: bytes, consumer_abi: CompiledContract
) -> None:
    wallet = pipe.wallets[1]
    before = time.time()
    tx_hash = wallet.send(consumer, predict(consumer_abi, [3, 4]))
    pipe.settle()
    assert pipe.status(tx_hash) == "dispatched"
    (job,) = pipe.backend.open_jobs()
    assert job.model_cid == MODEL_CID and job.chain_id == pipe.node.chain_id
    deadline = pipe.node.config.inference.deadline
    assert before + deadline - 1 <= job.deadline <= time.time() + deadline
    assert job.expiry >= int(before) + pipe.node.config.inference.receipt_ttl
    assert not included(pipe.mine(), tx_hash)  # blocks do not wait for the model
    assert pipe.node.transaction(tx_hash).pending

    pipe.backend.answer(job)
    pipe.settle()
    assert pipe.status(tx_hash) == "ready"
    block = pipe.mine()
    assert included(block, tx_hash)
    record = pipe.pool.statuses.get(tx_hash)
    assert record.status.value == "included" and record.block_number == block.header.block_number
    assert [r.state.value for r in record.requests] == ["resolved"]
    assert pipe.read(consumer_abi, consumer, "lastValue", "int256") == 14  # 2 * (3 + 4)
    witness = pipe.node.engine.records.load(block.hash).receipts
    assert [r.request_id for r in witness] == [job.request_id]
    assert block.header.extra_data == merkle_root([receipt_leaf(witness[0])])
    calls = pipe.node.engine.records.load(block.hash).calls_of(tx_hash)
    assert [c["requestId"] for c in calls] == ["0x" + job.request_id.hex()]


def test_identical_requests_share_one_job(
    pipe: Pipe, consumer: bytes, consumer_abi: CompiledContract
) -> None:
    data = predict(consumer_abi, [5, 5])
    hashes = [w.send(consumer, data) for w in pipe.wallets[1:3]]
    pipe.settle()
    assert len(pipe.backend.submitted) == 1
    pipe.backend.answer()
    block = pipe.mine()
    assert all(included(block, h) for h in hashes)
    assert len(pipe.node.engine.records.load(block.hash).receipts) == 1


def test_two_chained_model_calls_second_fed_by_first(
    pipe: Pipe, chained_abi: CompiledContract
) -> None:
    chained = pipe.deploy(chained_abi, ["string", "string", "uint8"], ["x", "x", 0])
    data = selector(chained_abi, "run") + encode(
        ["string", "string", "int128[]", "int128"], [MODEL_CID, MODEL_CID, [1, 2], 0]
    )
    tx_hash = pipe.wallets[1].send(chained, data)
    pipe.settle()
    first = pipe.backend.answer()
    pipe.settle()
    assert pipe.status(tx_hash) == "dispatched"  # stitched: the second call is now known
    second = pipe.backend.answer()
    assert second.request_id != first.request_id
    block = pipe.mine()
    assert included(block, tx_hash)
    assert pipe.read(chained_abi, chained, "lastValue", "int256") == 12  # 2 * (2 * (1 + 2))
    witness = pipe.node.engine.records.load(block.hash).receipts
    assert [r.request_id for r in witness] == [first.request_id, second.request_id]
    assert len(pipe.pool.statuses.get(tx_hash).requests) == 2


@pytest.mark.slow  # compiles a contract with solc-js
def test_input_changed_by_an_earlier_tx_in_the_block_is_deferred_and_reparked(
    pipe: Pipe, adjustable_abi: CompiledContract
) -> None:
    contract = pipe.deploy(adjustable_abi, ["string"], [MODEL_CID])
    predict_tx = pipe.wallets[2].send(contract, selector(adjustable_abi, "predict"))
    pipe.settle()
    stale = pipe.backend.answer()  # for offset 1
    pipe.settle()
    assert pipe.status(predict_tx) == "ready"
    # a higher tip goes first in the block and changes predict's model input
    set_tx = pipe.wallets[1].send(
        contract, selector(adjustable_abi, "setOffset") + encode(["int256"], [5]), tip=10**9
    )
    pipe.settle()
    block = pipe.mine()
    assert included(block, set_tx) and not included(block, predict_tx)
    assert pipe.node.transaction(predict_tx).pending
    assert pipe.status(predict_tx) == "dispatched"  # parked again, the new request is out
    fresh = pipe.backend.answer()
    assert fresh.request_id != stale.request_id
    block = pipe.mine()
    assert included(block, predict_tx)
    assert pipe.read(adjustable_abi, contract, "lastValue", "int256") == 10  # 2 * 5


def test_invalid_deadline_passed_drops_the_tx_and_frees_the_nonce(
    tmp_path: Path, consumer_abi: CompiledContract
) -> None:
    pipe = open_pipe(tmp_path, deadline=0.5)
    try:
        consumer = pipe.deploy(consumer_abi, ["string", "uint8"], ["x", 0])
        wallet = pipe.wallets[1]
        tx_hash = wallet.send(consumer, predict(consumer_abi, [1]))
        nonce = wallet.nonce - 1
        time.sleep(0.8)
        pipe.settle()
        record = pipe.pool.statuses.get(tx_hash)
        assert record.status.value == "dropped"
        assert "deadline passed" in record.reason
        assert pipe.node.transaction(tx_hash) is None
        assert pipe.node.pending_nonce(wallet.address) == nonce
        wallet.nonce = nonce  # the slot is free: a plain transfer takes it
        transfer = wallet.send(pipe.wallets[2].address, b"", gas=21_000, value=1)
        assert included(pipe.mine(), transfer)
    finally:
        pipe.close()


def test_invalid_failed_job_drops_with_the_workers_reason(
    pipe: Pipe, consumer: bytes, consumer_abi: CompiledContract
) -> None:
    tx_hash = pipe.wallets[1].send(consumer, predict(consumer_abi, [2]))
    pipe.settle()
    pipe.backend.fail("unknown model bafk...: upload it to the hub first")
    pipe.settle()
    record = pipe.pool.statuses.get(tx_hash)
    assert record.status.value == "dropped"
    assert "inference failed" in record.reason and "unknown model" in record.reason
    assert [r.state.value for r in record.requests] == ["failed"]
    assert pipe.node.transaction(tx_hash) is None


def test_invalid_too_many_parked_per_sender_rejected(
    tmp_path: Path, consumer_abi: CompiledContract
) -> None:
    pipe = open_pipe(tmp_path, max_parked_per_sender=2)
    try:
        consumer = pipe.deploy(consumer_abi, ["string", "uint8"], ["x", 0])
        wallet = pipe.wallets[1]
        wallet.send(consumer, predict(consumer_abi, [1]))
        wallet.send(consumer, predict(consumer_abi, [2]))
        with pytest.raises(TransactionRejected, match="too many parked inference transactions"):
            wallet.send(consumer, predict(consumer_abi, [3]))
        other = pipe.wallets[2]  # the limit is per sender
        other.send(consumer, predict(consumer_abi, [4]))
    finally:
        pipe.close()


def test_invalid_no_backend_drops_at_once_with_a_hint(
    tmp_path: Path, consumer_abi: CompiledContract
) -> None:
    pipe = open_pipe(tmp_path)
    pipe.pool.backend = NoInference()
    try:
        consumer = pipe.deploy(consumer_abi, ["string", "uint8"], ["x", 0])
        tx_hash = pipe.wallets[1].send(consumer, predict(consumer_abi, [1]))
        pipe.settle()
        record = pipe.pool.statuses.get(tx_hash)
        assert record.status.value == "dropped" and NO_BACKEND_MESSAGE in record.reason
    finally:
        pipe.close()


def test_restart_keeps_witness_and_redetects_parked(
    tmp_path: Path, consumer_abi: CompiledContract
) -> None:
    pipe = open_pipe(tmp_path)
    try:
        consumer = pipe.deploy(consumer_abi, ["string", "uint8"], ["x", 0])
        done = pipe.wallets[1].send(consumer, predict(consumer_abi, [6]))
        pipe.settle()
        pipe.backend.answer()
        block = pipe.mine()
        assert included(block, done)
        parked = pipe.wallets[2].send(consumer, predict(consumer_abi, [7]))
        pipe.settle()
        witness = pipe.node.engine.records.load(block.hash).receipts
    finally:
        pipe.close()

    backend = FakeBackend()
    node = Node(pipe.node.config)
    pool = attach(node, backend)
    try:
        assert node.engine.records.load(block.hash).receipts == witness
        assert pool.wait_idle(10)
        (job,) = backend.open_jobs()  # the journal's parked tx is detected again
        backend.answer(job)
        assert pool.wait_idle(10)
        assert included(node.mine(), parked)
    finally:
        pool.close()
        node.stop()


def test_invalid_receipt_of_a_revoked_sprinter_drops_the_tx(
    pipe: Pipe, consumer: bytes, consumer_abi: CompiledContract
) -> None:
    tx_hash = pipe.wallets[1].send(consumer, predict(consumer_abi, [7, 7]))
    pipe.settle()
    owner = Wallet(pipe.node, "0x" + OWNER_KEY.hex())
    revoke = keccak(text="revokeSprinter(address)")[:4] + encode(
        ["address"], [address_of(SPRINTER_KEY)]
    )
    owner.send(REGISTRY_ADDRESS, revoke, gas=200_000)
    pipe.mine()
    pipe.backend.answer()  # signed by the key revoked a block ago
    pipe.settle()
    record = pipe.pool.statuses.get(tx_hash)
    assert record.status.value == "dropped"
    assert "inference receipt rejected" in record.reason and "revoked" in record.reason
    assert pipe.node.transaction(tx_hash) is None


def test_receipt_expiry_follows_chain_time_after_increase_time(
    pipe: Pipe, consumer: bytes, consumer_abi: CompiledContract
) -> None:
    """Block timestamps follow the chain clock (evm_increaseTime moves it), so a receipt's
    expiry must too: one set from the wall clock would already be expired here."""
    ttl = pipe.node.config.inference.receipt_ttl
    pipe.node.increase_time(2 * ttl)
    tx_hash = pipe.wallets[1].send(consumer, predict(consumer_abi, [1, 2]))
    pipe.settle()
    (job,) = pipe.backend.open_jobs()
    assert job.expiry >= int(time.time()) + 2 * ttl + ttl - 5
    pipe.backend.answer(job)
    pipe.settle()
    assert included(pipe.mine(), tx_hash)


def _register_fake_circuit(pipe: Pipe, srs: bytes) -> None:
    """A circuit whose documents hash as registerZkModel checks (its proofs never verify:
    this test only needs PIPE to dispatch a ZK call)."""
    vk = b"a verifying key"
    signature = {"name": "x", "dtype": "float32", "shape": [1, 1], "scale": 13}
    settings = json.dumps(
        {"format": "neurostack.zk.circuit.v1", "backend": "ezkl", "backendVersion": "0",
         "inputs": [signature], "outputs": [{**signature, "name": "y"}], "logrows": 10,
         "proofBytes": 3072, "srsSha256": "0x" + hashlib.sha256(srs).hexdigest(),
         "verifyingKeySha256": "0x" + hashlib.sha256(vk).hexdigest(), "backendSettings": {}},
        sort_keys=True, separators=(",", ":"),
    ).encode()  # fmt: skip
    owner = OwnerWallet(pipe.node, "0x" + OWNER_KEY.hex())
    owner.send(REGISTRY_ADDRESS, registry_calldata("registerZkModel", MODEL_CID, settings, vk),
               gas=3_000_000)  # fmt: skip
    pipe.mine()


def test_a_zk_call_waits_zk_deadline_not_deadline(
    tmp_path: Path, consumer_abi: CompiledContract
) -> None:
    srs = b"an SRS file" * 10
    (tmp_path / "kzg10.srs").write_bytes(srs)
    entry = {"file": "kzg10.srs", "sha256": "0x" + hashlib.sha256(srs).hexdigest()}
    pipe = open_pipe(tmp_path, modes=["VANILLA", "ZK"], deadline=0.5, zk_deadline=60,
                     zk_srs=[entry])  # fmt: skip
    try:
        _register_fake_circuit(pipe, srs)
        consumer = pipe.deploy(consumer_abi, ["string", "uint8"], ["x", 1])  # mode ZK
        before = time.time()
        tx_hash = pipe.wallets[1].send(consumer, predict(consumer_abi, [1]))
        pipe.settle()
        (job,) = pipe.backend.open_jobs()
        assert job.mode == 1 and before + 59 <= job.deadline <= time.time() + 60
        time.sleep(0.8)  # past `deadline`, well within `zk_deadline`
        pipe.settle()
        assert pipe.status(tx_hash) == "dispatched"
    finally:
        pipe.close()
