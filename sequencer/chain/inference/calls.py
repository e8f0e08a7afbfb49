"""What a contract's model calls are: requests, verified calls, payouts, and the recorder.

Plain data (EELS style) shared by the precompile, fee settlement, the witness and PIPE:

- :class:`InferenceRequest` — one inference a contract asked for (what a sprinter computes);
- :class:`InferenceCall` — a precompile call answered with a verified receipt;
- :class:`InferencePayout` and :class:`TransactionInferences` — who an included
  transaction paid for inference, and its calls in order;
- :class:`InferenceRecorder` — asked, in ``SIMULATE`` mode, for a request the witness
  cannot answer; :class:`RecordingRecorder` is PIPE's detector (record and halt).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from neurostack.protocol.modes import InferenceMode
from neurostack.protocol.receipts import InferenceReceipt
from neurostack.protocol.types import Address, Hash32, ModelCID, RequestId


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
    input_abi: bytes = b""
    """Mode ZK only: the call's ABI input (a light client needs it to check the proof
    against; it hashes to the receipt's ``inputHash``). Empty for the other modes."""


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
