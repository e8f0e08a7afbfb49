"""Robustness: arbitrary calldata to 0x…F4 and 0x4E53…0001 never escapes as a Python error.

A call either succeeds, reverts/fails inside the EVM, or (0x…F4 only) stops at a
well-formed inference request. Anything else would escape block building and halt the
chain, so this is checked through the real VM with generated calldata.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from neurostack.protocol.request import RUN_MODEL_INFERENCE_SELECTOR, encode_inference_call
from neurostack.protocol.tensors import ModelInput, Number, NumberTensor, StringTensor
from sequencer.chain.inference import (
    INFERENCE_PRECOMPILE_ADDRESS,
    REGISTRY_ADDRESS,
    InferencePending,
)
from sequencer.chain.inference.system_contract import FUNCTIONS
from sequencer.errors import ExecutionReverted, InvalidCall

from .conftest import Rig
from .kit import MODEL_CID

pytestmark = pytest.mark.slow

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))


def _outcome(rig: Rig, to: bytes, data: bytes) -> str:
    try:
        rig.wallets[3].call(to, data, gas=500_000)
    except (ExecutionReverted, InvalidCall):
        return "failed"
    except InferencePending:
        return "pending"
    return "ok"


def _mutated(base: bytes, data: st.DataObject) -> bytes:
    raw = bytearray(base)
    for _ in range(data.draw(st.integers(0, 6))):
        if raw:
            raw[data.draw(st.integers(0, len(raw) - 1))] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(raw)))
    return bytes(raw[:cut]) if data.draw(st.booleans()) else bytes(raw)


VALID_CALL = encode_inference_call(
    0,
    MODEL_CID,
    ModelInput(
        numbers=(NumberTensor("x", (Number(1, 2), Number(-3, 0)), (2,)),),
        strings=(StringTensor("s", ("é", "")),),
    ),
)


@FUZZ
@given(data=st.data())
def test_mutated_inference_calls_revert_or_request(rig: Rig, data: st.DataObject) -> None:
    calldata = _mutated(VALID_CALL, data)
    assert _outcome(rig, INFERENCE_PRECOMPILE_ADDRESS, calldata) in ("failed", "pending")


@FUZZ
@given(tail=st.binary(max_size=300))
def test_random_inference_calldata_reverts(rig: Rig, tail: bytes) -> None:
    assert _outcome(rig, INFERENCE_PRECOMPILE_ADDRESS, RUN_MODEL_INFERENCE_SELECTOR + tail) in (
        "failed",
        "pending",
    )


@FUZZ
@given(function=st.sampled_from(FUNCTIONS), tail=st.binary(max_size=200))
def test_random_registry_calldata_never_escapes(rig: Rig, function, tail: bytes) -> None:
    assert _outcome(rig, REGISTRY_ADDRESS, function.selector + tail) in ("failed", "ok")
