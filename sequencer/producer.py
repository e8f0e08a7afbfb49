"""Block production: the block-time loop and the hooks a block goes through.

The loop is a thread that asks the node for a block every ``block_time`` seconds; the
node decides whether there is anything to mine (no empty blocks unless configured).
Missed ticks are not caught up: after a stall the next block comes one block time later.

``BlockHooks`` is the seam for inference (PIPE): which transactions are ready, the
environment a block or call executes in, the header's ``extraData`` computed from it,
and a notification once a block is persisted. ``PlainBlocks`` is the stand-in used when
no inference is wired: every transaction is ready, ``extraData`` is the zero hash.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

from eth.abc import BlockAPI, BlockHeaderAPI, ReceiptAPI, SignedTransactionAPI

from .chain.genesis import GENESIS_EXTRA_DATA

log = logging.getLogger(__name__)


class BlockHooks(Protocol):
    """What the block builder asks of the inference layer (or of ``PlainBlocks``).

    All run on the producing thread; all but ``block_persisted`` without the node lock.
    """

    def is_ready(self, tx: SignedTransactionAPI) -> bool:
        """May this pending transaction go into the next block? (PIPE parks until resolved.)"""
        ...

    def block_environment(self, header: BlockHeaderAPI) -> Any:
        """The environment the block with this (unsealed) header executes in."""
        ...

    def extra_data(self, environment: Any) -> bytes:
        """The sealed header's ``extraData`` (32 bytes: the inference root)."""
        ...

    def call_environment(self, header: BlockHeaderAPI) -> Any:
        """The environment of an ``eth_call``/``eth_estimateGas`` on the state after ``header``."""
        ...

    def block_persisted(
        self, block: BlockAPI, receipts: list[ReceiptAPI], environment: Any
    ) -> None:
        """Called (under the node lock) right after the block is persisted."""
        ...


class PlainBlocks:
    """Blocks without inference: the stand-in ``BlockHooks``."""

    def is_ready(self, tx: SignedTransactionAPI) -> bool:
        return True

    def block_environment(self, header: BlockHeaderAPI) -> Any:
        return None

    def extra_data(self, environment: Any) -> bytes:
        return GENESIS_EXTRA_DATA

    def call_environment(self, header: BlockHeaderAPI) -> Any:
        return None

    def block_persisted(
        self, block: BlockAPI, receipts: list[ReceiptAPI], environment: Any
    ) -> None:
        pass


class BlockProducer:
    """Calls ``produce()`` every ``block_time`` seconds on a daemon thread until stopped."""

    def __init__(self, produce: Callable[[], object], block_time: float) -> None:
        self._produce = produce
        self.block_time = block_time
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        if self.block_time <= 0 or self.running:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="block-producer", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def _run(self) -> None:
        next_at = time.monotonic() + self.block_time
        while not self._stop.wait(max(0.0, next_at - time.monotonic())):
            try:
                self._produce()
            except Exception:  # keep producing: one bad block attempt must not stop the chain
                log.exception("block production failed; retrying next block time")
            next_at += self.block_time
            now = time.monotonic()
            if next_at < now:
                next_at = now + self.block_time
