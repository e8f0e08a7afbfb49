"""OPTIMISTIC results and bonds: recording, challenges, slashing, staking (issue 9).

The registry system contract's staking and challenge functions (``stake``, ``unstake``,
``withdraw``, ``challenge`` and their views) and the precompile's recording step live here;
``system_contract`` lists them in its ABI, the precompile calls :func:`record_result`.
Storage is :mod:`neurostack.protocol.registry`'s ``stakecfg``, ``bond``, ``optresult`` and
``slashburn`` namespaces; the bonds themselves are native token held by the registry
account ``0x4E53…0001``.

Rules (docs/inference.md, "OPTIMISTIC mode"):

- a block that uses an OPTIMISTIC receipt records ``(sprinter, outputHash, block)`` for
  the request, unless a result is already recorded (the verifier refuses a receipt whose
  output contradicts a recorded one);
- ``challenge(requestId, input, counterReceipt)`` succeeds when a result is recorded and
  not yet challenged, the block is at most ``challengeWindow`` blocks after the result's,
  the counter-receipt is a TEE receipt (:data:`COUNTER_PROOF_MODES`) for the same
  chain, model and input (the OPTIMISTIC request id of its model and ``input`` is
  ``requestId``), verifies through the fork's per-mode verifier map against the live
  registry, and gives another output. Then the sprinter's whole stake (bonded and
  unbonding) is slashed: ``challengerShareBps`` of it to the caller, the rest burned
  (``slashburn`` counts it), the record holds the proven output with status challenged,
  and ``ResultChallenged`` is logged. Anything else reverts with the reason; the
  challenger pays the gas used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from eth.abc import ComputationAPI
from eth_abi import encode
from eth_typing import Address as EvmAddress
from eth_utils import keccak

from neurostack.protocol.errors import InvalidReceipt
from neurostack.protocol.modes import InferenceMode
from neurostack.protocol.receipts import InferenceReceipt, decode_receipt
from neurostack.protocol.registry import (
    Bond,
    OptimisticResult,
    ResultStatus,
    bond_of,
    optimistic_result_of,
    set_bond,
    set_optimistic_result,
    set_slash_burned,
    slash_burned,
    staking_params,
)
from neurostack.protocol.request import input_hash, request_id, request_id_from_hash
from neurostack.protocol.types import Address, Hash32

from ..environment import environment_of, fork_state
from .calls import InferenceRequest
from .constants import MAX_ROYALTY_BPS, REGISTRY_ADDRESS
from .errors import InvalidInferenceReceipt
from .registry import live_registry, model_of
from .verify import verify_receipt

if TYPE_CHECKING:
    from .system_contract import Call

COUNTER_PROOF_MODES = frozenset({InferenceMode.TEE})
"""Receipts that prove an output on their own (an attested enclave); a VANILLA or
OPTIMISTIC receipt is one more signature and cannot overturn another. A mode counts only
once the fork has a verifier for it. ZK receipts are not counter-proofs (yet): a proof
gives the circuit's fixed-point output, which differs from an honest onnxruntime output
by the quantisation error, so comparing output hashes would slash honest sprinters; a
tolerance rule needs the recorded output itself, and the registry keeps only its hash."""

OPTIMISTIC_EVENT_SIGNATURES = (
    "Staked(address,uint256,uint256)",
    "Unstaked(address,uint256,uint64)",
    "Withdrawn(address,uint256)",
    "OptimisticResultRecorded(bytes32,address,bytes32,string,bytes)",
    "ResultChallenged(bytes32,address,address,bytes32,bytes32,uint256,uint256)",
)

_TOPIC = {s.split("(")[0]: keccak(text=s) for s in OPTIMISTIC_EVENT_SIGNATURES}
_REGISTRY = EvmAddress(REGISTRY_ADDRESS)


class ResultState:
    """``optimisticResultOf``'s ``state``: 0 none, 1 pending, 2 final, 3 challenged."""

    NONE, PENDING, FINAL, CHALLENGED = 0, 1, 2, 3


def _log(computation: ComputationAPI, event: str, indexed: tuple[bytes, ...], data: bytes) -> None:
    topics = (int.from_bytes(_TOPIC[event], "big"),) + tuple(
        int.from_bytes(bytes(t).rjust(32, b"\x00"), "big") for t in indexed
    )
    computation.add_log_entry(_REGISTRY, topics, data)


def _write(computation: ComputationAPI) -> Any:
    return lambda slot, value: computation.state.set_storage(_REGISTRY, slot, value)


# --- the precompile's step ---------------------------------------------------------------


def challenged_in_this_block(
    computation: ComputationAPI, request: InferenceRequest, receipt: InferenceReceipt
) -> str | None:
    """Why the call must revert: its result was challenged earlier in this block (the
    block's shared receipt carries the overturned output); ``None`` otherwise. The
    verifier already refused receipts contradicting the parent block's record."""
    existing = optimistic_result_of(live_registry(computation.state), request.request_id)
    if existing is not None and existing.output_hash != receipt.output_hash:
        return (
            "the OPTIMISTIC result of this request was challenged in this block; "
            "call again from the next block"
        )
    return None


def record_result(
    computation: ComputationAPI, request: InferenceRequest, receipt: InferenceReceipt
) -> None:
    """Record the OPTIMISTIC result a call used (first use only) and log it with the model
    and the input, which is all a watcher needs to recompute the result and challenge it
    (the input's bytes are paid for by the precompile's per-byte gas)."""
    if optimistic_result_of(live_registry(computation.state), request.request_id) is not None:
        return
    result = OptimisticResult(
        sprinter=receipt.sprinter,
        output_hash=receipt.output_hash,
        block_number=computation.state.block_number,
        status=ResultStatus.RECORDED,
    )
    set_optimistic_result(_write(computation), request.request_id, result)
    _log(
        computation, "OptimisticResultRecorded", (request.request_id, receipt.sprinter),
        encode(["bytes32", "string", "bytes"],
               [bytes(receipt.output_hash), request.model_cid, request.input_abi]),
    )  # fmt: skip


# --- views -------------------------------------------------------------------------------


def result_state(result: OptimisticResult | None, block_number: int, window: int) -> int:
    if result is None:
        return ResultState.NONE
    if result.status is ResultStatus.CHALLENGED:
        return ResultState.CHALLENGED
    return ResultState.FINAL if block_number > result.block_number + window else ResultState.PENDING


def optimistic_result_view(call: Call) -> tuple[Any, ...]:
    registry = call.registry
    result = optimistic_result_of(registry, call.args[0])
    window = staking_params(registry).challenge_window
    state = result_state(result, call.computation.state.block_number, window)
    if result is None:
        return (b"\x00" * 20, b"\x00" * 32, 0, 0, state)
    return (result.sprinter, result.output_hash, result.block_number,
            result.block_number + window, state)  # fmt: skip


def is_final_view(call: Call) -> tuple[Any, ...]:
    registry = call.registry
    result = optimistic_result_of(registry, call.args[0])
    window = staking_params(registry).challenge_window
    return (result_state(result, call.computation.state.block_number, window) == ResultState.FINAL,)


def bond_view(call: Call) -> tuple[Any, ...]:
    bond = bond_of(call.registry, _address(call.args[0]))
    return (bond.bonded, bond.unbonding, bond.release_block)


def staking_params_view(call: Call) -> tuple[Any, ...]:
    p = staking_params(call.registry)
    return (bool(p.admission), p.min_bond, p.challenge_window, p.unbonding_delay,
            p.challenger_share_bps)  # fmt: skip


def slash_burned_view(call: Call) -> tuple[Any, ...]:
    return (slash_burned(call.registry),)


# --- staking -----------------------------------------------------------------------------


def stake(call: Call) -> None:
    msg = call.computation.msg
    if not msg.value:
        call.fail("stake: send the amount to bond as the call's value")
    who = Address(bytes(msg.sender))
    bond = bond_of(call.registry, who)
    total = bond.bonded + msg.value
    set_bond(call.write, who, Bond(total, bond.unbonding, bond.release_block))
    _log(call.computation, "Staked", (who,), encode(["uint256", "uint256"], [msg.value, total]))


def unstake(call: Call) -> None:
    (amount,) = call.args
    who = Address(bytes(call.computation.msg.sender))
    bond = bond_of(call.registry, who)
    if not 0 < amount <= bond.bonded:
        call.fail(f"unstake: amount must be from 1 to your bonded {bond.bonded} wei")
    release = call.computation.state.block_number + staking_params(call.registry).unbonding_delay
    set_bond(call.write, who, Bond(bond.bonded - amount, bond.unbonding + amount, release))
    _log(call.computation, "Unstaked", (who,), encode(["uint256", "uint64"], [amount, release]))


def withdraw(call: Call) -> None:
    who = Address(bytes(call.computation.msg.sender))
    bond = bond_of(call.registry, who)
    block = call.computation.state.block_number
    if not bond.unbonding:
        call.fail("withdraw: nothing is unbonding; unstake first")
    if block < bond.release_block:
        call.fail(
            f"withdraw: {bond.unbonding} wei is unbonding until block {bond.release_block} "
            f"(this is block {block}); it stays slashable until then"
        )
    set_bond(call.write, who, Bond(bond.bonded, 0, 0))
    state = call.computation.state
    state.delta_balance(_REGISTRY, -bond.unbonding)
    state.delta_balance(EvmAddress(who), bond.unbonding)
    _log(call.computation, "Withdrawn", (who,), encode(["uint256"], [bond.unbonding]))


# --- challenges --------------------------------------------------------------------------


def challenge(call: Call) -> None:
    rid, input_abi, encoded = bytes(call.args[0]), bytes(call.args[1]), bytes(call.args[2])
    computation = call.computation
    state = computation.state
    registry = call.registry
    chain_id = state.execution_context.chain_id
    block = state.block_number
    result = optimistic_result_of(registry, rid)
    if result is None:
        call.fail(f"challenge: no OPTIMISTIC result is recorded for request 0x{rid.hex()}")
    if result.status is ResultStatus.CHALLENGED:
        call.fail(f"challenge: the result of request 0x{rid.hex()} was already challenged")
    params = staking_params(registry)
    closes = result.block_number + params.challenge_window
    if block > closes:
        call.fail(
            f"challenge: the window of request 0x{rid.hex()} closed at block {closes} "
            f"({params.challenge_window} blocks after block {result.block_number}); "
            "the result is final"
        )
    try:
        receipt = decode_receipt(encoded, chain_id)
    except InvalidReceipt as exc:
        call.fail(f"challenge: counter-proof: {exc}")
    verifiers = fork_state(state).receipt_verifiers
    usable = sorted(m.name for m in COUNTER_PROOF_MODES & verifiers.keys())
    if receipt.mode not in COUNTER_PROOF_MODES or receipt.mode not in verifiers:
        call.fail(
            f"challenge: a {receipt.mode.name} receipt is no counter-proof; send a receipt of "
            f"{' or '.join(usable)} mode"
        )
    in_hash = input_hash(input_abi)
    if receipt.input_hash != in_hash:
        call.fail(
            "challenge: the counter-proof is for another request (its input hash "
            f"0x{bytes(receipt.input_hash).hex()} is not the hash of the input given)"
        )
    optimistic_id = request_id_from_hash(
        chain_id, receipt.model_cid, InferenceMode.OPTIMISTIC, in_hash
    )
    if optimistic_id != rid:
        call.fail(
            "challenge: the counter-proof is for another request (its model and this input "
            f"give OPTIMISTIC request 0x{bytes(optimistic_id).hex()}, not 0x{rid.hex()})"
        )
    env, _ = environment_of(computation)
    computation.consume_gas(env.spec.gas.verify[receipt.mode], reason="challenge counter-proof")
    request = InferenceRequest(
        request_id=request_id(chain_id, receipt.model_cid, receipt.mode, input_abi),
        chain_id=chain_id,
        model_cid=receipt.model_cid,
        mode=receipt.mode,
        input_abi=input_abi,
        input_hash=in_hash,
    )
    try:
        verify_receipt(
            receipt, request, registry=registry, model=model_of(registry, receipt.model_cid),
            now=state.timestamp, verifiers=verifiers,
        )  # fmt: skip
    except InvalidInferenceReceipt as exc:
        call.fail(f"challenge: the counter-proof does not verify: {exc.reason}")
    if receipt.output_hash == result.output_hash:
        call.fail("challenge: the counter-proof gives the same output; the result stands")
    _slash(call, rid, result, receipt.output_hash, params.challenger_share_bps)


def _slash(
    call: Call, rid: bytes, result: OptimisticResult, proven: Hash32, share_bps: int
) -> None:
    computation = call.computation
    state = computation.state
    challenger = Address(bytes(computation.msg.sender))
    bond = bond_of(call.registry, result.sprinter)
    slashed = bond.bonded + bond.unbonding
    reward = slashed * share_bps // MAX_ROYALTY_BPS
    set_bond(call.write, result.sprinter, Bond(0, 0, 0))
    set_slash_burned(call.write, slash_burned(call.registry) + slashed - reward)
    set_optimistic_result(
        call.write, rid,
        OptimisticResult(result.sprinter, proven, result.block_number, ResultStatus.CHALLENGED),
    )  # fmt: skip
    state.delta_balance(_REGISTRY, -slashed)
    state.delta_balance(EvmAddress(challenger), reward)
    _log(
        computation, "ResultChallenged", (rid, result.sprinter, challenger),
        encode(["bytes32", "bytes32", "uint256", "uint256"],
               [bytes(result.output_hash), bytes(proven), slashed, reward]),
    )  # fmt: skip


def _address(value: str | bytes) -> Address:
    return Address(bytes.fromhex(value[2:]) if isinstance(value, str) else bytes(value))


__all__ = [
    "COUNTER_PROOF_MODES",
    "OPTIMISTIC_EVENT_SIGNATURES",
    "ResultState",
    "challenge",
    "challenged_in_this_block",
    "record_result",
    "stake",
    "unstake",
    "withdraw",
]
