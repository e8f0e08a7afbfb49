"""The light client's ZK check: a mode-ZK receipt's proof, against the circuit the chain
registered for the model, for the call's input and the receipt's output.

Everything but the SRS comes from the node and is proven or hashed before use:

- the model's ``zkmodel`` entry and the stored circuit settings and verifying key
  (``zkblob``) are registry words proven with ``eth_getProof`` against the parent
  block's state root (the state transition reads the same), and each document must hash
  to the registered sha256;
- the call's ABI input is the transaction receipt's ``inferences[].input`` (a node's
  word) and must hash (keccak256) to the receipt's signed, committed ``inputHash``;
- the SRS is the caller's copy of the chain's file (``[[inference.zk_srs]]``), which must
  hash to the sha256 the circuit settings name.

Then ``neurostack.zk.verify`` runs with the registered settings hash, exactly as the
state transition does (``sequencer.chain.inference.zk``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from neurostack.protocol.hashing import keccak
from neurostack.protocol.registry import MAX_ZK_BLOB_BYTES, zk_blob, zk_blob_slot, zk_model_of
from neurostack.zk import ProofRejected, ZkError, parse_settings, verify
from neurostack.zk.errors import InvalidCircuitSettings

from ._checks import MALFORMED, CheckName, Recorder, hex_of
from ._consensus import hex_bytes
from ._registryproof import ProvenRegistry
from ._rpcwire import VerifiedInference


class ZkSrsMissing(ValueError):
    """A ZK call needs the chain's SRS file to be verified, and none was given."""


def zk_inputs(receipt: Mapping[str, Any]) -> dict[bytes, bytes]:
    """Request id -> ABI input of the transaction's ZK calls (the node's ``inferences``)."""
    out: dict[bytes, bytes] = {}
    for call in receipt.get("inferences") or []:
        try:
            if call.get("input") is not None:
                out[hex_bytes(call["requestId"], 32)] = hex_bytes(call["input"])
        except MALFORMED:
            continue
    return out


def check_zk(
    inference: VerifiedInference,
    input_abi: bytes | None,
    registry: ProvenRegistry,
    srs: bytes | None,
    record: Recorder,
) -> str:
    """Verify one ZK inference (module docstring); what was proven, for people."""
    rid, cid = hex_of(inference.request_id), inference.model_cid
    fail = record.fail
    if input_abi is None:
        fail(CheckName.ZK, f"the node gives no input of ZK request {rid} (inferences[].input)")
    if keccak(input_abi) != bytes(inference.receipt.input_hash):
        fail(
            CheckName.ZK,
            f"the node's input of request {rid} does not hash to the receipt's inputHash",
        )
    entry = zk_model_of(registry.view, cid)
    if entry is None:
        fail(CheckName.ZK, f"model {cid} has no registered ZK circuit in the parent's registry")
    documents = []
    for what, digest in (
        ("circuit settings", entry.settings_hash),
        ("verifying key", entry.verifying_key_hash),
    ):
        base = zk_blob_slot(digest)
        length = registry.read(base)
        if length <= MAX_ZK_BLOB_BYTES:  # every word of the document in one eth_getProof
            registry.prefetch([base + 1 + i for i in range((length + 31) // 32)])
        data = zk_blob(registry.view, digest)
        if data is None or hashlib.sha256(data).digest() != bytes(digest):
            fail(
                CheckName.ZK,
                f"the registry's {what} of model {cid} do not hash to {hex_of(digest)}",
            )
        documents.append(data)
    settings, verifying_key = documents
    if srs is None:
        raise ZkSrsMissing(
            f"request {rid} is a ZK inference; verifying its proof needs the chain's SRS "
            "file ([[inference.zk_srs]] in its chain.toml): pass --zk-srs FILE (zk_srs=...)"
        )
    try:
        wanted = parse_settings(settings).srs_sha256
    except InvalidCircuitSettings as exc:
        fail(CheckName.ZK, f"the registry's circuit settings of model {cid}: {exc}")
    if hashlib.sha256(srs).digest() != wanted:
        fail(
            CheckName.ZK,
            f"the SRS file given has sha256 {hex_of(hashlib.sha256(srs).digest())}; the "
            f"circuit of model {cid} was made with {hex_of(wanted)}",
        )
    try:
        verify(
            bytes(inference.receipt.proof), verifying_key, settings, input_abi,
            bytes(inference.receipt.output), srs=srs, settings_hash=entry.settings_hash,
        )  # fmt: skip
    except ProofRejected as exc:
        fail(CheckName.ZK, f"the ZK proof of request {rid} is rejected: {exc.reason}")
    except ZkError as exc:
        raise ZkSrsMissing(f"ZK proofs cannot be verified here: {exc}") from None
    return (
        f"request {rid}: {len(inference.receipt.proof)}-byte proof verified under model {cid}'s "
        f"registered circuit (settings {hex_of(entry.settings_hash)[:18]}…) for the call's input "
        "and the receipt's output"
    )
