"""Adversarial receipts: each is rejected by the state transition. A block builder leaves
the transaction out (it stays pending) and includes it once a valid receipt is supplied."""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable

import pytest

from neurostack.protocol.modes import InferenceMode
from neurostack.protocol.receipts import InferenceReceipt
from neurostack.protocol.tensors import ModelOutput, StringTensor, encode_model_output
from sequencer.chain import ExecutionMode
from sequencer.chain.inference import (
    InferenceRequest,
    InvalidInferenceReceipt,
    MissingInferenceReceipt,
)

from .conftest import Rig, deploy
from .kit import SPRINTER_KEY, STRANGER_KEY, TEE_KEY, address_of, receipt_for

pytestmark = pytest.mark.slow

Forge = Callable[[InferenceRequest, Rig], InferenceReceipt]


def _forged_signature(req: InferenceRequest, rig: Rig) -> InferenceReceipt:
    # signed by a stranger, but claiming to be the registered sprinter
    return dataclasses.replace(
        receipt_for(req, key=STRANGER_KEY), sprinter=address_of(SPRINTER_KEY)
    )


def _output_changed(req: InferenceRequest, rig: Rig) -> InferenceReceipt:
    other = encode_model_output(ModelOutput(strings=(StringTensor("y", ("hacked",)),)))
    return dataclasses.replace(receipt_for(req), output=other)


def _other_request(req: InferenceRequest, rig: Rig) -> InferenceReceipt:
    other_input = rig.wallets[0].requests_of(rig.consumer, rig.predict_data([999, 998]))
    return receipt_for(other_input)


def _expired(req: InferenceRequest, rig: Rig) -> InferenceReceipt:
    return receipt_for(req, expiry=rig.node.head().header.timestamp - 1)


CASES: dict[str, tuple[Forge, str]] = {
    "forged_signature": (_forged_signature, "signature mismatch"),
    "unregistered_key": (lambda r, _: receipt_for(r, key=STRANGER_KEY), "is not registered as a sprinter"),
    "output_changed_after_signing": (_output_changed, "output hash mismatch"),
    "other_chain_id": (lambda r, _: receipt_for(r, chain_id=1), "chain id mismatch"),
    "other_request": (_other_request, "request id mismatch"),
    "model_hash_mismatch": (
        lambda r, _: receipt_for(r, file_hash=hashlib.sha256(b"another model").digest()),
        "model hash mismatch",
    ),
    "expired": (_expired, "expired"),
    "output_not_a_model_output": (lambda r, _: receipt_for(r, output=b"\x01\x02"), "not an ABI-encoded ModelOutput"),
}  # fmt: skip


def check_rejected_then_recovered(rig: Rig, consumer: bytes, data: bytes, bad: Callable[[InferenceRequest], InferenceReceipt], reason: str) -> None:  # fmt: skip
    wallet = rig.wallets[2]
    request = wallet.requests_of(consumer, data)
    rig.feed.witness[request.request_id] = bad(request)

    # the state transition's verdict, seen through a SEAL-mode call
    rig.feed.call_mode = ExecutionMode.SEAL
    try:
        with pytest.raises(InvalidInferenceReceipt, match=reason) as rejected:
            wallet.call(consumer, data)
    finally:
        rig.feed.call_mode = ExecutionMode.SIMULATE
    assert rejected.value.request_id == request.request_id

    # the builder leaves the transaction out of the block; it stays pending
    tx_hash = wallet.send(consumer, data)
    block = rig.mine()
    assert tx_hash not in [t.hash for t in block.transactions]
    assert rig.node.transaction(tx_hash).pending

    # with a valid receipt it gets in
    rig.feed.witness[request.request_id] = receipt_for(request)
    block = rig.mine()
    assert rig.receipt_of(block, tx_hash).state_root == b"\x01"


@pytest.mark.parametrize("case", list(CASES))
def test_invalid_receipt_is_rejected(rig: Rig, case: str) -> None:
    forge, reason = CASES[case]
    data = rig.predict_data([100 + list(CASES).index(case)])
    check_rejected_then_recovered(rig, rig.consumer, data, lambda r: forge(r, rig), reason)


def test_invalid_missing_receipt_makes_the_block_invalid(rig: Rig) -> None:
    data = rig.predict_data([300])
    rig.feed.call_mode = ExecutionMode.SEAL
    try:
        with pytest.raises(
            MissingInferenceReceipt, match="no inference receipt in the block witness"
        ):
            rig.wallets[2].call(rig.consumer, data)
    finally:
        rig.feed.call_mode = ExecutionMode.SIMULATE


def test_invalid_tee_receipt_from_a_key_without_attestation(rig: Rig, contracts) -> None:
    tee_consumer = deploy(rig.node, rig.wallets[0], contracts["ModelConsumer"], ["string", "uint8"],
                          ["x", InferenceMode.TEE])  # fmt: skip
    data = rig.predict_data([400])
    # a key that was never admitted with an attestation, even the VANILLA sprinter's
    request = rig.wallets[2].requests_of(tee_consumer, data)
    for key in (TEE_KEY, SPRINTER_KEY):
        rig.feed.witness[request.request_id] = receipt_for(request, key=key)
        rig.feed.call_mode = ExecutionMode.SEAL
        try:
            with pytest.raises(InvalidInferenceReceipt, match="is not admitted as a TEE key"):
                rig.wallets[2].call(tee_consumer, data)
        finally:
            rig.feed.call_mode = ExecutionMode.SIMULATE
