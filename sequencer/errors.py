"""Errors of the rollup node.

Tree::

    SequencerError
    ├── ConfigError(ValueError)            chain.toml is missing or invalid, or the data dir
    │                                      holds another chain
    ├── TransactionRejected(ValueError)    send_raw_transaction refused a transaction; the
    │                                      message is geth's (``nonce too low: ...``)
    │   └── ReadOnlyNode                   sent to a follower: a verifier takes no
    │                                      transactions (send them to the sequencer)
    ├── ExecutionReverted                  eth_call / eth_estimateGas: the EVM reverted;
    │                                      carries the revert data
    ├── InvalidCall(ValueError)            eth_call / eth_estimateGas: the call cannot run
    │                                      (out of gas, bad opcode, bad parameters)
    ├── BlockNotFound(LookupError)         a block number/tag past the head
    ├── InvalidBlockTimestamp(ValueError)  evm_mine with a timestamp not after the head's
    ├── DevMethodsDisabled                 evm_* methods on a node without dev methods
    ├── LimitReached                       a caller passed a node limit (JSON-RPC -32005,
    │                                      geth's "limit exceeded"); retry later
    ├── TransactionDeferred                raised inside block execution (a model call without
    │                                      a valid receipt) to take a transaction out of the
    │                                      block being built and keep it pending; never
    │                                      reaches users
    ├── InvalidBlock(ValueError)           a published block fails the state transition
    │                                      (``sequencer.chain.exceptions`` has its tree)
    └── StoreError                         the on-disk store is unusable (corrupt, locked)

Classified by what the caller should do: ``TransactionRejected`` and ``InvalidCall`` are
the user's to fix; ``BlockNotFound`` may succeed later; ``StoreError`` stops the node.
"""

from __future__ import annotations


class SequencerError(Exception):
    """Root of every error the node raises on purpose."""


class ConfigError(SequencerError, ValueError):
    """The chain configuration is missing or invalid; the message names the field."""


class LimitReached(SequencerError):
    """A caller passed one of the node's limits; the message names it and its setting."""


class TransactionRejected(SequencerError, ValueError):
    """The mempool refused a transaction.

    ``reason`` is geth's bare error text (``"nonce too low"``, ``"already known"``, ...), so
    callers and tools can match on it; ``str(error)`` adds geth-style detail after a colon.
    """

    def __init__(self, reason: str, detail: str = "") -> None:
        self.reason = reason
        self.detail = detail
        super().__init__(f"{reason}: {detail}" if detail else reason)


class ExecutionReverted(SequencerError):
    """The call reverted. ``data`` is the raw revert data, ``message`` geth's text.

    ``message`` is ``"execution reverted"`` or ``"execution reverted: <reason>"`` when the
    data is a Solidity ``Error(string)``.
    """

    def __init__(self, data: bytes, message: str = "execution reverted") -> None:
        self.data = data
        self.message = message
        super().__init__(message)


class InvalidCall(SequencerError, ValueError):
    """The call could not run (e.g. ``out of gas``, ``invalid opcode``, bad parameters)."""


class BlockNotFound(SequencerError, LookupError):
    """The requested block does not exist (yet)."""


class InvalidBlockTimestamp(SequencerError, ValueError):
    """A requested block timestamp is not after the head block's timestamp."""


class DevMethodsDisabled(SequencerError):
    """A dev method (evm_mine, evm_snapshot, ...) was called on a node without them."""

    def __init__(self, method: str = "dev methods") -> None:
        super().__init__(
            f"{method} is disabled on this node; enable [rpc] dev_methods in chain.toml"
        )


class ReadOnlyNode(TransactionRejected):
    """A transaction sent to a follower (``eth_sendRawTransaction``): it verifies the
    sequencer's blocks and makes none, so it has no mempool to put a transaction in."""

    def __init__(self) -> None:
        super().__init__(
            "this node is a verifier",
            "it follows a sequencer (neurostack node --follow) and accepts no transactions; "
            "send them to the sequencer",
        )


class TransactionDeferred(SequencerError):
    """Raised during block execution to keep a transaction out of the current block.

    The block builder reverts the transaction's effects, leaves it in the mempool and goes
    on with the next one; the state transition rejects a published block instead. The
    inference precompile raises it when a call needs a result the block's witness does
    not hold (or holds an invalid receipt for).
    """


class StoreError(SequencerError):
    """The chain database cannot be used; the message says which file and why."""
