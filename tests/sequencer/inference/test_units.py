"""Pure pieces of on-chain inference, without a node: fee split, registry layout, genesis
seed, the dev attestation verifier, receipt checks that need no execution."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from neurostack.protocol.modes import InferenceMode
from neurostack.protocol.request import input_hash, request_id
from neurostack.protocol.tensors import ModelInput, Number, NumberTensor, encode_model_input
from sequencer.chain.inference import (
    DevAttestationVerifier,
    InferenceCall,
    InferenceRequest,
    InvalidAttestation,
    InvalidInferenceReceipt,
    make_dev_attestation,
    verify_receipt,
)
from sequencer.chain.inference.constants import MAX_OUTPUT_BYTES
from sequencer.chain.inference.fees import inference_payouts
from sequencer.chain.inference.genesis import registry_storage
from sequencer.chain.inference.registry import (
    ModelEntry,
    Status,
    TeeKey,
    chain_owner,
    model_of,
    registry_from_storage,
    set_model,
    set_tee_key,
    sprinter_status,
    tee_key_of,
)
from sequencer.chainspec import chain_spec
from sequencer.errors import ConfigError

from .kit import (
    CHAIN_ID,
    MEASUREMENT,
    MODEL_CID,
    OWNER_KEY,
    ROOT_KEY,
    SPRINTER_KEY,
    TEE_KEY,
    address_of,
    make_config,
    receipt_for,
)

A, B, OWNER = b"\xaa" * 20, b"\xbb" * 20, b"\x0e" * 20


def _call(sprinter: bytes, gas: int, owner: bytes | None = None, bps: int = 0) -> InferenceCall:
    return InferenceCall(b"\x01" * 32, MODEL_CID, InferenceMode.VANILLA, sprinter, gas, owner, bps)


def test_payouts_split_royalty_and_merge_recipients() -> None:
    payouts, gas = inference_payouts(
        [_call(A, 1000, OWNER, 2500), _call(A, 10, OWNER, 3333), _call(B, 5)],
        gas_budget=10**6,
        gas_price=7,
    )
    assert gas == 1015
    # 7000 -> 1750 royalty; 70 -> 23 royalty (rounded down); 35 to B
    assert {p.recipient: p.amount for p in payouts} == {OWNER: 1750 + 23, A: 5250 + 47, B: 35}


def test_payouts_are_capped_by_the_gas_the_transaction_paid_for() -> None:
    payouts, gas = inference_payouts([_call(A, 600), _call(B, 600)], gas_budget=1000, gas_price=2)
    assert gas == 1000
    assert {p.recipient: p.amount for p in payouts} == {A: 1200, B: 800}


def test_registry_layout_round_trips() -> None:
    storage: dict[int, int] = {}
    write = storage.__setitem__
    entry = ModelEntry(b"\x05" * 32, OWNER, 2**64 - 1, 10_000)
    set_model(write, MODEL_CID, entry)
    set_tee_key(write, TeeKey(A, b"\x06" * 32, 12345, Status.ACTIVE))
    view = registry_from_storage(storage)
    assert model_of(view, MODEL_CID) == entry
    assert model_of(view, MODEL_CID + "x") is None
    assert tee_key_of(view, A) == TeeKey(A, b"\x06" * 32, 12345, Status.ACTIVE)
    assert tee_key_of(view, B) is None


def test_genesis_seed_reads_the_config(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    view = registry_from_storage(
        registry_storage(chain_spec(config).registry, DevAttestationVerifier())
    )
    assert chain_owner(view) == address_of(OWNER_KEY)
    assert sprinter_status(view, address_of(SPRINTER_KEY)) is Status.ACTIVE
    assert sprinter_status(view, A) is Status.UNKNOWN


def test_invalid_measurement_in_config_is_a_config_error(tmp_path: Path) -> None:
    config = make_config(tmp_path, approved_measurements=["0x1234"])
    with pytest.raises(ConfigError, match="approved_measurements.*32-byte"):
        chain_spec(config)


def _roots(*keys: bytes):
    storage: dict[int, int] = {}
    from sequencer.chain.inference.registry import set_attestation_root

    for key in keys:
        set_attestation_root(storage.__setitem__, address_of(key), Status.ACTIVE)
    return registry_from_storage(storage)


def test_dev_attestation_verifies_key_measurement_and_time() -> None:
    doc = make_dev_attestation(
        key=address_of(TEE_KEY), measurement=MEASUREMENT, timestamp=99, root_private_key=ROOT_KEY
    )
    got = DevAttestationVerifier().verify(doc, registry=_roots(ROOT_KEY), now=100)
    assert (got.key, got.measurement, got.timestamp, got.issuer) == (
        address_of(TEE_KEY),
        MEASUREMENT,
        99,
        address_of(ROOT_KEY),
    )


def test_invalid_dev_attestation_from_an_unknown_root_or_malformed() -> None:
    doc = make_dev_attestation(
        key=address_of(TEE_KEY), measurement=MEASUREMENT, timestamp=99, root_private_key=TEE_KEY
    )
    with pytest.raises(InvalidAttestation, match="not an active attestation root"):
        DevAttestationVerifier().verify(doc, registry=_roots(ROOT_KEY), now=100)
    with pytest.raises(InvalidAttestation, match="not ABI"):
        DevAttestationVerifier().verify(b"\x00" * 7, registry=_roots(ROOT_KEY), now=100)


def _request(mode: InferenceMode = InferenceMode.VANILLA) -> InferenceRequest:
    abi = encode_model_input(ModelInput(numbers=(NumberTensor("x", (Number(1, 0),), (1,)),)))
    return InferenceRequest(
        request_id(CHAIN_ID, MODEL_CID, mode, abi), CHAIN_ID, MODEL_CID, mode, abi, input_hash(abi)
    )


def test_invalid_receipt_for_another_mode_or_model_is_named() -> None:
    request = _request()
    view = registry_from_storage({})
    tee_receipt = receipt_for(_request(InferenceMode.TEE))
    with pytest.raises(InvalidInferenceReceipt, match="TEE receipt for a VANILLA call"):
        verify_receipt(tee_receipt, request, registry=view, model=None, now=0)
    other_model = dataclasses.replace(receipt_for(request), model_cid="bafkreiother")
    with pytest.raises(InvalidInferenceReceipt, match="it is for model bafkreiother"):
        verify_receipt(other_model, request, registry=view, model=None, now=0)


def test_invalid_zk_receipt_for_a_model_without_a_registered_circuit() -> None:
    request = _request(InferenceMode.ZK)
    with pytest.raises(InvalidInferenceReceipt, match="has no registered ZK circuit"):
        verify_receipt(
            receipt_for(request), request, registry=registry_from_storage({}), model=None, now=0
        )


def test_invalid_oversized_output_is_rejected() -> None:
    request = _request()
    huge = receipt_for(request, output=b"\x00" * (MAX_OUTPUT_BYTES + 1))
    with pytest.raises(InvalidInferenceReceipt, match="more than 1048576"):
        verify_receipt(huge, request, registry=registry_from_storage({}), model=None, now=0)
