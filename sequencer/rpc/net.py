"""``net_*`` methods: network id and listening state (a rollup node has no peers)."""

from __future__ import annotations

from .context import RpcContext
from .dispatch import MethodTable

METHODS = MethodTable()


@METHODS.method("net_version")
def net_version(ctx: RpcContext) -> str:
    # geth answers the network id as a decimal string; on this chain it is the chain id.
    return str(ctx.node.chain_id)


@METHODS.method("net_listening")
def net_listening(ctx: RpcContext) -> bool:
    return True


@METHODS.method("net_peerCount")
def net_peer_count(ctx: RpcContext) -> str:
    return "0x0"
