"""Attacks on PIPE as a sender would make them: free inference by behaving differently under
simulation, deferral loops, unpaid jobs, the per-sender limit through JSON-RPC batches.

Real node, py-evm and solc-compiled contracts (``contracts/SimulationDetector.sol``,
``Adjustable.sol``); the backend is the kit's in-process one, answering every job at once
and counting them, so "the hub worked for nothing" is visible as a job nobody paid for.
Every test ends with the honest path still working.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from eth_abi import encode

from neurostack.solidity import CompiledContract, compile_files
from sequencer.errors import TransactionRejected
from sequencer.pipe import NO_BACKEND_MESSAGE
from sequencer.rpc.server import create_app

from .kit import GWEI_TIP, MODEL_CID, FakeBackend, Pipe, Wallet, open_pipe, selector

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def detector_abi() -> CompiledContract:
    path = Path(__file__).parent / "contracts" / "SimulationDetector.sol"
    return compile_files([path])["SimulationDetector"]


def _open(root: Path, **inference: Any) -> Pipe:
    return open_pipe(root, FakeBackend(auto=True), **inference)


@pytest.fixture
def guarded(tmp_path: Path) -> Iterator[Pipe]:
    pipe = _open(tmp_path, max_unpaid_jobs_per_sender=3, max_deferrals=2, max_parked_per_sender=4)
    yield pipe
    pipe.close()


def _calldata(abi: CompiledContract, name: str, types: list[str], args: list[Any]) -> bytes:
    return selector(abi, name) + encode(types, args)


def _included(pipe: Pipe, tx_hash: bytes) -> Any:
    """Mine a block; the receipt of ``tx_hash`` in it (which must be included)."""
    block = pipe.mine()
    hashes = [t.hash for t in block.transactions]
    assert tx_hash in hashes, pipe.pool.statuses.get(tx_hash)
    return pipe.node.receipts(block)[hashes.index(tx_hash)]


def _honest_call_works(pipe: Pipe, abi: CompiledContract, contract: bytes, wallet: Wallet) -> None:
    jobs = len(pipe.backend.submitted)
    calls = pipe.read(abi, contract, "calls", "uint256")
    tx_hash = wallet.send(contract, _calldata(abi, "honest", ["int256"], [21]))
    pipe.settle()
    assert _included(pipe, tx_hash).state_root == b"\x01"
    assert len(pipe.backend.submitted) == jobs + 1
    assert pipe.read(abi, contract, "calls", "uint256") == calls + 1
    assert pipe.read(abi, contract, "lastValue", "int256") == 42  # the toy model: 2·sum(x)


def test_contracts_that_detect_simulation_get_no_model_job(
    tmp_path: Path, detector_abi: CompiledContract
) -> None:
    """Each contract calls the model only where it believes it is simulated (gas price or
    base fee 0, the balance before buying gas, the head's number or timestamp, another
    coinbase). PIPE runs the signed transaction as the next block would, so the simulation
    sees what the block sees: no job is made, nothing is owed, the transaction is included."""
    pipe = _open(tmp_path)
    try:
        detector = pipe.deploy(detector_abi, ["string"], [MODEL_CID])
        attacker = pipe.wallets[1]
        head = pipe.node.head().header
        balance = pipe.node.state_at(head.block_number).get_balance(attacker.address)
        tricks = [
            ("byGasPrice", ["int256"], [1]),
            ("byBaseFee", ["int256"], [2]),
            ("byBalance", ["int256", "uint256"], [3, balance]),
            ("byNumber", ["int256", "uint256"], [4, head.block_number]),
            ("byTimestamp", ["int256", "uint256"], [5, head.timestamp]),
            ("byCoinbase", ["int256", "address"], [6, pipe.node.coinbase]),
        ]
        for name, types, args in tricks:
            if name in ("byNumber", "byTimestamp", "byBalance"):  # the head as it is now
                head = pipe.node.head().header
                state = pipe.node.state_at(head.block_number)
                args = [
                    args[0],
                    {"byNumber": head.block_number, "byTimestamp": head.timestamp,
                     "byBalance": state.get_balance(attacker.address)}[name],
                ]  # fmt: skip
            jobs = len(pipe.backend.submitted)
            tx_hash = attacker.send(detector, _calldata(detector_abi, name, types, args))
            pipe.settle()
            assert pipe.status(tx_hash) == "ready", name
            assert len(pipe.backend.submitted) == jobs, f"{name} made the hub work"
            assert _included(pipe, tx_hash).state_root == b"\x01", name
        assert pipe.read(detector_abi, detector, "calls", "uint256") == 0
        _honest_call_works(pipe, detector_abi, detector, pipe.wallets[2])
    finally:
        pipe.close()


def test_a_transaction_deferred_again_and_again_is_dropped_and_its_sender_throttled(
    guarded: Pipe, adjustable_abi: CompiledContract
) -> None:
    """An accomplice changes the model input in front of the victim transaction in every
    block (higher tip), so the block never makes the call its simulation made: after
    ``max_deferrals`` re-detections it is dropped with the reason, and the jobs it cost
    count against its sender."""
    pipe = guarded
    adjustable = pipe.deploy(adjustable_abi, ["string"], [MODEL_CID])
    attacker, accomplice = pipe.wallets[1], pipe.wallets[2]
    tx_hash = attacker.send(adjustable, selector(adjustable_abi, "predict"))
    for offset in range(10, 20):
        pipe.settle()
        if pipe.status(tx_hash) == "dropped":
            break
        assert pipe.status(tx_hash) == "ready"
        setter = _calldata(adjustable_abi, "setOffset", ["int256"], [offset])
        accomplice.send(adjustable, setter, tip=GWEI_TIP * 10)
        pipe.settle()
        block = pipe.mine()
        assert tx_hash not in [t.hash for t in block.transactions]
    status = create_app(pipe.node).state.dispatcher.handle(
        {"jsonrpc": "2.0", "id": 1, "method": "neuro_getInferenceStatus",
         "params": ["0x" + tx_hash.hex()]}
    )["result"]  # fmt: skip
    assert status["status"] == "dropped"
    assert status["reason"].startswith("deferred at sealing 3 times: the model calls it makes")
    assert pipe.node.transaction(tx_hash) is None  # out of the mempool: its nonce is free
    attacker.nonce -= 1
    with pytest.raises(TransactionRejected, match="too many unpaid inference jobs"):
        attacker.send(adjustable, selector(adjustable_abi, "predict"))
    honest = pipe.wallets[3]
    tx_hash = honest.send(adjustable, selector(adjustable_abi, "predict"))
    pipe.settle()
    assert _included(pipe, tx_hash).state_root == b"\x01"


def test_results_the_block_does_not_use_are_unpaid_and_throttle_the_sender(
    guarded: Pipe, detector_abi: CompiledContract
) -> None:
    """What simulation cannot know (the block's earlier transactions): an accomplice arms the
    contract in front of the attacker's call, so the block skips the model call its
    simulation made. Each such job is unpaid; past ``max_unpaid_jobs_per_sender`` the
    sender's inference transactions are refused."""
    pipe = guarded
    detector = pipe.deploy(detector_abi, ["string"], [MODEL_CID])
    attacker, accomplice = pipe.wallets[1], pipe.wallets[2]
    for value in range(3):
        tx_hash = attacker.send(detector, _calldata(detector_abi, "byState", ["int256"], [value]))
        pipe.settle()
        assert pipe.status(tx_hash) == "ready"
        accomplice.send(detector, selector(detector_abi, "arm"), tip=GWEI_TIP * 10)
        pipe.settle()
        assert _included(pipe, tx_hash).state_root == b"\x01"
    assert pipe.read(detector_abi, detector, "calls", "uint256") == 0  # three free jobs...
    with pytest.raises(TransactionRejected, match="too many unpaid inference jobs: .* had 3"):
        attacker.send(detector, _calldata(detector_abi, "byState", ["int256"], [9]))
    attacker.nonce -= 1
    _honest_call_works(pipe, detector_abi, detector, pipe.wallets[3])  # ...and no fourth


def test_per_sender_limit_counts_ready_transactions_and_holds_in_a_json_rpc_batch(
    guarded: Pipe, detector_abi: CompiledContract
) -> None:
    """``max_parked_per_sender`` (4 here) counts parked and ready transactions alike, and a
    JSON-RPC batch of sends is checked one by one against it."""
    pipe = guarded
    detector = pipe.deploy(detector_abi, ["string"], [MODEL_CID])
    attacker = pipe.wallets[1]
    raws = []
    for value in range(6):
        raws.append(attacker.sign(detector, _calldata(detector_abi, "honest", ["int256"], [value])))
        attacker.nonce += 1
    batch = [
        {"jsonrpc": "2.0", "id": i, "method": "eth_sendRawTransaction", "params": ["0x" + r.hex()]}
        for i, r in enumerate(raws)
    ]
    replies = create_app(pipe.node).state.dispatcher.handle(batch)
    accepted = [r for r in replies if "result" in r]
    refused = [r["error"] for r in replies if "error" in r]
    assert len(accepted) == 4
    assert [e["code"] for e in refused] == [-32000, -32000]
    assert all("too many parked inference transactions" in e["message"] for e in refused)
    attacker.nonce -= 2
    pipe.settle()
    assert {pipe.status(bytes.fromhex(r["result"][2:])) for r in accepted} == {"ready"}
    # ready ones count: a fifth is still refused while four wait for a block
    with pytest.raises(TransactionRejected, match="has 4 waiting"):
        attacker.send(detector, _calldata(detector_abi, "honest", ["int256"], [7]))
    attacker.nonce -= 1
    block = pipe.mine()
    assert len(block.transactions) == 4
    tx_hash = attacker.send(detector, _calldata(detector_abi, "honest", ["int256"], [8]))
    pipe.settle()
    assert _included(pipe, tx_hash).state_root == b"\x01"


def test_ready_transactions_expire_at_the_deadline_too(
    tmp_path: Path, detector_abi: CompiledContract
) -> None:
    pipe = _open(tmp_path, deadline=1.0)
    try:
        detector = pipe.deploy(detector_abi, ["string"], [MODEL_CID])
        tx_hash = pipe.wallets[1].send(detector, _calldata(detector_abi, "honest", ["int256"], [1]))
        pipe.settle()
        assert pipe.status(tx_hash) == "ready"
        end = time.monotonic() + 30
        while pipe.status(tx_hash) != "dropped" and time.monotonic() < end:
            time.sleep(0.05)
        record = pipe.pool.statuses.get(tx_hash)
        assert record is not None and record.reason == "deadline passed: not included within 1 s"
        assert pipe.node.transaction(tx_hash) is None
    finally:
        pipe.close()


def test_failed_jobs_count_as_unpaid_but_deadlines_and_a_missing_hub_do_not(
    tmp_path: Path, detector_abi: CompiledContract
) -> None:
    """A job the hub answered with a failure (an input the model refuses) cost it work: it
    counts against the sender. A job nobody answered (deadline, no backend) does not, so
    honest senders are not throttled for the hub's own outage."""
    pipe = open_pipe(tmp_path, max_unpaid_jobs_per_sender=2)
    try:
        detector = pipe.deploy(detector_abi, ["string"], [MODEL_CID])
        sender = pipe.wallets[1]

        def fail_one(error: str, value: int) -> None:
            tx_hash = sender.send(detector, _calldata(detector_abi, "honest", ["int256"], [value]))
            pipe.settle()
            pipe.backend.fail(error)
            pipe.settle()
            assert pipe.status(tx_hash) == "dropped"
            sender.nonce -= 1  # dropped: the nonce is free again

        for value in range(3):
            fail_one("no sprinter answered before the job's deadline", value)
        fail_one(NO_BACKEND_MESSAGE, 3)
        fail_one("the model refused the input: shape (1, 1) is not (1, 4)", 4)
        fail_one("the model refused the input: shape (1, 1) is not (1, 4)", 5)
        with pytest.raises(TransactionRejected, match="too many unpaid inference jobs: .* had 2"):
            sender.send(detector, _calldata(detector_abi, "honest", ["int256"], [6]))
        sender.nonce -= 1
        pipe.backend.auto = True
        _honest_call_works(pipe, detector_abi, detector, pipe.wallets[2])
    finally:
        pipe.close()
