"""What a URL or the search box may name, parsed strictly.

Anything that is not exactly a block number, a 32-byte hash, a 20-byte address or a model
CID is :class:`~neurostack.explorer.errors.NotFound` with a message saying what was
expected; nothing the user typed reaches the node unchecked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from neurostack.protocol.cid import parse_model_cid
from neurostack.protocol.errors import ProtocolError

from .errors import NotFound

MAX_INPUT = 200  # characters; longer input names nothing
MAX_BLOCK_NUMBER = 2**63 - 1  # as JSON-RPC quantities go (geth's uint64 block numbers)
_HASH = re.compile(r"^0[xX][0-9a-fA-F]{64}$")
_ADDRESS = re.compile(r"^0[xX][0-9a-fA-F]{40}$")
_DECIMAL = re.compile(r"^[0-9]{1,19}$")


def _clip(text: str) -> str:
    return text if len(text) <= 60 else text[:57] + "..."


def parse_block_number(text: str) -> int | None:
    if not _DECIMAL.match(text):
        return None
    number = int(text)
    return number if number <= MAX_BLOCK_NUMBER else None


def parse_hash(text: str, what: str = "hash") -> str:
    if len(text) > MAX_INPUT or not _HASH.match(text):
        raise NotFound(f"{_clip(text)!r} is not a {what}: expected 0x and 64 hex digits")
    return text.lower()


def parse_address(text: str) -> str:
    if len(text) > MAX_INPUT or not _ADDRESS.match(text):
        raise NotFound(f"{_clip(text)!r} is not an address: expected 0x and 40 hex digits")
    return text.lower()


def parse_block_ref(text: str) -> int | str:
    """A block number (decimal) or block hash."""
    number = parse_block_number(text)
    if number is not None:
        return number
    if len(text) <= MAX_INPUT and _HASH.match(text):
        return text.lower()
    raise NotFound(
        f"{_clip(text)!r} is not a block number (0 to {MAX_BLOCK_NUMBER}) or a block hash"
    )


def parse_cid(text: str) -> str:
    if len(text) > MAX_INPUT:
        raise NotFound("that is too long to be a model CID")
    try:
        return str(parse_model_cid(text))
    except (ProtocolError, ValueError) as exc:
        raise NotFound(f"{_clip(text)!r} is not a model CID ({exc})") from None


def parse_page(text: str | None) -> int:
    if text is None or text == "":
        return 1
    if not re.fullmatch(r"[1-9][0-9]{0,5}", text):
        raise NotFound(f"page {_clip(text)!r} does not exist: pages are numbered from 1")
    return int(text)


@dataclass(frozen=True)
class Query:
    """What a search text looks like (search.py decides what it names)."""

    kind: str  # "number", "hash", "address", "cid"
    value: str | int


def classify(text: str) -> Query:
    """Which kind of thing ``text`` could name; ``NotFound`` when none."""
    text = text.strip()
    if not text:
        raise NotFound("type a block number or hash, a transaction hash, an address, a model "
                       "CID or a request id")  # fmt: skip
    if len(text) > MAX_INPUT:
        raise NotFound(f"nothing on this chain is named by {len(text)} characters of text")
    number = parse_block_number(text)
    if number is not None:
        return Query("number", number)
    if _HASH.match(text):
        return Query("hash", text.lower())
    if _ADDRESS.match(text):
        return Query("address", text.lower())
    try:
        return Query("cid", parse_cid(text))
    except NotFound:
        pass
    raise NotFound(
        f"{_clip(text)!r} is not a block number or hash, a transaction hash, an address, a "
        "model CID or a request id"
    )
