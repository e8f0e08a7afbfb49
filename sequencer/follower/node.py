"""The follower's node: the sequencer's node parts, serving a chain it only verifies.

A :class:`FollowerNode` is a :class:`~sequencer.node.Node` (same store, engine, reader and
RPC) whose blocks come from a :class:`~.sync.Follower` instead of its own driver: the
driver never runs, the dev methods are off, and ``eth_sendRawTransaction`` is refused
with :class:`~sequencer.errors.ReadOnlyNode` (a verifier has no mempool; geth-style
-32000 error). It needs no key, hub, worker or Redis: model outputs come from each
block's witness, and an ``eth_call`` that calls a model ends as pending, as on a node
without inference.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..chain import ChainSpec
from ..config import ChainConfig
from ..errors import ReadOnlyNode, TransactionRejected
from ..node import Node


class FollowerNode(Node):
    """A read-only node whose chain a follower fills (see the module docstring)."""

    def __init__(self, config: ChainConfig, *, spec: ChainSpec | None = None) -> None:
        super().__init__(config, dev_methods=False, verify_built_blocks=False, spec=spec)

    def start(self) -> None:
        """Nothing to start: the follower, not the block-time driver, adds blocks."""

    def send_raw_transaction(self, raw: bytes) -> bytes:
        raise ReadOnlyNode()

    def send_raw_transactions(self, raws: Sequence[bytes]) -> list[bytes | TransactionRejected]:
        return [ReadOnlyNode() for _ in raws]
