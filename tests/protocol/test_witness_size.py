"""docs/witness.md's size claim: a VANILLA or TEE receipt costs under 1 kB plus its output
bytes in a block's witness (its canonical bytes, ``encode_receipt``, whose keccak is the leaf)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from neurostack.protocol import (
    InferenceMode,
    InferenceReceipt,
    encode_model_input,
    encode_model_output,
    encode_receipt,
    make_receipt,
    model_cid,
    model_hash,
    model_input_from_json,
    outputs_to_model_output,
    receipt_leaf,
    receipt_to_json,
)
from neurostack.protocol.hashing import keccak

MODEL = b"an onnx file's bytes"


def receipt(mode: InferenceMode, outputs: dict[str, np.ndarray]) -> InferenceReceipt:
    return make_receipt(
        chain_id=4242, model_cid=model_cid(MODEL), model_hash=model_hash(MODEL), mode=mode,
        input_abi=encode_model_input(model_input_from_json({"x": [[0.5, -1.25, 2.0, 0.125]]})),
        output_abi=encode_model_output(outputs_to_model_output(outputs)),
        expiry=1_900_000_000, private_key=b"\x07" * 32,
    )  # fmt: skip


OUTPUTS = {
    "one number (the sample MLP)": {"y": np.array([[-2.373246192932129]], np.float32)},
    "a 16 x 16 map": {"y": np.linspace(-1, 1, 256, dtype=np.float32).reshape(16, 16)},
    "labels and scores": {
        "label": np.array(["cat", "dog"], dtype=object),
        "score": np.array([0.9, 0.1], np.float32),
    },
}


@pytest.mark.parametrize("mode", [InferenceMode.VANILLA, InferenceMode.TEE])
@pytest.mark.parametrize("outputs", list(OUTPUTS.values()), ids=list(OUTPUTS))
def test_a_receipt_costs_under_1_kb_plus_its_output(
    mode: InferenceMode, outputs: dict[str, np.ndarray]
) -> None:
    r = receipt(mode, outputs)
    encoded = encode_receipt(r)
    assert receipt_leaf(r) == keccak(encoded)
    overhead = len(encoded) - len(r.output)
    assert overhead < 1024
    # The exact layout (docs/witness.md): 11 head words, then the CID (59 characters in
    # two words after its length), output, proof (empty) and the 65-byte signature padded.
    padded_output = -(-len(r.output) // 32) * 32
    assert len(encoded) == 11 * 32 + (32 + 64) + (32 + padded_output) + 32 + (32 + 96)
    # The JSON form the RPC serves carries the same bytes as hex: about twice as much.
    wire = json.dumps(receipt_to_json(r), separators=(",", ":"))
    assert len(wire) < 1024 + 2 * len(r.output)
