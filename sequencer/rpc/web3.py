"""``web3_*`` methods: client version and keccak256."""

from __future__ import annotations

from eth_utils import keccak

from .context import RpcContext
from .dispatch import MethodTable
from .params import data

METHODS = MethodTable()


@METHODS.method("web3_clientVersion")
def client_version(ctx: RpcContext) -> str:
    return ctx.client_version


@METHODS.method("web3_sha3", data)
def sha3(ctx: RpcContext, payload: bytes) -> str:
    return "0x" + keccak(payload).hex()
