"""``neuro_*`` methods: what this rollup adds to the Ethereum RPC (chain identity for now).

The inference methods of DESIGN.md section 6 (``neuro_getInferenceWitness``, ...) are
added to this table by the inference work.
"""

from __future__ import annotations

from typing import Any

from .context import RpcContext
from .dispatch import MethodTable

METHODS = MethodTable()


@METHODS.method("neuro_chainInfo")
def chain_info(ctx: RpcContext) -> dict[str, Any]:
    """Chain identity and native token, as JSON numbers (not hex) since no EVM type is involved."""
    config = ctx.config
    return {
        "chainId": ctx.node.chain_id,
        "name": config.chain.name,
        "token": {
            "name": config.token.name,
            "symbol": config.token.symbol,
            "decimals": config.token.decimals,
        },
        "blockTime": config.chain.block_time,
    }
