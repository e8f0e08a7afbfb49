"""The inference precompile at ``0x…F4``: ``runModelInference(ModelInferenceRequest)``.

One function, :func:`run_model_inference`, in the EELS layout: checks that make the call
revert (catchable by the calling contract), then ``# GAS``, then ``# OPERATION``.

- Reverts (``Error(string)``): malformed calldata; a model id that is not a CIDv1; a mode
  outside the chain's proof policy (``[inference] modes``) or one the fork has no receipt
  verifier for; an unregistered model on a chain without ``allow_unregistered_models``; mode ZK for a model without a registered circuit
  (``registerZkModel``); more than ``max_calls_per_tx`` calls in one transaction.
- Gas (the spec's :class:`~sequencer.chain.spec.GasSchedule`): ``inference_base +
  len(calldata)·inference_per_byte + verify[mode] + model gas`` (the registry's
  ``inferenceGas``, or ``default_model_gas`` for an unregistered model) before the lookup,
  then ``len(output)·inference_output_per_byte`` once the receipt is known (its output
  enters the witness). Only the model gas counts as *inference gas* for fees (:mod:`.fees`).
- Output cap: an output longer than the chain's ``max_output_bytes`` makes the call revert
  after it paid for the job and the bytes.
- Operation: the request id is computed with the executing chain's id; the receipt comes
  from the receipts this block already used, else from the witness. In ``SEAL`` mode a
  missing receipt raises :class:`~.errors.MissingInferenceReceipt` and a bad one
  :class:`~.errors.InvalidInferenceReceipt` — the block is invalid, the builder defers the
  transaction. In ``SIMULATE`` mode the recorder is asked; if it has no receipt the
  transaction halts with :class:`~.errors.InferencePending`. No placeholder output ever
  reaches contract code. The return data is the receipt's ``output`` bytes, which are
  exactly the ABI encoding of the function's ``ModelOutput`` return value, with
  ``is_simulation_result`` set by the execution, not by the sprinter: true only in an
  environment the node marks ``simulation_result`` (``eth_call`` and the like, always
  ``SIMULATE``), false in every block. An OPTIMISTIC call also records the result in the
  registry for its challenge window (:func:`.optimistic.record_result`).

OpenGradient's LLM functions (``runLLMCompletion``, ``runLLMChat``) revert with a reason
saying they are not supported here (:mod:`.opengradient`).
"""

from __future__ import annotations

from collections.abc import Mapping

from eth.abc import ComputationAPI

from neurostack.protocol.cid import parse_model_cid
from neurostack.protocol.errors import InvalidCID, InvalidTensor
from neurostack.protocol.modes import InferenceMode
from neurostack.protocol.receipts import InferenceReceipt
from neurostack.protocol.request import decode_inference_call, input_hash, request_id
from neurostack.protocol.tensors.wire import with_simulation_flag

from ..environment import BlockEnvironment, ExecutionMode, environment_of, fork_state
from ..spec import InferencePolicy
from .calls import InferenceCall, InferenceRequest
from .errors import InferencePending, MissingInferenceReceipt, UnpaidInferenceOutput
from .opengradient import reject_llm_call
from .optimistic import challenged_in_this_block, record_result
from .outputs import is_verified, record_call, used_receipt
from .registry import model_of, zk_model_of
from .revert import revert_with
from .verify import ReceiptVerifier, verify_receipt


def accepted_modes(
    policy: InferencePolicy, verifiers: Mapping[InferenceMode, ReceiptVerifier]
) -> list[str]:
    """Names of the modes a chain accepts and the fork can verify, in enum order."""
    return [m.name for m in sorted(policy.modes & verifiers.keys())]


def run_model_inference(computation: ComputationAPI) -> ComputationAPI:
    """Answer a contract's model call from the block's verified inference witness."""
    env, outputs = environment_of(computation)
    verifiers = fork_state(computation.state).receipt_verifiers
    policy = env.spec.inference
    calldata = computation.msg.data_as_bytes
    reject_llm_call(computation, calldata)
    try:
        mode, model_cid, _, input_abi = decode_inference_call(calldata)
        parse_model_cid(model_cid)
    except (InvalidTensor, InvalidCID) as exc:
        revert_with(computation, f"invalid inference request: {exc}")
    accepted = accepted_modes(policy, verifiers)
    if mode.name not in accepted:
        revert_with(
            computation,
            f"inference mode {mode.name} is not accepted on this chain; "
            f"use one of {', '.join(accepted)}",
        )
    model = model_of(env.registry, model_cid)
    if model is None and not policy.allow_unregistered_models:
        revert_with(
            computation,
            f"model not registered: {model_cid}; the chain owner must registerModel it first",
        )
    if mode is InferenceMode.ZK and zk_model_of(env.registry, model_cid) is None:
        revert_with(
            computation,
            f"model {model_cid} has no ZK circuit on this chain; the chain owner must "
            "registerZkModel it (neurostack model register-zk) before mode ZK calls",
        )
    if len(outputs.tx_calls) >= policy.max_calls_per_tx:
        revert_with(
            computation,
            f"too many model calls in one transaction (at most {policy.max_calls_per_tx})",
        )

    # GAS
    gas = env.spec.gas
    model_gas = model.inference_gas if model is not None else policy.default_model_gas
    computation.consume_gas(
        gas.inference_base + len(calldata) * gas.inference_per_byte + gas.verify[mode] + model_gas,
        reason="runModelInference",
    )

    # OPERATION
    chain_id = computation.state.execution_context.chain_id
    request = InferenceRequest(
        request_id=request_id(chain_id, model_cid, mode, input_abi),
        chain_id=chain_id,
        model_cid=model_cid,
        mode=mode,
        input_abi=input_abi,
        input_hash=input_hash(input_abi),
    )
    already_verified = is_verified(outputs, request.request_id)
    receipt = used_receipt(outputs, request.request_id) or env.witness.get(request.request_id)
    if receipt is None:
        receipt = _receipt_for_unknown(env, request)
    if not already_verified:
        verify_receipt(
            receipt,
            request,
            registry=env.registry,
            model=model,
            now=computation.state.timestamp,
            verifiers=verifiers,
            zk_srs=policy.zk_srs,
        )
    if mode is InferenceMode.OPTIMISTIC:
        conflict = challenged_in_this_block(computation, request, receipt)
        if conflict is not None:
            # the witness still carries the receipt (re-execution needs it to reach this
            # revert), but the call is not recorded, so its sprinter is not paid
            if request.request_id not in outputs.used:
                outputs.tx_used.setdefault(request.request_id, receipt)
            revert_with(computation, conflict)
    # GAS of the output: its bytes enter the block's witness, so the call must have the
    # gas for them before its receipt may be used (a receipt never enters a witness
    # unpaid: witness bytes stay bounded by gas). Without it the transaction cannot be
    # included at all (like a missing receipt); eth_call sees "out of gas".
    output = bytes(receipt.output)
    output_gas = len(output) * gas.inference_output_per_byte
    if output_gas > computation.get_gas_remaining():
        raise UnpaidInferenceOutput(request, len(output), output_gas)
    record_call(
        outputs,
        InferenceCall(
            request_id=request.request_id,
            model_cid=model_cid,
            mode=mode,
            sprinter=receipt.sprinter,
            model_gas=model_gas,
            model_owner=model.owner if model is not None else None,
            royalty_bps=model.royalty_bps if model is not None else 0,
            input_abi=input_abi if mode is InferenceMode.ZK else b"",
        ),
        receipt,
    )
    # A call over the chain's output cap still paid for the job and the bytes, then reverts.
    computation.consume_gas(output_gas, reason="model output")
    if len(output) > policy.max_output_bytes:
        revert_with(
            computation,
            f"model output too large: {len(output)} bytes, this chain returns at most "
            f"{policy.max_output_bytes} ([inference] max_output_bytes)",
        )
    if mode is InferenceMode.OPTIMISTIC:
        record_result(computation, request, receipt)
    simulation = env.simulation_result and env.mode is ExecutionMode.SIMULATE
    computation.output = with_simulation_flag(output, simulation)
    return computation


def _receipt_for_unknown(env: BlockEnvironment, request: InferenceRequest) -> InferenceReceipt:
    """A request the witness cannot answer: an invalid block, or ask the recorder."""
    if env.mode is ExecutionMode.SEAL:
        raise MissingInferenceReceipt(request)
    receipt = env.recorder.on_unknown(request) if env.recorder is not None else None
    if receipt is None:
        raise InferencePending(request)
    return receipt
