"""Request ids, input/output hashes and the calldata of ``runModelInference``.

See docs/protocol.md "Hashes and ids". A request id names one inference: the same chain,
model, mode and input always give the same id, so identical calls in a block share one
receipt and a duplicate job delivery is recognised.
"""

from __future__ import annotations

from .errors import InvalidTensor
from .hashing import check_bytes, keccak, uint_bytes
from .modes import InferenceMode
from .tensors import INFERENCE_REQUEST_ABI, ModelInput, encode_model_input, wire
from .tensors.abi import decode_lenient, model_input_from_tuple
from .types import Hash32, ModelCID, RequestId

RUN_MODEL_INFERENCE_SIGNATURE = f"runModelInference({INFERENCE_REQUEST_ABI})"
RUN_MODEL_INFERENCE_SELECTOR = bytes(keccak(RUN_MODEL_INFERENCE_SIGNATURE.encode())[:4])
"""4-byte selector of ``runModelInference(ModelInferenceRequest)``."""
LENIENT_CALLDATA_LIMIT = 64 * 1024
"""Largest non-canonical calldata decoded (eth-abi takes ~60 µs a Number: without a bound
a block-sized call could cost the sequencer seconds). Solidity always emits canonical."""


def input_hash(input_abi: bytes) -> Hash32:
    """``keccak256(abi.encode(ModelInput))``."""
    return keccak(bytes(input_abi))


def output_hash(output_abi: bytes) -> Hash32:
    """``keccak256(abi.encode(ModelOutput))``."""
    return keccak(bytes(output_abi))


def request_id_from_hash(chain_id: int, model_cid: str, mode: int, in_hash: bytes) -> RequestId:
    """The request id from an input hash (receipts carry the hash, not the input)."""
    return RequestId(
        keccak(
            uint_bytes(chain_id, 32, "chain id")
            + keccak(model_cid.encode("utf-8"))
            + uint_bytes(int(mode), 1, "mode")
            + check_bytes(in_hash, 32, "input hash")
        )
    )


def request_id(chain_id: int, model_cid: str, mode: int, input_abi: bytes) -> RequestId:
    """``keccak256(uint256(chainId) ‖ keccak256(modelCID) ‖ uint8(mode) ‖ inputHash)``."""
    return request_id_from_hash(chain_id, model_cid, mode, input_hash(input_abi))


def encode_inference_call(mode: int, model_cid: str, model_input: ModelInput) -> bytes:
    """Calldata of ``runModelInference((mode, modelCID, input))``: selector + ABI args."""
    return RUN_MODEL_INFERENCE_SELECTOR + wire.encode_request(int(mode), model_cid, model_input)


def decode_inference_call(calldata: bytes) -> tuple[InferenceMode, ModelCID, ModelInput, bytes]:
    """Decode precompile calldata into (mode, model CID, input, canonical input ABI bytes).

    Canonical calldata (what Solidity emits) takes the fast path; any other valid ABI
    layout up to :data:`LENIENT_CALLDATA_LIMIT` bytes is decoded by eth-abi and re-encoded,
    so the input hash is the same for every layout of the same input. The model CID is
    returned as given (the chain's registry decides whether it is known).
    """
    data = bytes(calldata)
    if data[:4] != RUN_MODEL_INFERENCE_SELECTOR:
        raise InvalidTensor(
            f"calldata starts with 0x{data[:4].hex()}, not the runModelInference selector "
            f"0x{RUN_MODEL_INFERENCE_SELECTOR.hex()}; call runModelInference(ModelInferenceRequest)"
        )
    try:
        mode, cid, model_input = wire.decode_request(data[4:])
    except InvalidTensor:
        if len(data) > LENIENT_CALLDATA_LIMIT:
            raise
        raw_mode, cid, raw_input = decode_lenient(
            INFERENCE_REQUEST_ABI, data[4:], "runModelInference calldata"
        )
        mode, model_input = raw_mode, model_input_from_tuple(raw_input)
    try:
        parsed_mode = InferenceMode(mode)
    except ValueError:
        raise InvalidTensor(
            f"unknown inference mode {mode}; use 0 (VANILLA), 1 (ZK), 2 (TEE) or 3 (OPTIMISTIC)"
        ) from None
    return parsed_mode, ModelCID(cid), model_input, encode_model_input(model_input)
