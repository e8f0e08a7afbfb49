"""The input of a model call, recovered from the transaction and checked against the receipt.

A receipt carries only ``inputHash`` (``keccak256(abi.encode(ModelInput))``); the input
itself was built by contract code. The explorer reconstructs candidates from what it can
read and shows one only when its hash *is* the receipt's ``inputHash``, so a shown input
is never a guess:

1. a transaction sent straight to the precompile ``0x…F4``: its calldata is the request;
2. a function argument of type ``ModelInput`` or ``ModelInferenceRequest`` in a known ABI;
3. NeuroTensors' row tensor (``rowTensor(name, values, decimals)``, shape ``[1, n]``): an
   integer-array argument with an integer ``decimals`` argument, named by a string
   argument or by a string the contract's parameterless views return (``eth_call``, as
   ``ModelConsumer.inputName()``).

Anything else is shown as its hash with the reason ("built inside the contract").
"""

from __future__ import annotations

import logging
from typing import Any

from eth_abi import decode
from eth_abi.exceptions import DecodingError
from eth_utils import keccak

from hub_client import HubError
from neurostack.protocol.errors import ProtocolError
from neurostack.protocol.request import decode_inference_call, input_hash
from neurostack.protocol.tensors import (
    INFERENCE_REQUEST_ABI,
    MODEL_INPUT_ABI,
    ModelInput,
    Number,
    NumberTensor,
    encode_model_input,
)
from neurostack.protocol.tensors.abi import model_input_from_tuple

from .abi import AbiBook, canonical_type
from .node import NodeReader

log = logging.getLogger(__name__)

PRECOMPILE = "0x00000000000000000000000000000000000000f4"
INT_ARRAYS = {f"int{n}[]" for n in range(8, 257, 8)} | {f"uint{n}[]" for n in range(8, 257, 8)}
INTS = {f"int{n}" for n in range(8, 257, 8)} | {f"uint{n}" for n in range(8, 257, 8)}
MAX_VIEWS = 8  # parameterless string views asked per contract


def recover_input(
    reader: NodeReader, abis: AbiBook, tx: dict[str, Any], wanted: bytes
) -> ModelInput | None:
    """The call's input whose hash is ``wanted`` (the receipt's inputHash), if recoverable."""
    data = bytes.fromhex(str(tx.get("input") or "0x")[2:])
    to = str(tx.get("to") or "").lower()
    for candidate in _candidates(reader, abis, to, data, tx.get("blockNumber")):
        try:
            if input_hash(encode_model_input(candidate)) == wanted:
                return candidate
        except (ProtocolError, ValueError, OverflowError):
            continue
    return None


def _candidates(reader: NodeReader, abis: AbiBook, to: str, data: bytes, block: Any) -> Any:
    if to == PRECOMPILE:
        try:
            yield decode_inference_call(data)[2]
        except (ProtocolError, ValueError):
            pass
        return
    for _contract, item in abis.functions.get(data[:4], []):
        inputs = item.get("inputs", [])
        kinds = [canonical_type(i) for i in inputs]
        try:
            args = decode(kinds, data[4:])
        except (DecodingError, ValueError, OverflowError):
            continue
        for kind, value in zip(kinds, args, strict=True):
            try:
                if kind == MODEL_INPUT_ABI:
                    yield model_input_from_tuple(value)
                elif kind == INFERENCE_REQUEST_ABI:
                    yield model_input_from_tuple(value[2])
            except (ProtocolError, ValueError, TypeError):
                continue
        arrays = [v for k, v in zip(kinds, args, strict=True) if k in INT_ARRAYS]
        decimals = [v for k, v in zip(kinds, args, strict=True) if k in INTS]
        if not arrays or not decimals:
            continue
        names = [v for k, v in zip(kinds, args, strict=True) if k == "string"]
        names += _string_views(reader, abis, to, block)
        for values in arrays:
            for d in decimals:
                for name in names:
                    try:
                        tensor = NumberTensor(
                            name, tuple(Number(int(v), int(d)) for v in values), (1, len(values))
                        )
                    except (ProtocolError, ValueError):
                        continue
                    yield ModelInput((tensor,), ())


def _string_views(reader: NodeReader, abis: AbiBook, to: str, block: Any) -> list[str]:
    """Strings returned by the contract's parameterless ``view`` functions of known ABIs."""
    if not to:
        return []
    code = bytes.fromhex(str(reader.call("eth_getCode", to, block or "latest"))[2:])
    name = abis.contract_name(code)
    out: list[str] = []
    for entries in abis.functions.values():
        for contract, item in entries:
            if contract != name or item.get("inputs") or len(out) >= MAX_VIEWS:
                continue
            if [o.get("type") for o in item.get("outputs", [])] != ["string"]:
                continue
            selector = keccak(text=f"{item['name']}()")[:4]
            try:
                raw = reader.call("eth_call", {"to": to, "data": "0x" + selector.hex()},
                                  block or "latest")  # fmt: skip
                out.append(str(decode(["string"], bytes.fromhex(str(raw)[2:]))[0]))
            except (HubError, DecodingError, ValueError):
                log.debug("view %s() of %s did not answer a string", item["name"], to)
    return out
