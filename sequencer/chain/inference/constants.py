"""Protocol constants of on-chain inference: addresses, the gas schedule, time limits.

These are consensus rules: every node of a chain must use the same values, so they are
constants here and not chain-config fields (CONVENTIONS.md rule 4). The chain spec's
``GasSchedule`` (``sequencer.chain.spec``) takes its values from here, so the state
transition reads its gas from the spec; the chain config only chooses *policy* (accepted
modes, the default price of unregistered models).
"""

from __future__ import annotations

from typing import Final

from eth_typing import Address

from neurostack.protocol.admission import TEE_ATTESTATION_TTL as PROTOCOL_TEE_ATTESTATION_TTL
from neurostack.protocol.modes import InferenceMode
from neurostack.protocol.registry import REGISTRY_ADDRESS as PROTOCOL_REGISTRY_ADDRESS

# --- addresses (py-evm's ``Address`` type: they go straight into the VM) -----------------

INFERENCE_PRECOMPILE_ADDRESS: Final = Address(bytes.fromhex("00" * 19 + "f4"))
"""``runModelInference`` (DESIGN.md section 4)."""

PRICE_HISTORY_ADDRESS: Final = Address(bytes.fromhex("00" * 19 + "f5"))
"""Reserved for OpenGradient's price-history precompile (``OGHistorical``:
``runInferenceOnPriceFeed``, ``queryHistoricalCandles``). Not served yet: every call
reverts with a clear reason (:mod:`.opengradient`)."""

REGISTRY_ADDRESS: Final = Address(PROTOCOL_REGISTRY_ADDRESS)
"""The sprinter/model registry: a native system contract whose storage lives here
(``0x4E53…0001``, see :mod:`neurostack.protocol.registry`; ``0x…F5`` is reserved for
OpenGradient's price-history precompile)."""

REGISTRY_CODE: Final = b"\xfe"
"""Code placed at the registry address in genesis. Never executed (the precompile runs
first); it exists because Solidity refuses to call an address without code for
functions that return nothing, and so that EIP-161 never deletes the account."""

# --- gas (``# GAS`` of the inference precompile) ---------------------------------------

INFERENCE_BASE_GAS: Final = 20_000
"""Witness lookup, request-id and output hashing, bookkeeping of one call."""

INFERENCE_GAS_PER_BYTE: Final = 16
"""Per byte of the precompile's calldata (the same as a non-zero calldata byte)."""

INFERENCE_OUTPUT_GAS_PER_BYTE: Final = 16
"""Per byte of a receipt's ``output`` returned to the contract: those bytes enter the
block's witness (which every verifier downloads and hashes), so they cost what calldata's
non-zero bytes cost. A block's witness outputs are then bounded by its gas limit (at most
``gas_limit / 16`` bytes: 1.875 MB at 30M gas)."""

DEFAULT_MAX_OUTPUT_BYTES: Final = 65_536
"""Chain policy default for ``[inference] max_output_bytes``: the largest model output a
call may return (about 1,000 numbers); a larger one makes the call revert."""

VERIFY_GAS: Final[dict[InferenceMode, int]] = {
    InferenceMode.VANILLA: 6_000,  # one secp256k1 recovery (ecrecover is 3,000) + registry read
    InferenceMode.TEE: 12_000,  # recovery + TEE key, measurement and freshness reads
    # ZK: the STF's verify_receipt of a sample-MLP ZK receipt took 19x (load 5.8) and 44x
    # (load 10.5) a VANILLA one in the same run (bench/zk.py "STF"): VANILLA's gas per ms at
    # the highest ratio measured, rounded up (underpricing would let blocks run long)
    InferenceMode.ZK: 270_000,
    InferenceMode.OPTIMISTIC: 80_000,  # recovery, bond reads, 3 fresh SSTOREs of the record + log
}
"""``verifyGas(mode)``: the cost of checking a receipt of that mode."""

# --- registry system contract gas -----------------------------------------------------

REGISTRY_READ_GAS: Final = 2_100
"""A view function of the registry (a cold SLOAD's price per slot read)."""

REGISTRY_WRITE_GAS: Final = 25_000
"""An admin function of the registry (about one fresh SSTORE plus an event)."""

ATTESTATION_VERIFY_GAS: Final = 50_000
"""``registerTeeKey``/``heartbeat``: verifying an attestation document."""

MAX_OUTPUT_BYTES: Final = 1 << 20
"""Largest receipt output (ABI bytes) a block accepts at all (a larger one makes the receipt
invalid): the protocol's hard bound on hashing and decoding one receipt, about 16,000
numbers. The chain's own cap (``max_output_bytes``, at most this) makes a call revert."""

# --- time ------------------------------------------------------------------------------

TEE_ATTESTATION_TTL: Final = PROTOCOL_TEE_ATTESTATION_TTL
"""Seconds a TEE key's attestation stays fresh; ``heartbeat`` renews it (defined with the
admission rule in :mod:`neurostack.protocol.admission`)."""

MAX_ROYALTY_BPS: Final = 10_000
"""Royalty shares are in basis points of a call's model gas fee."""
