"""The block environment: everything outside the VM that a block's (or a call's) execution sees.

EELS passes an explicit environment into the state transition; so does this fork. A
:class:`BlockEnvironment` is frozen and built before execution starts:

- ``spec`` — the chain spec (proof policy, gas schedule);
- ``registry`` — the sprinter/model registry *as of the parent block* (so registry
  changes made inside a block apply from the next block on);
- ``witness`` — the receipts the block may use, keyed by request id (``SEAL`` mode);
- ``mode`` and ``recorder`` — ``SIMULATE`` mode for PIPE detection and ``eth_call``:
  an unknown request goes to the recorder, which either returns a receipt (``eth_call``
  running inference for real) or lets the precompile halt with ``InferencePending``;
- ``simulation_result`` — what contracts read in ``ModelOutput.is_simulation_result``:
  true only for the node's user-facing simulations (``eth_call``, ``eth_estimateGas``,
  ``eth_createAccessList``, ``eth_simulateV1``), false in blocks (building, the STF's
  re-execution, a follower's validation: always ``SEAL``) and in PIPE's detection, which
  must predict what the block will execute. The node sets it; no caller input reaches it.

What execution produces (the receipts used, each transaction's calls and payouts) goes
into a separate accumulator, :class:`~.inference.outputs.InferenceOutputs`. The VM
carries both (``vm.environment``, ``vm.outputs``; see :mod:`.fork`); a precompile reaches
them through its computation's state with :func:`environment_of`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from types import MappingProxyType
from typing import Protocol, cast

from eth.abc import ComputationAPI, StateAPI

from neurostack.protocol.modes import InferenceMode
from neurostack.protocol.receipts import InferenceReceipt
from neurostack.protocol.types import RequestId

from .inference.attestation import AttestationVerifier
from .inference.calls import InferenceRecorder
from .inference.errors import MissingInferenceEnvironment
from .inference.outputs import InferenceOutputs
from .inference.registry import RegistryView, live_registry
from .inference.verify import ReceiptVerifier
from .spec import ChainSpec


class ExecutionMode(Enum):
    """How the precompile treats a request without a witness receipt."""

    SEAL = "seal"
    """Building or validating a block: the witness is authoritative and a missing receipt
    makes the block invalid."""

    SIMULATE = "simulate"
    """PIPE detection, ``eth_call``, ``eth_estimateGas``: ask the recorder."""


@dataclass(frozen=True)
class BlockEnvironment:
    """The inputs of one block's (or call's) execution besides the transactions."""

    spec: ChainSpec
    registry: RegistryView
    witness: Mapping[RequestId, InferenceReceipt] = field(
        default_factory=lambda: MappingProxyType({})
    )
    mode: ExecutionMode = ExecutionMode.SEAL
    recorder: InferenceRecorder | None = None
    simulation_result: bool = False
    """Mark model outputs ``is_simulation_result`` (honoured in ``SIMULATE`` mode only)."""


def block_environment(
    spec: ChainSpec,
    parent_state: StateAPI,
    *,
    witness: Mapping[RequestId, InferenceReceipt] | None = None,
    mode: ExecutionMode = ExecutionMode.SEAL,
    recorder: InferenceRecorder | None = None,
    simulation_result: bool = False,
) -> BlockEnvironment:
    """The environment of a block (or call) executing on top of ``parent_state``.

    ``parent_state`` must not be the state the block mutates (use the parent block's
    state): the registry is read from it. ``witness`` is used as given (not copied).
    ``simulation_result`` is for the node's ``eth_call``-like environments only.
    """
    return BlockEnvironment(
        spec=spec,
        registry=live_registry(parent_state),
        witness=witness if witness is not None else MappingProxyType({}),
        mode=mode,
        recorder=recorder,
        simulation_result=simulation_result,
    )


class ForkState(Protocol):
    """What the Neuro fork's state carries besides py-evm's (``NeuroState`` implements it)."""

    environment: BlockEnvironment | None
    outputs: InferenceOutputs | None
    receipt_verifiers: Mapping[InferenceMode, ReceiptVerifier]
    attestation_verifier: AttestationVerifier


def fork_state(state: StateAPI) -> ForkState:
    """``state`` as the fork's state. Only the fork's computations run the fork's
    precompiles, so a state they see is always a ``NeuroState``."""
    return cast(ForkState, state)


def environment_of(computation: ComputationAPI) -> tuple[BlockEnvironment, InferenceOutputs]:
    """The environment and output accumulator of the execution ``computation`` belongs to."""
    state = fork_state(computation.state)
    if state.environment is None or state.outputs is None:
        raise MissingInferenceEnvironment(
            "this execution has no block environment, so it cannot run the inference or "
            "registry precompiles; execute blocks through sequencer.chain (build_block, "
            "state_transition) or calls through sequencer.chain.execution"
        )
    return state.environment, state.outputs
