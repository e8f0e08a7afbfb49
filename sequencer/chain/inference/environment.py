"""The inference environment: everything outside the VM that a block's inference calls see.

The precompile never reads a clock, the network or the environment; it reads one
:class:`InferenceEnvironment`, handed to the VM that executes the block as its per-block
``environment`` (``vm.environment = env``, see ``sequencer.chain.fork``). It carries:

- ``policy`` — the chain's proof policy and prices (from ``[inference]`` in chain.toml);
- ``registry`` — the sprinter/model registry *as of the parent block*;
- ``witness`` — the block's receipts keyed by request id (``SEAL`` mode);
- ``mode`` and ``recorder`` — ``SIMULATE`` mode for PIPE detection and ``eth_call``: an
  unknown request goes to the recorder, which either returns a receipt (``eth_call`` running
  inference for real) or records it and lets the precompile halt the transaction with
  :class:`~.errors.InferencePending`;
- what execution produced: receipts in order of first use, per-transaction calls.

Transactions are bracketed by :func:`begin_transaction` / :func:`commit_transaction`
(done by :class:`~.fees.InferenceFeeHook` inside the transaction executor), so the
receipts of a transaction the builder throws out never reach the block's commitment.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Protocol

from eth.abc import ComputationAPI, StateAPI

from neurostack.protocol.modes import InferenceMode
from neurostack.protocol.receipts import InferenceReceipt
from neurostack.protocol.types import Address, Hash32, ModelCID, RequestId

from ...config import InferenceSection
from .attestation import AttestationVerifier, DevAttestationVerifier
from .errors import MissingInferenceEnvironment
from .registry import RegistryView, live_registry


class ExecutionMode(Enum):
    """How the precompile treats a request without a witness receipt."""

    SEAL = "seal"
    """Building, importing or re-executing a block: the witness is authoritative and a
    missing receipt makes the block invalid."""

    SIMULATE = "simulate"
    """PIPE detection, ``eth_call``, ``eth_estimateGas``: ask the recorder."""


@dataclass(frozen=True)
class InferencePolicy:
    """The chain's proof policy and prices; consensus-relevant, from chain.toml."""

    modes: frozenset[InferenceMode] = frozenset({InferenceMode.VANILLA, InferenceMode.TEE})
    default_model_gas: int = 50_000
    allow_unregistered_models: bool = True
    max_calls_per_tx: int = 4


def policy_from_config(section: InferenceSection) -> InferencePolicy:
    """The policy of a chain's ``[inference]`` section."""
    return InferencePolicy(
        modes=frozenset(InferenceMode[m] for m in section.modes),
        default_model_gas=section.default_model_gas,
        allow_unregistered_models=section.allow_unregistered_models,
        max_calls_per_tx=section.max_calls_per_tx,
    )


@dataclass(frozen=True)
class InferenceRequest:
    """One inference a contract asked for: what a sprinter must compute."""

    request_id: RequestId
    chain_id: int
    model_cid: ModelCID
    mode: InferenceMode
    input_abi: bytes
    input_hash: Hash32


@dataclass(frozen=True)
class InferenceCall:
    """A precompile call that returned a verified output (for fees and receipts)."""

    request_id: RequestId
    model_cid: ModelCID
    mode: InferenceMode
    sprinter: Address
    model_gas: int
    model_owner: Address | None
    royalty_bps: int


@dataclass(frozen=True)
class InferencePayout:
    """Native token an included transaction paid for inference (see :mod:`.fees`)."""

    recipient: Address
    amount: int


@dataclass(frozen=True)
class TransactionInferences:
    """The inference calls of one included transaction, in call order."""

    tx_hash: Hash32
    calls: tuple[InferenceCall, ...]
    payouts: tuple[InferencePayout, ...]


class InferenceRecorder(Protocol):
    """Receives requests the witness cannot answer, in ``SIMULATE`` mode."""

    def on_unknown(self, request: InferenceRequest) -> InferenceReceipt | None:
        """Return a receipt to continue execution with (verified like any other), or
        ``None`` to halt the transaction with :class:`~.errors.InferencePending`."""
        ...


@dataclass
class RecordingRecorder:
    """The PIPE's detector: records each unknown request once and halts."""

    requests: list[InferenceRequest] = field(default_factory=list)

    def on_unknown(self, request: InferenceRequest) -> InferenceReceipt | None:
        if all(r.request_id != request.request_id for r in self.requests):
            self.requests.append(request)
        return None


@dataclass
class InferenceEnvironment:
    """Per-block inputs of the inference precompile and what its execution produced."""

    policy: InferencePolicy
    registry: RegistryView
    witness: Mapping[RequestId, InferenceReceipt] = field(default_factory=dict)
    mode: ExecutionMode = ExecutionMode.SEAL
    recorder: InferenceRecorder | None = None
    attestation_verifier: AttestationVerifier = field(default_factory=DevAttestationVerifier)
    # outputs: committed transactions only
    used: dict[RequestId, InferenceReceipt] = field(default_factory=dict)
    transactions: list[TransactionInferences] = field(default_factory=list)
    # the transaction being executed
    tx_calls: list[InferenceCall] = field(default_factory=list)
    tx_used: dict[RequestId, InferenceReceipt] = field(default_factory=dict)


def block_environment(
    policy: InferencePolicy,
    parent_state: StateAPI,
    *,
    witness: Mapping[RequestId, InferenceReceipt] | None = None,
    mode: ExecutionMode = ExecutionMode.SEAL,
    recorder: InferenceRecorder | None = None,
    attestation_verifier: AttestationVerifier | None = None,
) -> InferenceEnvironment:
    """The environment of a block (or call) executing on top of ``parent_state``.

    ``parent_state`` must not be the state the block mutates (use e.g. ``node.state_at(n)``
    of the parent block): the registry is read from it, so registry changes made inside a
    block apply from the next block on.
    """
    return InferenceEnvironment(
        policy=policy,
        registry=live_registry(parent_state),
        witness=witness or {},
        mode=mode,
        recorder=recorder,
        attestation_verifier=attestation_verifier or DevAttestationVerifier(),
    )


def environment_of_state(state: StateAPI) -> InferenceEnvironment | None:
    """The inference environment of the block ``state`` executes, if any.

    The chain hands the VM one per-block ``environment`` object (``vm.environment = ...``,
    see ``sequencer.chain.fork``): either an :class:`InferenceEnvironment` itself or an
    object carrying one as its ``inference`` attribute.
    """
    env = getattr(state, "environment", None)
    if env is None or isinstance(env, InferenceEnvironment):
        return env
    inner = getattr(env, "inference", None)
    return inner if isinstance(inner, InferenceEnvironment) else None


def environment_of(computation: ComputationAPI) -> InferenceEnvironment:
    """The environment of the block a computation runs in; MissingInferenceEnvironment if none."""
    env = environment_of_state(computation.state)
    if env is None:
        raise MissingInferenceEnvironment(
            "this node runs without on-chain inference (no inference environment), so it cannot "
            "execute calls to the inference precompile; start it with the inference hooks"
        )
    return env


def begin_transaction(env: InferenceEnvironment) -> None:
    """Forget what an unfinished (thrown-out) transaction recorded."""
    env.tx_calls = []
    env.tx_used = {}


def lookup_receipt(env: InferenceEnvironment, request_id: RequestId) -> InferenceReceipt | None:
    """The receipt this block already uses or its witness holds for ``request_id``."""
    return env.used.get(request_id) or env.tx_used.get(request_id) or env.witness.get(request_id)


def record_call(env: InferenceEnvironment, call: InferenceCall, receipt: InferenceReceipt) -> None:
    """Remember a verified call of the current transaction."""
    env.tx_calls.append(call)
    if call.request_id not in env.used:
        env.tx_used.setdefault(call.request_id, receipt)


def commit_transaction(
    env: InferenceEnvironment, tx_hash: Hash32, payouts: tuple[InferencePayout, ...]
) -> TransactionInferences:
    """The current transaction is included: keep its receipts and calls."""
    record = TransactionInferences(tx_hash=tx_hash, calls=tuple(env.tx_calls), payouts=payouts)
    if record.calls:
        env.transactions.append(record)
    env.used.update(env.tx_used)
    begin_transaction(env)
    return record
