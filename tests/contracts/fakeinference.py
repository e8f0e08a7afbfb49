"""A stand-in inference precompile at 0x…F4 for contract tests.

It decodes the call with ``neurostack.protocol`` (as the real precompile does), runs a
numpy function as "the model", and returns the protocol's ABI encoding of the output. The
real precompile (sequencer.chain) reads results from a block witness instead; these tests
only exercise the Solidity side: calldata layout, output decoding, the helper library.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from eth.abc import ComputationAPI
from eth.exceptions import Revert
from eth_abi import encode

from neurostack.protocol.modes import InferenceMode
from neurostack.protocol.request import decode_inference_call
from neurostack.protocol.tensors import (
    ModelInput,
    encode_model_output,
    number_tensor_to_array,
    outputs_to_model_output,
)

PRECOMPILE_ADDRESS = bytes.fromhex("00" * 19 + "f4")
FAKE_GAS = 30_000
ERROR_SELECTOR = bytes.fromhex("08c379a0")

Model = Callable[[dict[str, np.ndarray]], dict[str, np.ndarray]]


@dataclass
class Call:
    mode: InferenceMode
    model_cid: str
    model_input: ModelInput
    input_abi: bytes


@dataclass
class FakeInference:
    """``models`` maps a CID to a numpy function of the (float64) inputs."""

    models: dict[str, Model]
    calls: list[Call] = field(default_factory=list)

    def __call__(self, computation: ComputationAPI) -> ComputationAPI:
        computation.consume_gas(FAKE_GAS, reason="fake inference")
        mode, cid, model_input, input_abi = decode_inference_call(computation.msg.data_as_bytes)
        self.calls.append(Call(mode, cid, model_input, input_abi))
        model = self.models.get(cid)
        if model is None:
            # what the real precompile does: Error(string), catchable by the caller
            reason = ERROR_SELECTOR + encode(["string"], [f"unknown model {cid}"])
            computation.output = reason
            raise Revert(reason)
        feeds = {t.name: number_tensor_to_array(t, "float64") for t in model_input.numbers}
        computation.output = encode_model_output(outputs_to_model_output(model(feeds)))
        return computation
