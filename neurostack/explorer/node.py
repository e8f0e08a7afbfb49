"""What the explorer reads from a node: its public JSON-RPC, nothing else.

:class:`NodeReader` wraps ``hub_client.RollupClient`` (single calls, the SDK's error
tree) and adds JSON-RPC batches over the same kind of ``httpx`` client, which the
indexer needs to keep up with a busy chain (one round trip for many blocks). It never
sends a method that changes the chain: :data:`READ_METHODS` is checked on every call,
so the explorer cannot write to the chain even by a bug.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import httpx

from hub_client import RollupClient, RollupUnavailable, RpcError

from .errors import NodeUnavailable

READ_METHODS = frozenset(
    {
        "eth_blockNumber", "eth_chainId", "eth_getBlockByNumber", "eth_getBlockByHash",
        "eth_getBlockReceipts", "eth_getTransactionByHash", "eth_getTransactionReceipt",
        "eth_getBalance", "eth_getTransactionCount", "eth_getCode", "eth_getStorageAt",
        "eth_newPendingTransactionFilter", "eth_getFilterChanges", "eth_uninstallFilter",
        "eth_call", "eth_getProof", "neuro_chainInfo", "neuro_getInferenceWitness",
        "neuro_getInferenceProof", "neuro_getInferenceStatus",
    }
)  # fmt: skip
"""The only methods the explorer sends (``eth_call`` runs on a copy of the state)."""

METHOD_NOT_FOUND = -32601
RECEIPTS_PER_REQUEST = 2_000  # transactions whose receipts one request asks for


def ws_url_of(rpc_url: str) -> str:
    """The WebSocket URL of a node serving HTTP and WS on one port (as Neuro Stack does)."""
    if rpc_url.startswith("https://"):
        return "wss://" + rpc_url.removeprefix("https://")
    return "ws://" + rpc_url.removeprefix("http://")


def quantity(value: Any) -> int:
    """A JSON-RPC hex quantity (or a JSON number) as an int."""
    if isinstance(value, int):
        return value
    return int(str(value), 16)


class NodeReader:
    """Read-only JSON-RPC access to one node, shared by the pages and the indexer."""

    def __init__(
        self,
        rpc_url: str,
        *,
        timeout: float = 10.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.rpc_url = rpc_url
        self.rollup = RollupClient(rpc_url, timeout=timeout, transport=transport)
        self._http = httpx.Client(timeout=timeout, transport=transport)
        self._ids = itertools.count(1)

    def close(self) -> None:
        self.rollup.close()
        self._http.close()

    # -- transport -------------------------------------------------------------------------

    def call(self, method: str, *params: Any) -> Any:
        """One call; ``NodeUnavailable`` when the node cannot be reached."""
        _check_read(method)
        try:
            return self.rollup.request(method, *params)
        except RollupUnavailable as exc:
            raise NodeUnavailable(str(exc)) from None

    def optional(self, method: str, *params: Any) -> Any:
        """A call of a method the node may not serve (another client): ``None`` then."""
        try:
            return self.call(method, *params)
        except RpcError as exc:
            if exc.code == METHOD_NOT_FOUND:
                return None
            raise

    def batch(self, calls: Sequence[tuple[str, Sequence[Any]]]) -> list[Any]:
        """Several calls in one JSON-RPC batch; results in order, or the first error."""
        if not calls:
            return []
        body = []
        for method, params in calls:
            _check_read(method)
            body.append(
                {"jsonrpc": "2.0", "id": next(self._ids), "method": method, "params": list(params)}
            )
        try:
            reply = self._http.post(self.rpc_url, json=body).json()
        except httpx.TransportError as exc:
            raise NodeUnavailable(f"cannot reach the node at {self.rpc_url}: {exc}") from None
        except ValueError:
            raise NodeUnavailable(f"{self.rpc_url} answered without JSON") from None
        if not isinstance(reply, list):
            raise NodeUnavailable(f"{self.rpc_url} answered a batch with {type(reply).__name__}")
        by_id = {item.get("id"): item for item in reply if isinstance(item, dict)}
        out = []
        for request in body:
            item = by_id.get(request["id"])
            if item is None:
                raise NodeUnavailable(f"{request['method']}: no answer in the batch reply")
            error = item.get("error")
            if error is not None:
                raise RpcError(
                    f"{request['method']}: {error.get('message', error)}",
                    code=int(error.get("code", 0)),
                    data=error.get("data"),
                )
            out.append(item.get("result"))
        return out

    # -- typed reads -----------------------------------------------------------------------

    def head_number(self) -> int:
        return quantity(self.call("eth_blockNumber"))

    def block(self, ref: int | str, *, full: bool = False) -> dict[str, Any] | None:
        """A block by number, 0x hash or tag (``latest``); ``None`` if the node has none."""
        if isinstance(ref, int):
            return self.call("eth_getBlockByNumber", hex(ref), full)  # type: ignore[no-any-return]
        if ref.startswith("0x") and len(ref) == 66:
            return self.call("eth_getBlockByHash", ref, full)  # type: ignore[no-any-return]
        return self.call("eth_getBlockByNumber", ref, full)  # type: ignore[no-any-return]

    def blocks_with_receipts(
        self, numbers: Sequence[int]
    ) -> list[tuple[dict[str, Any], list[dict[str, Any]]]]:
        """Full blocks and their receipts; stops at the first missing block.

        Blocks come in one batch; receipts in batches of at most
        :data:`RECEIPTS_PER_REQUEST` transactions (a node may take a while to serve the
        receipts of a full block, and one request should not take minutes)."""
        blocks = self.batch([("eth_getBlockByNumber", [hex(n), True]) for n in numbers])
        present = []
        for block in blocks:
            if block is None:
                break
            present.append(block)
        out: list[tuple[dict[str, Any], list[dict[str, Any]]]] = []
        group: list[dict[str, Any]] = []
        for i, block in enumerate(present):
            group.append(block)
            size = sum(len(b["transactions"]) for b in group)
            last = i == len(present) - 1
            if last or size + len(present[i + 1]["transactions"]) > RECEIPTS_PER_REQUEST:
                receipts = self.batch([("eth_getBlockReceipts", [b["number"]]) for b in group])
                for b, r in zip(group, receipts, strict=True):
                    if r is None:
                        return out
                    out.append((b, r))
                group = []
        return out

    def block_hashes(self, numbers: Sequence[int]) -> list[str | None]:
        """The hashes of blocks ``numbers`` (``None`` past the head), one batch."""
        blocks = self.batch([("eth_getBlockByNumber", [hex(n), False]) for n in numbers])
        return [b["hash"] if b else None for b in blocks]

    def transaction(self, tx_hash: str) -> dict[str, Any] | None:
        return self.call("eth_getTransactionByHash", tx_hash)  # type: ignore[no-any-return]

    def receipt(self, tx_hash: str) -> dict[str, Any] | None:
        return self.call("eth_getTransactionReceipt", tx_hash)  # type: ignore[no-any-return]

    def account(self, address: str) -> tuple[int, int, bytes]:
        """(balance, nonce, code) at the head, one batch."""
        balance, nonce, code = self.batch(
            [
                ("eth_getBalance", [address, "latest"]),
                ("eth_getTransactionCount", [address, "latest"]),
                ("eth_getCode", [address, "latest"]),
            ]
        )
        return quantity(balance), quantity(nonce), bytes.fromhex(str(code)[2:])

    def storage(self, address: str, slot: int, block: int | str = "latest") -> int:
        tag = hex(block) if isinstance(block, int) else block
        return quantity(self.call("eth_getStorageAt", address, hex(slot), tag))

    def inference_status(self, tx_hash: str) -> dict[str, Any] | None:
        """``neuro_getInferenceStatus`` (``None`` for an unknown tx or a non-Neuro node)."""
        return self.optional("neuro_getInferenceStatus", tx_hash)  # type: ignore[no-any-return]

    def inference_witness(self, number: int) -> dict[str, Any] | None:
        return self.optional("neuro_getInferenceWitness", hex(number))  # type: ignore[no-any-return]


def _check_read(method: str) -> None:
    if method not in READ_METHODS:
        raise ValueError(f"the explorer only reads the chain; {method} is not a read method")
