"""Mode ZK in the state transition: a receipt's proof checked against the model's circuit.

:func:`zk_proof_problem` is the ZK entry of the fork's receipt-verifier map
(:data:`.verify.RECEIPT_VERIFIERS`). Everything it needs is consensus data:

- the model's ``zkmodel`` registry entry (parent block's state): the settings hash and
  the verifying-key hash, written by ``registerZkModel``;
- the circuit settings and the verifying key themselves, stored in the registry by
  sha256 (``zkblob``) when the model was registered, so a follower needs nothing beyond
  chain state and the block's witness (the receipt carries only the proof);
- the structured reference string the settings name, one of the chain spec's
  ``zk_srs`` files (``[[inference.zk_srs]]``, pinned by sha256 in chain.toml).

The check itself is ``neurostack.zk.verify`` with the registry's settings hash: the
settings must hash to it, the verifying key and SRS to the hashes the settings name, the
proof has the circuit's exact length, and the public inputs are *computed* from the call's
ABI input and the receipt's ABI output under the fixed-point rule of DESIGN.md section 6
(``neurostack.zk.fixedpoint``) before ezkl's native verifier sees the proof. Any key may
sign a ZK receipt (``signer_problem``): the proof, not the signer, is the credential.

Stored documents are cached per process by sha256 (re-hashed once when read from state),
so a block with many ZK receipts reads each circuit once.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict

from neurostack.protocol.types import Hash32
from neurostack.zk import ProofRejected, ProofSystemUnavailable, verify

from .registry import RegistryView, zk_blob, zk_model_of
from .verify import ReceiptCheck

_CACHE_SIZE = 64
_blobs: OrderedDict[bytes, bytes] = OrderedDict()
_lock = threading.Lock()


def stored_document(registry: RegistryView, digest: bytes) -> bytes | None:
    """The registry's ``zkblob`` whose sha256 is ``digest`` (checked), or ``None``."""
    key = bytes(digest)
    with _lock:
        found = _blobs.get(key)
        if found is not None:
            _blobs.move_to_end(key)
            return found
    data = zk_blob(registry, key)
    if data is None or hashlib.sha256(data).digest() != key:
        return None
    with _lock:
        _blobs[key] = data
        while len(_blobs) > _CACHE_SIZE:
            _blobs.popitem(last=False)
    return data


def zk_proof_problem(check: ReceiptCheck) -> str | None:
    """ZK: the receipt's proof verifies for the call's input and the receipt's output
    under the model's registered circuit; ``None`` if it does, else why not."""
    cid = check.request.model_cid
    entry = zk_model_of(check.registry, cid)
    if entry is None:
        return f"model {cid} has no registered ZK circuit (the chain owner must registerZkModel it)"
    settings = stored_document(check.registry, entry.settings_hash)
    verifying_key = stored_document(check.registry, entry.verifying_key_hash)
    if settings is None or verifying_key is None:
        return f"the registry holds no circuit settings or verifying key for model {cid}"
    if not check.receipt.proof:
        return "it is a ZK receipt without a proof"
    srs = _srs_for(check, settings)
    if srs is None:
        return "the circuit's SRS is not one of this chain's [[inference.zk_srs]] files"
    try:
        verify(
            bytes(check.receipt.proof),
            verifying_key,
            settings,
            check.request.input_abi,
            bytes(check.receipt.output),
            srs=srs,
            settings_hash=entry.settings_hash,
        )
    except ProofRejected as exc:
        return f"its ZK proof is rejected: {exc.reason}"
    except ProofSystemUnavailable as exc:
        return f"this node cannot verify ZK proofs: {exc}"
    return None


def _srs_for(check: ReceiptCheck, settings: bytes) -> bytes | None:
    from neurostack.zk import parse_settings
    from neurostack.zk.errors import InvalidCircuitSettings

    try:
        parsed = parse_settings(settings)
    except InvalidCircuitSettings:
        return None
    return check.zk_srs.get(Hash32(parsed.srs_sha256))


__all__ = ["stored_document", "zk_proof_problem"]
