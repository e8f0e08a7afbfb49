"""Account methods of a node that holds no user keys: what geth answers without accounts.

The node signs nothing: wallets and libraries sign locally and send raw transactions.
``eth_sign``, ``eth_signTransaction`` and ``eth_sendTransaction`` therefore answer geth's
``unknown account`` (-32000, what geth says for an address none of its wallets holds,
which is every address on a node started without a keystore), not "method not found",
so a client learns the node is reachable and only the key is missing. ``eth_coinbase``
is the sequencer's fee recipient.
"""

from __future__ import annotations

from typing import Any

from .context import RpcContext
from .dispatch import MethodTable
from .errors import ServerError
from .formatters import hexb
from .params import address, data, obj

METHODS = MethodTable()

UNKNOWN_ACCOUNT = "unknown account"  # geth's accounts.ErrUnknownAccount


def transaction_args(value: Any) -> dict[str, Any]:
    return obj(value, "ethapi.TransactionArgs")


@METHODS.method("eth_coinbase")
def coinbase(ctx: RpcContext) -> str:
    return hexb(ctx.node.coinbase)


@METHODS.method("eth_sign", address, data)
def sign(ctx: RpcContext, account: bytes, message: bytes) -> str:
    raise ServerError(UNKNOWN_ACCOUNT)


@METHODS.method("eth_signTransaction", transaction_args)
def sign_transaction(ctx: RpcContext, args: dict[str, Any]) -> Any:
    # geth checks the fields it would sign before it looks for the key
    if args.get("gas") is None:
        raise ServerError("gas not specified")
    if args.get("gasPrice") is None and (
        args.get("maxPriorityFeePerGas") is None or args.get("maxFeePerGas") is None
    ):
        raise ServerError("missing gasPrice or maxFeePerGas/maxPriorityFeePerGas")
    if args.get("nonce") is None:
        raise ServerError("nonce not specified")
    raise ServerError(UNKNOWN_ACCOUNT)


@METHODS.method("eth_sendTransaction", transaction_args)
def send_transaction(ctx: RpcContext, args: dict[str, Any]) -> str:
    raise ServerError(UNKNOWN_ACCOUNT)
