"""geth's raw-data ``debug_`` methods of the execution-apis spec: blocks, headers, receipts and
transactions in their consensus encodings, and the (always empty) list of bad blocks.

``debug_getRawBlock`` is also the follower's block format (DESIGN.md §9). A block that does
not exist answers geth's ``-32000 header not found`` (blocks, headers) or ``null``
(transactions), as geth does.
"""

from __future__ import annotations

from typing import Any

import rlp

from .context import RpcContext
from .dispatch import MethodTable
from .errors import ServerError
from .eth import find_block
from .formatters import hexb
from .params import BlockRef, block_ref, hash32

METHODS = MethodTable()


def _block(ctx: RpcContext, ref: BlockRef) -> Any:
    block = find_block(ctx, ref)
    if block is None:
        raise ServerError("header not found")
    return block


def encode_2718(item: Any) -> bytes:
    """EIP-2718 binary form: ``type ‖ payload`` for a typed transaction or receipt, plain
    RLP for a legacy one (py-evm's ``encode`` does both)."""
    return bytes(item.encode())


@METHODS.method("debug_getRawHeader", block_ref)
def raw_header(ctx: RpcContext, ref: BlockRef) -> str:
    return hexb(rlp.encode(_block(ctx, ref).header))


@METHODS.method("debug_getRawBlock", block_ref)
def raw_block(ctx: RpcContext, ref: BlockRef) -> str:
    return hexb(rlp.encode(_block(ctx, ref)))


@METHODS.method("debug_getRawReceipts", block_ref)
def raw_receipts(ctx: RpcContext, ref: BlockRef) -> list[str]:
    return [hexb(encode_2718(r)) for r in ctx.node.receipts(_block(ctx, ref))]


@METHODS.method("debug_getRawTransaction", hash32)
def raw_transaction(ctx: RpcContext, tx_hash: bytes) -> str | None:
    found = ctx.node.transaction(tx_hash)  # mined or pending, as geth looks in its pool too
    return None if found is None else hexb(encode_2718(found.tx))


@METHODS.method("debug_getBadBlocks")
def bad_blocks(ctx: RpcContext) -> list[Any]:
    return []  # a sequencer builds its own blocks; it is never sent one it rejects
