"""``eth_createAccessList``: geth's method over :mod:`sequencer.chain.access_list`."""

from __future__ import annotations

from typing import Any

from ..chain.access_list import create_access_list
from ..types import CallParams
from .context import RpcContext
from .dispatch import MethodTable
from .eth import call_params, execution_block
from .formatters import hexb
from .params import BlockRef, block_ref

METHODS = MethodTable()


def format_access_list(entries: Any) -> list[dict[str, Any]]:
    return [
        {"address": hexb(address), "storageKeys": [f"0x{key:064x}" for key in keys]}
        for address, keys in entries
    ]


@METHODS.method("eth_createAccessList", call_params, block_ref, required=1)
def create_access_list_method(
    ctx: RpcContext, params: CallParams, ref: BlockRef | None
) -> dict[str, Any]:
    # geth's default block is latest; ``pending`` runs on the head, as eth_call does here
    result = ctx.node.execute(
        lambda chain, header, env: create_access_list(chain, header, params, env),
        None if ref is None else execution_block(ctx, ref),
    )
    out: dict[str, Any] = {
        "accessList": format_access_list(result.access_list),
        "gasUsed": hex(result.gas_used),
    }
    if result.error is not None:
        out["error"] = result.error
    return out
