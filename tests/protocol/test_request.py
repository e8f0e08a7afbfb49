"""Request ids, hashes and runModelInference calldata."""

from __future__ import annotations

import eth_abi
import pytest
from eth_utils import function_signature_to_4byte_selector, keccak

from neurostack.protocol import (
    RUN_MODEL_INFERENCE_SELECTOR,
    InferenceMode,
    InvalidTensor,
    decode_inference_call,
    encode_inference_call,
    input_hash,
    request_id,
)
from neurostack.protocol.tensors import INFERENCE_REQUEST_ABI

from .vectors import CHAIN_ID, CID, INPUT, INPUT_ABI

GOLDEN_INPUT_HASH = "331a9378730c9211f9bd797a68388f5a86b19d762695cced29b2e177f10e4093"
GOLDEN_REQUEST_ID = "6078824c357b794d32224adcea0ce43318fb4fd21831dc149473cf70f8745be2"


def test_golden_request_id() -> None:
    assert input_hash(INPUT_ABI).hex() == GOLDEN_INPUT_HASH
    rid = request_id(CHAIN_ID, CID, InferenceMode.VANILLA, INPUT_ABI)
    assert rid.hex() == GOLDEN_REQUEST_ID
    # The formula of docs/protocol.md, spelled out with another keccak implementation.
    packed = CHAIN_ID.to_bytes(32, "big") + keccak(text=CID) + bytes([0]) + keccak(INPUT_ABI)
    assert rid == keccak(packed)


def test_request_id_separates_chain_model_mode_and_input() -> None:
    base = request_id(CHAIN_ID, CID, 0, INPUT_ABI)
    others = {
        request_id(CHAIN_ID + 1, CID, 0, INPUT_ABI),
        request_id(CHAIN_ID, CID + "x", 0, INPUT_ABI),
        request_id(CHAIN_ID, CID, 2, INPUT_ABI),
        request_id(CHAIN_ID, CID, 0, INPUT_ABI[:-1] + b"\x01"),
    }
    assert base not in others and len(others) == 4


def test_selector_is_the_canonical_signature() -> None:
    expected = function_signature_to_4byte_selector(
        "runModelInference((uint8,string,((string,(int128,int128)[],uint32[])[],(string,string[])[])))"
    )
    assert RUN_MODEL_INFERENCE_SELECTOR == expected


def test_inference_call_round_trips() -> None:
    calldata = encode_inference_call(InferenceMode.TEE, CID, INPUT)
    assert calldata[:4] == RUN_MODEL_INFERENCE_SELECTOR
    mode, cid, inp, abi = decode_inference_call(calldata)
    assert (mode, cid, inp, abi) == (InferenceMode.TEE, CID, INPUT, INPUT_ABI)


def test_invalid_tensor_for_another_selector() -> None:
    calldata = encode_inference_call(0, CID, INPUT)
    with pytest.raises(InvalidTensor, match="selector"):
        decode_inference_call(b"\x12\x34\x56\x78" + calldata[4:])


def test_invalid_tensor_for_truncated_calldata() -> None:
    calldata = encode_inference_call(0, CID, INPUT)
    with pytest.raises(InvalidTensor, match="malformed"):
        decode_inference_call(calldata[:100])


def test_invalid_tensor_for_unknown_mode() -> None:
    args = eth_abi.encode([INFERENCE_REQUEST_ABI], [(9, CID, ([], []))])
    with pytest.raises(InvalidTensor, match="unknown inference mode 9"):
        decode_inference_call(RUN_MODEL_INFERENCE_SELECTOR + args)


def test_invalid_request_id_arguments() -> None:
    with pytest.raises(ValueError, match="chain id"):
        request_id(-1, CID, 0, INPUT_ABI)
    with pytest.raises(ValueError, match="mode"):
        request_id(1, CID, 256, INPUT_ABI)
