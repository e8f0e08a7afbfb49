"""The follower's sync loop: every block from a source through the state transition.

:class:`Follower` asks its :class:`~.source.BlockSource` for the blocks after its head,
decodes each (the block's RLP with the fork's block class, the witness's receipts with
``neurostack.protocol``) and hands it to the engine's :meth:`~sequencer.engine.Engine.
import_block` — the same ``state_transition`` the sequencer runs on what it builds, then
the same commit (block, receipts and witness in one store transaction). Nothing of a
block that fails is written.

On a failure it stops advancing for good (until restarted): the node keeps serving the
chain it verified, the failure is logged at ERROR and answered by ``neuro_syncStatus``
as ``lastError``. A source that cannot answer is not a failure: the loop retries, and
``lastSourceError`` says why it waits. The witness's ``inferenceRoot``, ``blockNumber``
and ``blockHash`` fields are not read (the state transition recomputes the root from the
receipts and compares it with the header's ``extraData``).
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Any

import rlp
from eth.abc import BlockAPI
from eth_typing import BlockNumber

from neurostack.protocol.receipts import InferenceReceipt, receipt_from_json

from ..chain import InvalidBlock
from ..errors import ConfigError
from .source import BlockSource, SourcedBlock, SourceError

if TYPE_CHECKING:
    from ..node import Node

log = logging.getLogger("sequencer.follower")

BLOCK_ENCODING = "block_encoding"
"""``lastError.check`` of a block whose RLP does not decode (not a state-transition check)."""
WITNESS_ENCODING = "witness_encoding"
"""``lastError.check`` of a witness that is not a list of well-formed receipts."""


class Follower:
    """Follows a block source with ``node`` (see the module docstring). ``step`` and
    ``sync_to`` run in the caller's thread; ``start`` runs ``step`` in a loop in its own."""

    def __init__(
        self,
        node: Node,
        source: BlockSource,
        *,
        batch: int = 32,
        poll_interval: float = 0.2,
        retry_interval: float = 1.0,
    ) -> None:
        self.node = node
        self.source = source
        self.batch = batch
        self.poll_interval = poll_interval
        self.retry_interval = retry_interval
        self.failure: dict[str, Any] | None = None
        self.source_head: int | None = None
        self.source_error: str | None = None
        self.started_at = node.head().number
        self.verified = 0  # blocks verified by this process
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        node.set_sync_status(self)

    # -- what it reports --

    @property
    def halted(self) -> bool:
        return self.failure is not None

    def sync_status(self) -> dict[str, Any]:
        """``neuro_syncStatus``: block numbers as hex quantities, as ``eth_*`` answers."""
        head = self.node.head()
        failure = None
        if self.failure is not None:
            failure = dict(self.failure)
            for key in ("blockNumber", "transactionIndex"):
                if key in failure:
                    failure[key] = hex(failure[key])
        return {
            "role": "follower",
            "source": self.source.description,
            "verifiedHead": hex(head.number),
            "verifiedHash": "0x" + head.hash.hex(),
            "sequencerHead": None if self.source_head is None else hex(self.source_head),
            "syncing": self.progress() is not None,
            "halted": self.halted,
            "lastError": failure,
            "lastSourceError": self.source_error,
        }

    def progress(self) -> tuple[int, int, int] | None:
        current = self.node.head().number
        if self.halted or self.source_head is None or current >= self.source_head:
            return None
        return (self.started_at, current, self.source_head)

    # -- checks before syncing --

    def check_genesis(self) -> None:
        """Refuse a source whose chain id or block 0 is not this chain.toml's."""
        chain_id = self.source.chain_id()
        if chain_id is not None and chain_id != self.node.chain_id:
            raise ConfigError(
                f"{self.source.description} serves chain id {chain_id}, chain.toml says "
                f"{self.node.chain_id}: follow with that chain's chain.toml (--config)"
            )
        blocks = self.source.fetch(0, 1)
        if not blocks:
            raise SourceError(f"{self.source.description} serves no block 0")
        theirs = self._decode_block(blocks[0]).hash
        ours = self.node.block_by_number(0)
        assert ours is not None
        if theirs != ours.hash:
            raise ConfigError(
                f"the genesis of {self.source.description} (0x{theirs.hex()}) is not the one "
                f"chain.toml describes (0x{ours.hash.hex()}): follow with that chain's "
                "chain.toml (--config), and a data dir of its own"
            )

    # -- syncing --

    def step(self, target: int | None = None) -> int:
        """Verify and commit the next blocks up to ``target`` (the source's head when None):
        at most ``batch`` of them. Returns how many were committed; raises ``SourceError``."""
        if self.halted:
            return 0
        if target is None:
            target = self.source.head()
            self.source_head = target
        head = self.node.head().number
        if head >= target:
            return 0
        done = 0
        for sourced in self.source.fetch(head + 1, min(self.batch, target - head)):
            if not self._import(sourced):
                break
            done += 1
        self.verified += done
        return done

    def sync_to(self, target: int, stop: threading.Event | None = None) -> bool:
        """Follow up to block ``target``; True when it is verified, False after a failure
        (or when ``stop`` is set first). Raises ``SourceError`` when the source cannot serve
        the blocks."""
        self.source_head = max(self.source_head or 0, target)
        while not self.halted and self.node.head().number < target:
            if stop is not None and stop.is_set():
                return False
            if self.step(target) == 0 and not self.halted:
                raise SourceError(
                    f"{self.source.description} does not serve block {self.node.head().number + 1}"
                )
        return not self.halted

    def _import(self, sourced: SourcedBlock) -> bool:
        try:
            block = self._decode_block(sourced)
        except ValueError as exc:
            return self._fail(sourced.number, BLOCK_ENCODING, str(exc))
        try:
            witness = decode_witness(sourced.witness)
        except ValueError as exc:
            return self._fail(sourced.number, WITNESS_ENCODING, str(exc), block_hash=block.hash)
        try:
            self.node.engine.import_block(block, witness)
        except InvalidBlock as exc:
            self.failure = {**exc.to_json(), "message": str(exc)}
            log.error("not adopting block %d: %s", exc.block_number, exc)
            return False
        return True

    def _fail(
        self, number: int, check: str, reason: str, *, block_hash: bytes | None = None
    ) -> bool:
        self.failure = {"blockNumber": number, "check": check, "reason": reason}
        if block_hash is not None:
            self.failure["blockHash"] = "0x" + block_hash.hex()
        self.failure["message"] = f"block {number} is invalid: {check}: {reason}"
        log.error("not adopting block %d: %s: %s", number, check, reason)
        return False

    def _decode_block(self, sourced: SourcedBlock) -> BlockAPI:
        chain = self.node.engine.chain
        block_class = chain.get_vm_class_for_block_number(BlockNumber(sourced.number))
        try:
            block: BlockAPI = rlp.decode(sourced.raw, sedes=block_class.get_block_class())
        except Exception as exc:  # noqa: BLE001 - rlp and py-evm decoders raise many kinds
            raise ValueError(f"its RLP does not decode as a block: {exc}") from None
        return block

    # -- the loop --

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="follower", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def _run(self) -> None:
        """Follow until stopped; after a failure keep watching the source's head only."""
        while not self._stop.is_set():
            wait = self.poll_interval
            try:
                if self.halted:
                    self.source_head = self.source.head()
                    wait = self.retry_interval
                elif self.step() > 0:
                    wait = 0.0
                self.source_error = None
            except SourceError as exc:
                if self.source_error != str(exc):
                    log.warning("waiting for the block source: %s", exc)
                self.source_error = str(exc)
                wait = self.retry_interval
            except Exception:  # keep serving the verified chain; the log has the cause
                log.exception("the follower's sync step failed")
                wait = self.retry_interval
            if wait:
                self._stop.wait(wait)


def decode_witness(witness: Any) -> list[InferenceReceipt]:
    """The receipts of a ``neuro_getInferenceWitness`` answer; ValueError if malformed."""
    if not isinstance(witness, dict) or not isinstance(witness.get("receipts"), list):
        raise ValueError("the witness is not an object with a list of receipts")  # noqa: TRY004
    out = []
    for index, entry in enumerate(witness["receipts"]):
        try:
            out.append(receipt_from_json(entry))
        except (TypeError, ValueError, KeyError) as exc:
            raise ValueError(f"receipt {index} of the witness is malformed: {exc}") from None
    return out
