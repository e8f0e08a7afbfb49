"""Blocks on time under a full load: while transactions wait, blocks come one block time
apart (the median, p05 and p95 intervals within 10%), a block takes what fits in its time
budget, and every transaction whose hash was returned is included."""

from __future__ import annotations

import itertools
import math
import statistics
import threading
import time
from pathlib import Path

import coincurve
import pytest
import rlp
from eth_account import Account
from eth_utils import keccak

from sequencer.driver import BLOCK_MARGIN, LEARNED_BLOCKS, BuildBudget
from sequencer.node import Node

from .helpers import CHAIN_ID, GWEI, RECIPIENT, make_config

pytestmark = pytest.mark.slow  # a real block-time loop under load

BLOCK_TIME = 1.0
SENDERS = 4
PER_SENDER = 9000  # blocks take 900-1,400 transfers; the clients send only what is needed
BATCH = 50
WARM_UP = 3
# Intervals that began with transactions waiting. At least 20, so that the nearest-rank
# p95 and p05 are a percentile and not the maximum and minimum: one interval in twenty
# may be late (a scheduler stall on a shared machine), as the "p95" allows.
LOADED_INTERVALS = 20
# Blocks fuller than the gas target raise the base fee 12.5% each: headroom for the run
# (2 gwei was below the base fee after ~6 blocks of 800+ transfers)
MAX_FEE = 100 * GWEI
# A gas limit the budget reaches first: at 30M a block of 1,428 transfers was full by gas
# within the budget once execution got cheaper (docs/performance.md, third pass)
GAS_LIMIT = 100_000_000


def _transfer(nonce: int) -> dict[str, object]:
    return {"chainId": CHAIN_ID, "nonce": nonce, "to": "0x" + RECIPIENT.hex(), "value": 1,
            "gas": 21_000, "maxFeePerGas": MAX_FEE, "maxPriorityFeePerGas": GWEI // 10,
            "type": 2}  # fmt: skip


def signed_burst(config, sender: int) -> list[bytes]:
    """PER_SENDER signed EIP-1559 transfers, encoded directly (eth-account takes 1.3 ms a
    transaction: 16,000 of them would take 20 s); checked against eth-account's bytes."""
    key = config.dev_accounts()[sender].private_key
    signer = coincurve.PrivateKey(bytes(Account.from_key(key).key))
    raws = []
    for nonce in range(PER_SENDER):
        fields = [CHAIN_ID, nonce, GWEI // 10, MAX_FEE, 21_000, RECIPIENT, 1, b"", []]
        sig = signer.sign_recoverable(keccak(b"\x02" + rlp.encode(fields)), hasher=None)
        r, s, v = int.from_bytes(sig[:32]), int.from_bytes(sig[32:64]), sig[64]
        raws.append(b"\x02" + rlp.encode([*fields, v, r, s]))
    for nonce in (0, PER_SENDER - 1):
        assert raws[nonce] == bytes(Account.sign_transaction(_transfer(nonce), key).raw_transaction)
    return raws


# It measures block intervals: on parallel workers no other test shares the CPU meanwhile
# (conftest.py), so what it measures is this node's load, not a neighbour's devnet start.
@pytest.mark.alone
def test_intervals_stay_on_time_under_full_load_and_nothing_is_lost(tmp_path: Path) -> None:
    config = make_config(tmp_path, block_time=BLOCK_TIME, gas_limit=GAS_LIMIT)
    bursts = [signed_burst(config, i) for i in range(SENDERS)]
    # As in production (docs/performance.md): the suite's re-verification of every built
    # block (tests/conftest.py) doubles each block's finishing cost and the spread of its
    # estimate; these blocks are plain transfers, verified by the rest of the suite.
    node = Node(config, verify_built_blocks=False)
    commits: list[tuple[float, int, int]] = []  # (when, transactions, pooled after it)
    node.add_commit_listener(
        lambda c: commits.append(
            (time.monotonic(), len(c.executed.block.transactions), len(node.txpool.mempool))
        )
    )

    def loaded() -> list[float]:
        """Intervals that began with transactions waiting (the block before left some),
        after the first WARM_UP blocks (the producer learns what finishing a block costs)."""
        return [b[0] - a[0] for a, b in itertools.pairwise(list(commits)[WARM_UP:]) if a[2] > 0]

    acknowledged: list[bytes] = []
    errors: list[object] = []
    enough = threading.Event()

    def load(raws: list[bytes]) -> None:
        """One client per sender, batches of 50 as ethers sends them; it keeps more
        waiting than the last block took, until enough loaded intervals were seen."""
        for first in range(0, len(raws), BATCH):
            while not enough.is_set():
                last = commits[-1][1] if commits else 0
                if len(node.txpool.mempool) < 2 * last + 2 * BATCH:
                    break
                time.sleep(0.01)
            if enough.is_set():
                return
            for result in node.send_raw_transactions(raws[first : first + BATCH]):
                (acknowledged if isinstance(result, bytes) else errors).append(result)

    node.start()
    try:
        clients = [threading.Thread(target=load, args=(raws,)) for raws in bursts]
        for client in clients:
            client.start()
        deadline = time.monotonic() + 300
        while len(loaded()) < LOADED_INTERVALS and any(c.is_alive() for c in clients):
            assert time.monotonic() < deadline, commits
            time.sleep(0.05)
        enough.set()
        for client in clients:
            client.join()
        assert errors == []  # in-order bursts from one account are accepted (geth)
        while len(node.txpool.mempool):
            assert time.monotonic() < deadline, "the pool did not drain"
            time.sleep(0.05)
        for tx_hash in acknowledged:  # none lost: each acknowledged transaction is in a block
            lookup = node.transaction(tx_hash)
            assert lookup is not None and not lookup.pending, tx_hash.hex()
    finally:
        node.stop()
    intervals = sorted(loaded())
    assert len(intervals) >= LOADED_INTERVALS, commits  # blocks were full: the budget cut them
    # Blocks come one block time apart under the load (before the budget, a block took
    # every waiting transaction and came 3-5 block times late): the median interval.
    assert abs(statistics.median(intervals) - BLOCK_TIME) <= 0.1 * BLOCK_TIME, intervals
    # ... and so do nearly all of them: the p05 and p95 intervals (nearest rank) within
    # 10%. While a block is sealed and committed, admission and the garbage collector wait.
    rank = math.ceil(0.95 * len(intervals))
    p95, p05 = intervals[rank - 1], intervals[len(intervals) - rank]
    assert 0.9 * BLOCK_TIME <= p05 <= p95 <= 1.1 * BLOCK_TIME, intervals


def test_budget_learns_the_finishing_cost() -> None:
    budget = BuildBudget(1.0, finish_ratio=2.0)  # until it learns
    # a block due at its tick: the margin, then twice its execution time so far to finish
    assert budget.seal_at(10.0, executing=0.2) == pytest.approx(10.0 - BLOCK_MARGIN - 0.4)
    budget.learn(executing=0.4, finishing=0.2)
    assert budget.finish_ratio == pytest.approx(0.5)  # learned from the block
    budget.learn(executing=0.4, finishing=1.2)
    assert budget.finish_ratio == pytest.approx(3.0)  # up at once
    for _ in range(LEARNED_BLOCKS - 1):
        budget.learn(executing=0.4, finishing=0.16)
        assert budget.finish_ratio == pytest.approx(3.0)  # the slow block is remembered
    budget.learn(executing=0.4, finishing=0.16)
    assert budget.finish_ratio == pytest.approx(0.4)  # ... for LEARNED_BLOCKS blocks
    budget.learn(executing=0.02, finishing=0.1)  # a few transactions: mostly fixed costs
    assert budget.finish_ratio == pytest.approx(0.4)  # not learned from
