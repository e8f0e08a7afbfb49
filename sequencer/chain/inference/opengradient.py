"""OpenGradient entry points this chain does not serve: a clear revert, never a generic failure.

Contracts written against OpenGradient's published interfaces (``OGInference.sol``,
``OGHistorical.sol``; vendored unchanged in ``contracts/opengradient/``) run here when
they call ``runModelInference``. Two other parts of those interfaces have no
implementation on a Neuro Stack chain, and a call of them reverts with ``Error(string)``
naming what is missing, so that ``eth_call``, ``eth_estimateGas`` and a failed
transaction's trace show the reason and the calling contract can catch it:

- ``runLLMCompletion`` and ``runLLMChat`` on the inference precompile ``0x…F4``: Neuro
  Stack runs ONNX models only (:func:`reject_llm_call`, which the precompile runs before
  decoding its calldata).
- every call of ``0x…F5``, the address OpenGradient's price-history precompile
  (``runInferenceOnPriceFeed``, ``queryHistoricalCandles``) has: reserved for the data-node
  work (:func:`run_price_history`).

A revert charges no gas beyond the call's own (the precompile stops before ``# GAS``).
The selectors are OpenGradient's, taken from the vendored ``OGInference.sol``; a test
compiles that file and checks them.
"""

from __future__ import annotations

from typing import Final, NoReturn

from eth.abc import ComputationAPI

from .revert import revert_with

RUN_LLM_COMPLETION_SELECTOR: Final = bytes.fromhex("14800c61")
"""``runLLMCompletion((uint8,string,string,uint32,string[],uint32))``."""

RUN_LLM_CHAT_SELECTOR: Final = bytes.fromhex("e39aa7e7")
"""``runLLMChat((uint8,string,(string,string,string,string,(string,string,string)[])[],
(string,string,string)[],string,uint32,string[],uint32))``."""

LLM_FUNCTIONS: Final = {
    RUN_LLM_COMPLETION_SELECTOR: "runLLMCompletion",
    RUN_LLM_CHAT_SELECTOR: "runLLMChat",
}
"""OpenGradient's LLM functions of ``OGInference``, by selector."""

LLM_NOT_SUPPORTED: Final = (
    "{function} (OpenGradient LLM inference) is not supported on this chain; "
    "the inference precompile runs ONNX models through runModelInference only"
)
PRICE_HISTORY_NOT_SUPPORTED: Final = (
    "price-history inference (OpenGradient's OGHistorical at 0x00000000000000000000000000000000000000F5: "
    "runInferenceOnPriceFeed, queryHistoricalCandles) is not supported on this chain"
)


def reject_llm_call(computation: ComputationAPI, calldata: bytes) -> None:
    """Revert if ``calldata`` calls one of OpenGradient's LLM functions; else do nothing."""
    function = LLM_FUNCTIONS.get(bytes(calldata[:4]))
    if function is not None:
        revert_with(computation, LLM_NOT_SUPPORTED.format(function=function))


def run_price_history(computation: ComputationAPI) -> NoReturn:
    """The reserved ``0x…F5``: every call reverts with :data:`PRICE_HISTORY_NOT_SUPPORTED`."""
    revert_with(computation, PRICE_HISTORY_NOT_SUPPORTED)
