"""Where a follower gets blocks: the :class:`BlockSource` interface and its JSON-RPC source.

A source hands out, for block numbers in order, the block's consensus bytes (RLP, as geth's
``debug_getRawBlock`` serves them) and its inference witness (the JSON object of
``neuro_getInferenceWitness``). It is trusted for nothing: the follower decodes both and
runs the state-transition function on them. Today's source is a sequencer's public
JSON-RPC (:class:`RpcBlockSource`); the next one derives the same pairs from batches an
L1 holds, behind the same three methods.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit, urlunsplit

import httpx


class SourceError(Exception):
    """The source could not answer (unreachable, an error, a malformed reply): a follower
    retries later; nothing about the chain is concluded from it."""


@dataclass(frozen=True)
class SourcedBlock:
    """One block as a source gives it, not yet decoded or checked."""

    number: int
    raw: bytes
    """The block's RLP (header, transactions, uncles, withdrawals), ``debug_getRawBlock``."""
    witness: Any
    """``neuro_getInferenceWitness``'s JSON object (``receipts``, ``inferenceRoot``, ...)."""


class BlockSource(Protocol):
    """What a follower reads blocks from."""

    description: str
    """Where blocks come from, for logs and ``neuro_syncStatus`` (no credentials)."""

    def head(self) -> int:
        """The source's latest block number."""
        ...

    def chain_id(self) -> int | None:
        """The chain id the source serves, when it says (checked against chain.toml's)."""
        ...

    def fetch(self, first: int, count: int) -> Sequence[SourcedBlock]:
        """Blocks ``first``, ``first + 1``, ... in order; fewer than ``count`` (possibly
        none) when the source has fewer."""
        ...

    def close(self) -> None: ...


def redact(url: str) -> str:
    """``url`` without user name and password (they stay out of logs and answers)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = host + (f":{parts.port}" if parts.port is not None else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))


class RpcBlockSource:
    """A sequencer's JSON-RPC: ``eth_blockNumber``, then one batch per ``fetch`` of
    ``debug_getRawBlock`` and ``neuro_getInferenceWitness`` for each block."""

    def __init__(self, url: str, *, timeout: float = 30.0) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"{url!r} is not an http(s) URL of a node's JSON-RPC")
        self.url = url
        self.description = redact(url)
        self._client = httpx.Client(timeout=timeout)

    def _post(self, payload: Any) -> Any:
        try:
            response = self._client.post(self.url, json=payload)
            response.raise_for_status()
            return response.json()
        except httpx.HTTPError as exc:
            raise SourceError(f"{self.description}: {exc or type(exc).__name__}") from None
        except ValueError:
            raise SourceError(f"{self.description}: the answer is not JSON") from None

    def _quantity(self, method: str) -> int:
        reply = self._post({"jsonrpc": "2.0", "id": 1, "method": method, "params": []})
        result = reply.get("result") if isinstance(reply, dict) else None
        try:
            return int(result, 16)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise SourceError(f"{self.description}: {method} answered {reply!r:.200}") from None

    def head(self) -> int:
        return self._quantity("eth_blockNumber")

    def chain_id(self) -> int | None:
        return self._quantity("eth_chainId")

    def fetch(self, first: int, count: int) -> list[SourcedBlock]:
        batch = []
        for i in range(count):
            number = hex(first + i)
            batch.append({"jsonrpc": "2.0", "id": 2 * i, "method": "debug_getRawBlock",
                          "params": [number]})  # fmt: skip
            batch.append({"jsonrpc": "2.0", "id": 2 * i + 1,
                          "method": "neuro_getInferenceWitness", "params": [number]})  # fmt: skip
        reply = self._post(batch)
        if not isinstance(reply, list):
            raise SourceError(f"{self.description}: a batch answered {reply!r:.200}")
        by_id = {r.get("id"): r for r in reply if isinstance(r, dict)}
        out: list[SourcedBlock] = []
        for i in range(count):
            block, witness = by_id.get(2 * i), by_id.get(2 * i + 1)
            if block is None or witness is None:
                raise SourceError(f"{self.description}: the batch reply lacks block {first + i}")
            if "error" in block or witness.get("result") is None:
                break  # not produced yet ("header not found"): the source has no more
            raw: Any = block.get("result")
            try:
                decoded = bytes.fromhex(raw.removeprefix("0x"))
            except (AttributeError, TypeError, ValueError):
                raise SourceError(
                    f"{self.description}: debug_getRawBlock({first + i}) is not hex"
                ) from None
            out.append(SourcedBlock(first + i, decoded, witness["result"]))
        return out

    def close(self) -> None:
        self._client.close()
