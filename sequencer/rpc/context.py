"""What every RPC method handler receives: the node, its config and the shared registries."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .errors import ServerError
from .filters import FilterRegistry
from .params import BlockRef

if TYPE_CHECKING:
    from ..config import ChainConfig
    from ..node import Node


@dataclass(slots=True)
class RpcContext:
    node: Node
    config: ChainConfig
    filters: FilterRegistry
    client_version: str
    served: frozenset[str] = frozenset()  # the method table's names (eth_capabilities)


def block_number_of(ctx: RpcContext, ref: BlockRef | None) -> int:
    """The number a block reference names; ``header not found`` (geth's text) if none."""
    if ref is None:
        return ctx.node.resolve_tag("latest")
    if ref.hash is not None:
        block = ctx.node.block_by_hash(ref.hash)
        if block is None:
            raise ServerError(f"header for hash not found: 0x{ref.hash.hex()}")
        return block.header.block_number
    if ref.number is not None:
        if ref.number > ctx.node.resolve_tag("latest"):
            raise ServerError("header not found")
        return ref.number
    return ctx.node.resolve_tag(ref.tag or "latest")


def state_for(ctx: RpcContext, ref: BlockRef | None) -> Any:
    """py-evm state for a read: the pending state for ``pending``, else the block's state."""
    if ref is not None and ref.tag == "pending":
        return ctx.node.pending_state()
    return ctx.node.state_at(block_number_of(ctx, ref))
