"""Model content ids: CIDv1 with the raw codec (0x55), sha2-256, base32 multibase.

The same file bytes always give the same id, on every machine, so the hub's store, the
chain's model registry and the SDK agree on a model's name without coordination.
Encoding is done by the maintained ``multiformats`` package.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache

from multiformats import CID, multihash

from .errors import InvalidCID
from .types import Hash32, ModelCID

RAW_CODEC = "raw"
HASH_FUNCTION = "sha2-256"


def model_hash(data: bytes) -> Hash32:
    """The sha256 digest of a model file: the ``modelHash`` of receipts."""
    return Hash32(hashlib.sha256(data).digest())


def model_cid(data: bytes) -> ModelCID:
    """The content id of a model file (``bafkrei...``)."""
    digest = multihash.wrap(hashlib.sha256(data).digest(), HASH_FUNCTION)
    return ModelCID(str(CID("base32", 1, RAW_CODEC, digest)))


# multiformats validates types at run time (about 2 ms a decode); a chain sees few distinct
# models, so caching keeps receipt checks fast.
def _decode(s: object) -> Hash32:
    if not isinstance(s, str) or not s:
        raise InvalidCID(f"model CID must be a non-empty string, got {s!r:.80}")
    return _digest_of(s)


@lru_cache(maxsize=4096)
def _digest_of(s: str) -> Hash32:
    """Validate ``s`` and return the sha256 digest it carries."""
    try:
        cid = CID.decode(s)
    except (ValueError, LookupError, TypeError) as exc:  # bases errors are ValueErrors
        raise InvalidCID(
            f"{s!r} is not a content id ({exc}); use the CIDv1 the hub returned on upload"
        ) from None
    if cid.version != 1 or cid.codec.name != RAW_CODEC or cid.hashfun.name != HASH_FUNCTION:
        raise InvalidCID(
            f"{s!r} is a CIDv{cid.version} {cid.codec.name}/{cid.hashfun.name}; "
            "model ids are CIDv1 raw sha2-256"
        )
    if cid.base.name != "base32" or str(cid) != s:
        raise InvalidCID(f"{s!r} is not in canonical base32 form; use {cid.set(base='base32')}")
    digest = bytes(cid.raw_digest)
    if len(digest) != 32:
        raise InvalidCID(f"{s!r} has a {len(digest)}-byte digest; sha2-256 has 32")
    return Hash32(digest)


def parse_model_cid(s: str) -> ModelCID:
    """Validate a model CID string and return it; raise :class:`InvalidCID` otherwise."""
    _decode(s)
    return ModelCID(s)


def cid_digest(cid: str) -> Hash32:
    """The sha256 digest inside a model CID (equal to :func:`model_hash` of the file)."""
    return _decode(cid)
