"""Domain types used at every module boundary of the protocol.

They are ``NewType`` aliases, so they cost nothing at run time; they document what a
``bytes`` or ``str`` means (CONVENTIONS.md rule 2). Lengths are checked by the code that
constructs them from untrusted data (decoders, JSON readers), not by the aliases.
"""

from __future__ import annotations

from typing import NewType

Address = NewType("Address", bytes)
"""A 20-byte Ethereum address (raw bytes, not hex)."""

Hash32 = NewType("Hash32", bytes)
"""A 32-byte hash (keccak256 or sha256 digest)."""

ModelCID = NewType("ModelCID", str)
"""A model content id: CIDv1, raw codec, sha2-256, base32 multibase (``b...``)."""

RequestId = NewType("RequestId", bytes)
"""A 32-byte inference request id (see :func:`neurostack.protocol.request.request_id`)."""

ZERO_HASH32 = Hash32(b"\x00" * 32)
ZERO_ADDRESS = Address(b"\x00" * 20)
