"""Follow the chain into the index: new blocks, reorgs and resets, pending inference.

:class:`Follower` polls the node (one batch: head number, genesis hash, the hash of the
index's head) and then:

- a different chain id or genesis hash: another chain answers at this URL (``neurostack up --reset``
  with a new config, another node): the index is emptied and rebuilt from block 0;
- the node's block at the index's head has another hash, or a new block's ``parentHash``
  is not the index's head (``evm_revert``, ``--reset`` of a chain with the same genesis):
  a reorg. The highest common block is found by binary search (the chains share a
  prefix), everything above it is dropped and indexed again;
- otherwise the new blocks are fetched in batches (blocks with their receipts) and
  appended.

The pending transactions PIPE handles are followed by ``pending.PendingTracker``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from eth_abi import decode
from eth_abi.exceptions import DecodingError
from eth_utils import keccak

from hub_client import HubError

from .errors import ExplorerError
from .fees import ModelCall, fee_split
from .index import Index, IndexedBlock
from .node import NodeReader, quantity
from .registry import REGISTRY_HEX, read_model

log = logging.getLogger(__name__)

Clock = Callable[[], float]
MODEL_REGISTERED = "0x" + keccak(text="ModelRegistered(string,bytes32,address,uint64,uint16)").hex()


def _lower(address: str | None) -> str | None:
    return address.lower() if address else None


def model_calls(reader: NodeReader, receipt: dict[str, Any], parent: int) -> list[ModelCall]:
    """The receipt's ``inferences`` with each model's registry terms at the parent block."""
    calls = []
    terms: dict[str, tuple[str | None, int]] = {}
    for entry in receipt.get("inferences") or []:
        cid = str(entry["modelCID"])
        if cid not in terms:
            model = read_model(reader, cid, parent)
            terms[cid] = (
                ("0x" + bytes(model.owner).hex(), model.royalty_bps) if model else (None, 0)
            )
        owner, royalty = terms[cid]
        calls.append(
            ModelCall(
                request_id=str(entry["requestId"]),
                model_cid=cid,
                mode=str(entry["mode"]),
                sprinter=str(entry["sprinter"]).lower(),
                model_gas=quantity(entry.get("modelGas", 0)),
                owner=owner,
                royalty_bps=royalty,
            )
        )
    return calls


def index_entry(
    reader: NodeReader, block: dict[str, Any], receipts: list[dict[str, Any]]
) -> IndexedBlock:
    """What the index keeps of one block (full transactions) and its receipts."""
    number = quantity(block["number"])
    base_fee = quantity(block.get("baseFeePerGas") or 0)
    by_hash = {r["transactionHash"]: r for r in receipts}
    txs, calls, registrations = [], [], []
    for tx in block["transactions"]:
        receipt = by_hash[tx["hash"]]
        found = model_calls(reader, receipt, number - 1) if receipt.get("inferences") else []
        if found:
            split = fee_split(
                gas_used=quantity(receipt["gasUsed"]),
                gas_price=quantity(receipt["effectiveGasPrice"]),
                base_fee=base_fee,
                calls=found,
            )
            ts = quantity(block["timestamp"])
            calls += [(tx["hash"], i, ts, p) for i, p in enumerate(split.payouts)]
        for entry in receipt.get("logs", []):
            if entry["address"].lower() == REGISTRY_HEX and entry["topics"][:1] == [
                MODEL_REGISTERED
            ]:
                registrations.append((_registered_cid(entry["data"]), tx["hash"]))
        txs.append(
            {
                "hash": tx["hash"],
                "idx": quantity(tx["transactionIndex"]),
                "from": _lower(tx["from"]),
                "to": _lower(tx.get("to")),
                "created": _lower(receipt.get("contractAddress")),
                "value": quantity(tx.get("value", "0x0")),
                "status": quantity(receipt.get("status", "0x1")),
                "gas_used": quantity(receipt["gasUsed"]),
                "calls": len(found),
            }
        )
    return IndexedBlock(
        number=number,
        hash=block["hash"],
        parent_hash=block["parentHash"],
        timestamp=quantity(block["timestamp"]),
        gas_used=quantity(block["gasUsed"]),
        gas_limit=quantity(block["gasLimit"]),
        txs=txs,
        calls=calls,
        registrations=[r for r in registrations if r[0]],
    )


def _registered_cid(data: str) -> str:
    try:
        return str(decode(["string", "bytes32", "uint64", "uint16"], bytes.fromhex(data[2:]))[0])
    except (DecodingError, ValueError, OverflowError):  # a malformed log names no model
        return ""


class Poller:
    """A step run on its own thread every ``poll_interval`` until stopped. A failure to
    reach or understand the node is logged once, kept in ``last_error`` and retried."""

    thread_name = "explorer-poller"

    def __init__(
        self, reader: NodeReader, index: Index, *, clock: Clock, poll_interval: float
    ) -> None:
        self.reader = reader
        self.index = index
        self.clock = clock
        self.poll_interval = poll_interval
        self.last_error: str | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def step(self) -> bool:
        """One round of work; True when more is waiting (run again at once)."""
        raise NotImplementedError

    def run(self) -> None:
        while not self._stop.is_set():
            try:
                busy = self.step()
                self.last_error = None
            except (HubError, ExplorerError, KeyError, ValueError, TypeError) as exc:
                if self.last_error != str(exc):
                    log.warning("%s: reading the node failed (retrying): %s", self.thread_name, exc)
                self.last_error = str(exc)
                busy = False
                self._stop.wait(self.poll_interval * 5)
            if not busy:
                self._stop.wait(self.poll_interval)

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run, name=self.thread_name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)


class Follower(Poller):
    """Keeps an :class:`Index` equal to the node's canonical chain."""

    thread_name = "explorer-follower"

    def __init__(
        self,
        reader: NodeReader,
        index: Index,
        *,
        clock: Clock = time.time,
        poll_interval: float = 0.2,
        batch_size: int = 32,
    ) -> None:
        super().__init__(reader, index, clock=clock, poll_interval=poll_interval)
        self.batch_size = batch_size
        self.resets = 0  # genesis changes seen
        self.reorgs = 0  # rollbacks done
        self.changed = threading.Condition()

    def step(self) -> bool:
        return self.sync_once() > 0

    # -- one step --------------------------------------------------------------------------

    def sync_once(self) -> int:
        """Bring the index up to the node's head; return how many blocks were added."""
        ours = self.index.head()
        calls: list[tuple[str, list[Any]]] = [
            ("eth_blockNumber", []),
            ("eth_chainId", []),
            ("eth_getBlockByNumber", ["0x0", False]),
        ]
        if ours is not None:
            calls.append(("eth_getBlockByNumber", [hex(ours[0]), False]))
        head_raw, chain_id, genesis, *at_ours = self.reader.batch(calls)
        head = quantity(head_raw)
        if genesis is None:
            raise ExplorerError("the node has no genesis block")
        # Genesis hashes ignore the chain id: two chains with the same premine share one.
        identity = f"{quantity(chain_id)}:{genesis['hash']}"
        if self.index.meta("genesis") != identity:
            if self.index.meta("genesis") is not None:
                log.info("new chain %s: rebuilding the index", identity)
                self.resets += 1
            self.index.reset(identity)
            ours = None
        elif ours is not None and (at_ours[0] is None or at_ours[0]["hash"] != ours[1]):
            self._rollback(ours[0], head)
            ours = self.index.head()
        added = 0
        next_number = 0 if ours is None else ours[0] + 1
        while next_number <= head and not self._stop.is_set():
            numbers = list(range(next_number, min(head, next_number + self.batch_size - 1) + 1))
            fetched = self.reader.blocks_with_receipts(numbers)
            entries = []
            parent = self.index.hash_at(next_number - 1) if next_number else None
            for block, receipts in fetched:
                if parent is not None and block["parentHash"] != parent:
                    break  # reorg under our feet: the next sync rolls back
                entries.append(index_entry(self.reader, block, receipts))
                parent = block["hash"]
            if entries:
                self.index.add_blocks(entries, self.clock())
                added += len(entries)
                self._notify()
            if len(entries) < len(numbers):
                break
            next_number = numbers[-1] + 1
        return added

    def _rollback(self, our_head: int, node_head: int) -> None:
        """Drop our blocks above the highest one the node still has (binary search)."""
        lo, hi = -1, min(our_head, node_head)  # invariant: lo is common (or -1), above hi not
        while lo < hi:
            mid = (lo + hi + 1) // 2
            (node_hash,) = self.reader.block_hashes([mid])
            if node_hash is not None and node_hash == self.index.hash_at(mid):
                lo = mid
            else:
                hi = mid - 1
        log.info("reorg: the chain changed above block %d; re-indexing", lo)
        self.reorgs += 1
        self.index.rollback_to(lo)
        self._notify()

    def _notify(self) -> None:
        with self.changed:
            self.changed.notify_all()

    def wait_for(self, number: int, timeout: float) -> bool:
        """Block until the index holds block ``number`` (True) or ``timeout`` passed."""
        end = time.monotonic() + timeout
        with self.changed:
            while True:
                head = self.index.head()
                if head is not None and head[0] >= number:
                    return True
                left = end - time.monotonic()
                if left <= 0:
                    return False
                self.changed.wait(left)

    def stop(self) -> None:
        super().stop()
        self._notify()
