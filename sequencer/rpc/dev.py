"""Dev methods (Hardhat/anvil style): ``evm_mine``, ``evm_snapshot``, ``evm_revert``,
``evm_increaseTime``. The server registers them only when it is given the node's dev
object (``sequencer.dev.DevMethods``, which exists only when the chain enables them,
``[rpc] dev_methods``); otherwise the methods do not exist (-32601), as on geth.
"""

from __future__ import annotations

from typing import Any, Protocol

from .dispatch import MethodTable
from .params import int_or_quantity


class DevPowers(Protocol):
    """What the dev methods act on (``sequencer.dev.DevMethods``)."""

    def mine(self, timestamp: int | None = None) -> Any: ...

    def snapshot(self) -> int: ...

    def revert(self, snapshot_id: int) -> bool: ...

    def increase_time(self, seconds: int) -> int: ...


def dev_methods(dev: DevPowers) -> MethodTable:
    """The dev method table acting on ``dev``."""
    methods = MethodTable()

    @methods.method("evm_mine", int_or_quantity, required=0)
    def mine(ctx: Any, timestamp: int | None) -> str:
        """Mine the pending transactions (or an empty block) now; optional block timestamp."""
        dev.mine(timestamp)
        return "0x0"  # what ganache and anvil answer

    @methods.method("evm_snapshot")
    def snapshot(ctx: Any) -> str:
        return hex(dev.snapshot())

    @methods.method("evm_revert", int_or_quantity)
    def revert(ctx: Any, snapshot_id: int) -> bool:
        return dev.revert(snapshot_id)

    @methods.method("evm_increaseTime", int_or_quantity)
    def increase_time(ctx: Any, seconds: int) -> int:
        """Move the clock of later blocks forward; answers the total offset in seconds."""
        return dev.increase_time(seconds)

    return methods
