"""Catchable failures of the inference and registry precompiles: ``Error(string)`` reverts.

A revert is for what the *calling contract* did wrong (bad calldata, a mode the chain
does not accept, an unregistered model, a non-owner calling an admin function): the
contract can catch it, ``eth_call`` shows ``execution reverted: <reason>``. Problems of
the block itself are exceptions from :mod:`.errors` instead.
"""

from __future__ import annotations

from typing import NoReturn

from eth.abc import ComputationAPI
from eth.exceptions import Revert
from eth_abi import encode

ERROR_SELECTOR = bytes.fromhex("08c379a0")  # Error(string), what Solidity's require emits


def revert_with(computation: ComputationAPI, reason: str) -> NoReturn:
    """Stop the current call frame with revert data ``Error(reason)``; unused gas returns."""
    data = ERROR_SELECTOR + encode(["string"], [reason])
    computation.output = data
    raise Revert(data)
