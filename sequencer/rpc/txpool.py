"""geth's ``txpool_`` namespace: the pool's transactions by sender and nonce.

``pending`` are the executable transactions (nonces following on from the state without
a gap), ``queued`` the rest. As geth: senders keyed by their checksummed address, nonces as
decimal strings, transactions in the pending ``RPCTransaction`` shape.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from eth.abc import SignedTransactionAPI
from eth_utils import to_checksum_address

from .context import RpcContext
from .dispatch import MethodTable
from .formatters import format_transaction
from .params import address

METHODS = MethodTable()


def _by_nonce(txs: Iterable[SignedTransactionAPI]) -> dict[str, Any]:
    return {str(tx.nonce): format_transaction(tx) for tx in sorted(txs, key=lambda t: t.nonce)}


def _by_sender(txs: list[SignedTransactionAPI]) -> dict[str, Any]:
    senders: dict[bytes, list[SignedTransactionAPI]] = {}
    for tx in txs:
        senders.setdefault(tx.sender, []).append(tx)
    return {to_checksum_address(s): _by_nonce(own) for s, own in sorted(senders.items())}


@METHODS.method("txpool_content")
def content(ctx: RpcContext) -> dict[str, Any]:
    pending, queued = ctx.node.pool_content()
    return {"pending": _by_sender(pending), "queued": _by_sender(queued)}


@METHODS.method("txpool_contentFrom", address)
def content_from(ctx: RpcContext, sender: bytes) -> dict[str, Any]:
    pending, queued = ctx.node.pool_content()
    return {
        "pending": _by_nonce(tx for tx in pending if tx.sender == sender),
        "queued": _by_nonce(tx for tx in queued if tx.sender == sender),
    }


@METHODS.method("txpool_status")
def status(ctx: RpcContext) -> dict[str, str]:
    pending, queued = ctx.node.pool_content()
    return {"pending": hex(len(pending)), "queued": hex(len(queued))}
