"""Dev methods (Hardhat/anvil style): mine now, snapshots and revert, moving the clock.

A :class:`DevMethods` object exists only on a node that enables them (``[rpc]
dev_methods``); the node hands it to the RPC, which then serves ``evm_mine``,
``evm_snapshot``, ``evm_revert`` and ``evm_increaseTime``. A node without them has no
such object, so neither the RPC nor anything else can reach these powers.
"""

from __future__ import annotations

import itertools

from eth.abc import BlockAPI
from eth_typing import Hash32

from .driver import ChainClock, Driver
from .engine import Engine
from .txpool import TxPool


class DevMethods:
    """The dev powers over one node's chain."""

    def __init__(self, driver: Driver, engine: Engine, txpool: TxPool, clock: ChainClock) -> None:
        self._driver = driver
        self._engine = engine
        self._txpool = txpool
        self._clock = clock
        self._snapshots: dict[int, Hash32] = {}
        self._ids = itertools.count(1)

    def mine(self, timestamp: int | None = None) -> BlockAPI:
        """Mine all pending transactions (or an empty block) now."""
        block = self._driver.produce(force=True, timestamp=timestamp)
        if block is None:
            raise RuntimeError("the node is stopped; no block was made")
        return block

    def snapshot(self) -> int:
        with self._engine.lock:
            snapshot_id = next(self._ids)
            self._snapshots[snapshot_id] = Hash32(self._engine.head_header().hash)
            return snapshot_id

    def revert(self, snapshot_id: int) -> bool:
        """Rewind the canonical chain to the snapshot's head; that snapshot and later ones
        are used up. False for an unknown id."""
        with self._driver.paused(), self._engine.lock:
            target = self._snapshots.get(snapshot_id)
            if target is None:
                return False
            for sid in [s for s in self._snapshots if s >= snapshot_id]:
                del self._snapshots[sid]
            self._engine.rewind(target)
            self._txpool.version += 1  # the pending state depends on the head
            return True

    def increase_time(self, seconds: int) -> int:
        """Move the block clock forward; the total offset in seconds (ganache's answer)."""
        with self._engine.lock:
            return self._clock.advance(seconds)
