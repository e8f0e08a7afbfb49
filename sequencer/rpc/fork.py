"""What the chain runs and what the node keeps: ``eth_config`` (EIP-7910), ``eth_capabilities``,
and the answer to methods of forks after Prague.

The chain runs Prague from genesis (DESIGN.md §3) with no fork scheduled, so ``eth_config``
has a ``current`` configuration and ``next``/``last`` are null. Its precompiles are those
the VM actually executes (Prague's, named as EIP-7910 and geth name them, plus the inference
precompile at ``0x…F4`` and ``0x…F5``, reserved for price history: every call reverts); its
system contracts are the Prague system contracts that have code in the head state (a Neuro
chain's genesis does not deploy the beacon-roots, history, withdrawal or consolidation
contracts, so none is claimed) plus the model registry.

A method that needs a later fork (``eth_getBlockAccessList``: EIP-7928, Amsterdam) answers
:class:`UnsupportedFork` rather than "method not found", so a client can tell a node that
does not know the method from a chain that does not have the feature.
"""

from __future__ import annotations

import zlib
from typing import Any

from eth.vm.forks.cancun.constants import BEACON_ROOTS_ADDRESS, GAS_PER_BLOB
from eth.vm.forks.prague.constants import (
    BLOB_BASE_FEE_UPDATE_FRACTION_PRAGUE,
    CONSOLIDATION_REQUEST_PREDEPLOY_ADDRESS,
    DEPOSIT_CONTRACT_ADDRESS,
    HISTORY_STORAGE_ADDRESS,
    MAX_BLOB_GAS_PER_BLOCK,
    TARGET_BLOB_GAS_PER_BLOCK,
    WITHDRAWAL_REQUEST_PREDEPLOY_ADDRESS,
)
from eth_typing import Address

from ..chain.inference import INFERENCE_PRECOMPILE_ADDRESS, REGISTRY_ADDRESS
from ..chain.inference.constants import PRICE_HISTORY_ADDRESS
from .context import RpcContext
from .dispatch import MethodTable
from .errors import UnsupportedFork
from .formatters import hexb
from .params import BlockRef, block_ref

METHODS = MethodTable()

FORK = "Prague"

# EIP-7910's names (geth's PrecompiledContract.Name()), by the last byte of the address
_PRECOMPILE_NAMES = {
    0x01: "ECREC",
    0x02: "SHA256",
    0x03: "RIPEMD160",
    0x04: "ID",
    0x05: "MODEXP",
    0x06: "BN254_ADD",
    0x07: "BN254_MUL",
    0x08: "BN254_PAIRING",
    0x09: "BLAKE2F",
    0x0A: "KZG_POINT_EVALUATION",
    0x0B: "BLS12_G1ADD",
    0x0C: "BLS12_G1MSM",
    0x0D: "BLS12_G2ADD",
    0x0E: "BLS12_G2MSM",
    0x0F: "BLS12_PAIRING_CHECK",
    0x10: "BLS12_MAP_FP_TO_G1",
    0x11: "BLS12_MAP_FP2_TO_G2",
}
NEURO_PRECOMPILES = {
    bytes(INFERENCE_PRECOMPILE_ADDRESS): "NEURO_INFERENCE",
    bytes(PRICE_HISTORY_ADDRESS): "NEURO_PRICE_HISTORY",  # reserved: every call reverts
}
NEURO_SYSTEM_CONTRACTS = {"NEURO_MODEL_REGISTRY": bytes(REGISTRY_ADDRESS)}
PRAGUE_SYSTEM_CONTRACTS = {
    "BEACON_ROOTS_ADDRESS": bytes(BEACON_ROOTS_ADDRESS),
    "CONSOLIDATION_REQUEST_PREDEPLOY_ADDRESS": bytes(CONSOLIDATION_REQUEST_PREDEPLOY_ADDRESS),
    "DEPOSIT_CONTRACT_ADDRESS": bytes(DEPOSIT_CONTRACT_ADDRESS),
    "HISTORY_STORAGE_ADDRESS": bytes(HISTORY_STORAGE_ADDRESS),
    "WITHDRAWAL_REQUEST_PREDEPLOY_ADDRESS": bytes(WITHDRAWAL_REQUEST_PREDEPLOY_ADDRESS),
}


def precompile_name(address: bytes) -> str | None:
    """EIP-7910's name of a precompile of this chain; None for a native system contract."""
    if address in NEURO_PRECOMPILES:
        return NEURO_PRECOMPILES[address]
    if address[:19] == bytes(19):
        return _PRECOMPILE_NAMES.get(address[19], f"PRECOMPILE_{address[19]:#04x}")
    return None


def fork_id(genesis_hash: bytes) -> bytes:
    """EIP-6122 FORK_HASH: CRC32 of the genesis hash followed by each fork activation after
    genesis; every fork of this chain is active at genesis, so only the genesis hash counts."""
    return zlib.crc32(genesis_hash).to_bytes(4, "big")


@METHODS.method("eth_config")
def config(ctx: RpcContext) -> dict[str, Any]:
    node = ctx.node
    head = node.resolve_tag("latest")
    state = node.state_at(head)
    genesis = node.block_by_number(0)
    assert genesis is not None  # every chain has its genesis
    precompiles: dict[str, str] = {}
    for address in state.computation_class.get_precompiles():
        name = precompile_name(bytes(address))
        if name is not None:
            precompiles[name] = hexb(address)
    system = {
        name: address
        for name, address in PRAGUE_SYSTEM_CONTRACTS.items()
        if state.get_code(Address(address))
    }
    system.update(NEURO_SYSTEM_CONTRACTS)
    current = {
        "activationTime": 0,  # active at genesis
        "blobSchedule": {
            "target": TARGET_BLOB_GAS_PER_BLOCK // GAS_PER_BLOB,
            "max": MAX_BLOB_GAS_PER_BLOCK // GAS_PER_BLOB,
            "baseFeeUpdateFraction": BLOB_BASE_FEE_UPDATE_FRACTION_PRAGUE,
        },
        "chainId": hex(node.chain_id),
        "forkId": hexb(fork_id(genesis.hash)),
        "precompiles": dict(sorted(precompiles.items())),
        "systemContracts": {name: hexb(address) for name, address in sorted(system.items())},
    }
    return {"current": current, "next": None, "last": None}


@METHODS.method("eth_capabilities")
def capabilities(ctx: RpcContext) -> dict[str, Any]:
    """Everything since genesis is kept (an archive node: blocks, receipts, state, logs)."""
    head = ctx.node.head()
    kept = {"disabled": False, "oldestBlock": "0x0"}
    proofs = kept if "eth_getProof" in ctx.served else {"disabled": True}
    return {
        "head": {"number": hex(head.header.block_number), "hash": hexb(head.hash)},
        "state": kept,
        "tx": kept,
        "logs": kept,
        "receipts": kept,
        "blocks": kept,
        "stateproofs": proofs,
    }


def _block_access_list(method: str) -> Any:
    def handler(ctx: RpcContext, ref: BlockRef) -> Any:
        raise UnsupportedFork(method, "Amsterdam", "EIP-7928 block-level access lists")

    return handler


for _name in ("eth_getBlockAccessList", "debug_getRawBlockAccessList"):
    METHODS.method(_name, block_ref)(_block_access_list(_name))
