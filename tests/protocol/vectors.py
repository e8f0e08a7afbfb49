"""Golden inputs shared by the protocol tests (a fixed request and a fixed key)."""

from __future__ import annotations

import numpy as np

from neurostack.protocol import (
    encode_model_input,
    encode_model_output,
    model_cid,
    model_input_from_json,
    outputs_to_model_output,
)

CHAIN_ID = 1337
MODEL_FILE = b"hello"
CID = model_cid(MODEL_FILE)
INPUT = model_input_from_json({"x": [[1.5, 2.0]], "labels": ["a", "b"]})
INPUT_ABI = encode_model_input(INPUT)
OUTPUT_ABI = encode_model_output(outputs_to_model_output({"y": np.array([0.5])}))
# The example key of the eth-account documentation; its address is well known.
KEY = bytes.fromhex("4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318")
KEY_ADDRESS = "0x2c7536E3605D9C16a7a3D7b1898e529396a65c23"
EXPIRY = 1_900_000_000
