"""Dev methods (Hardhat/anvil style): ``evm_mine``, ``evm_snapshot``, ``evm_revert``,
``evm_increaseTime``. The server registers this table only when the chain enables them
(``rpc.dev_methods``); otherwise the methods do not exist (-32601), as on geth.
"""

from __future__ import annotations

from .context import RpcContext
from .dispatch import MethodTable
from .params import int_or_quantity

METHODS = MethodTable()


@METHODS.method("evm_mine", int_or_quantity, required=0)
def mine(ctx: RpcContext, timestamp: int | None) -> str:
    """Mine the pending transactions (or an empty block) now; optional block timestamp."""
    ctx.node.mine(timestamp)
    return "0x0"  # what ganache and anvil answer


@METHODS.method("evm_snapshot")
def snapshot(ctx: RpcContext) -> str:
    return hex(ctx.node.snapshot())


@METHODS.method("evm_revert", int_or_quantity)
def revert(ctx: RpcContext, snapshot_id: int) -> bool:
    return ctx.node.revert(snapshot_id)


@METHODS.method("evm_increaseTime", int_or_quantity)
def increase_time(ctx: RpcContext, seconds: int) -> int:
    """Move the clock of later blocks forward; answers the total offset in seconds."""
    return ctx.node.increase_time(seconds)
