"""The dApp toolkit of ``RollupClient``: send transactions, deploy contracts, call them.

What every script, test and CLI command that drives contracts on a Neuro Stack chain
needs, without web3.py or py-evm: ``eth-account`` signs, ``eth-abi`` encodes, the node's
JSON-RPC does the rest::

    from eth_account import Account
    from hub_client import RollupClient

    with RollupClient("http://127.0.0.1:8545") as rollup:
        consumer = rollup.deploy(account, "contracts/artifacts/ModelConsumer.json", "x", 0)
        receipt = consumer.transact(account, "predict", cid, [500, -1250], 3)
        print(consumer.call("lastValue"), receipt.inferences[0].sprinter)

``send_transaction`` builds an EIP-1559 transaction (nonce from the pending pool, gas from
``eth_estimateGas`` plus a margin — the node runs the model for real while estimating —,
``maxFeePerGas`` twice the base fee plus the tip), signs it locally and sends it.
``wait_for_receipt`` follows PIPE's ``neuro_getInferenceStatus`` next to the receipt, so a
transaction the sequencer dropped (no sprinter, deadline passed, ...) raises
``InferenceDropped`` with the node's reason at once instead of timing out. A revert raises
``ContractReverted`` with the reason decoded: ``Error(string)``, a panic, or one of the
contract's custom errors by name.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from eth_utils import to_checksum_address

from . import _abi
from ._abi import Abi
from .errors import ContractReverted, InferenceDropped, RpcError

DEFAULT_TX_TIMEOUT = 60.0  # seconds: a model call waits for a sprinter before inclusion
GAS_MARGIN = 1.2  # over eth_estimateGas: calls deep in a contract lose 1/64 of gas per frame
RECEIPT_POLL_INTERVAL = 0.1  # seconds between polls while waiting for a receipt

__all__ = ["Contract", "Event", "InferenceCall", "TransactionReceipt"]


class Signer(Protocol):
    """What signs transactions: an ``eth_account`` ``LocalAccount`` (or anything alike)."""

    @property
    def address(self) -> str: ...

    def sign_transaction(self, transaction_dict: dict[str, Any]) -> Any: ...


Account_ = Signer | str | bytes  # an account, or its private key


def _signer(account: Account_) -> Signer:
    if isinstance(account, (str, bytes)):
        # here, not at the top: eth_account's import costs ~0.5 s of CPU (py_ecc's tables),
        # which every user of hub_client (the explorer, the hub's tools) would pay
        from eth_account import Account

        return Account.from_key(account)  # type: ignore[no-any-return]
    return account


def _int(value: Any) -> int:
    return int(value, 16) if isinstance(value, str) else int(value)


def _hex(data: bytes) -> str:
    return "0x" + bytes(data).hex()


# --- what comes back ----------------------------------------------------------------------


@dataclass(frozen=True)
class Log:
    """One log of a receipt."""

    address: str  # EIP-55
    topics: tuple[bytes, ...]
    data: bytes
    log_index: int


@dataclass(frozen=True)
class InferenceCall:
    """One model call of a transaction (the receipt's additive ``inferences`` field)."""

    request_id: str  # 0x-hex; the key of ``neuro_getInferenceProof``
    model_cid: str
    mode: str  # "VANILLA", "TEE", ...
    sprinter: str  # EIP-55 address of the key that signed the result
    model_gas: int  # the model's price in gas: model_gas * effective_gas_price is its fee


@dataclass(frozen=True)
class TransactionReceipt:
    """``eth_getTransactionReceipt`` with numbers as ints and addresses checksummed."""

    transaction_hash: str
    status: int  # 1 success, 0 reverted
    block_number: int
    block_hash: str
    sender: str
    to: str | None
    contract_address: str | None
    gas_used: int
    effective_gas_price: int
    logs: tuple[Log, ...]
    inferences: tuple[InferenceCall, ...]
    raw: Mapping[str, Any] = field(repr=False, compare=False)

    @property
    def fee(self) -> int:
        """What the sender paid for gas, in wei (``gas_used * effective_gas_price``)."""
        return self.gas_used * self.effective_gas_price


def parse_receipt(raw: Mapping[str, Any]) -> TransactionReceipt:
    def address(value: Any) -> str | None:
        return to_checksum_address(value) if value else None

    return TransactionReceipt(
        transaction_hash=str(raw["transactionHash"]),
        status=_int(raw["status"]),
        block_number=_int(raw["blockNumber"]),
        block_hash=str(raw["blockHash"]),
        sender=to_checksum_address(raw["from"]),
        to=address(raw.get("to")),
        contract_address=address(raw.get("contractAddress")),
        gas_used=_int(raw["gasUsed"]),
        effective_gas_price=_int(raw["effectiveGasPrice"]),
        logs=tuple(
            Log(
                address=to_checksum_address(entry["address"]),
                topics=tuple(bytes.fromhex(t[2:]) for t in entry["topics"]),
                data=bytes.fromhex(entry["data"][2:]),
                log_index=_int(entry["logIndex"]),
            )
            for entry in raw.get("logs", [])
        ),
        inferences=tuple(
            InferenceCall(
                request_id=str(call["requestId"]),
                model_cid=str(call["modelCID"]),
                mode=str(call["mode"]),
                sprinter=to_checksum_address(call["sprinter"]),
                model_gas=_int(call["modelGas"]),
            )
            for call in raw.get("inferences", [])
        ),
        raw=raw,
    )


@dataclass(frozen=True)
class Event:
    """A decoded log: ``event["user"]`` reads an argument."""

    name: str
    args: Mapping[str, Any]
    address: str
    block_number: int | None
    transaction_hash: str | None
    log_index: int

    def __getitem__(self, key: str) -> Any:
        return self.args[key]


# --- artifacts ----------------------------------------------------------------------------


def load_artifact(artifact: Any) -> tuple[list[dict[str, Any]], bytes]:
    """``(abi, creation bytecode)`` of a compiled contract: a JSON file path (``{abi,
    bytecode}``, as ``neurostack.solidity``, Hardhat and Foundry write), such a mapping,
    or an object with ``abi`` and ``bytecode`` attributes (a ``CompiledContract``)."""
    if isinstance(artifact, (str, os.PathLike)):
        path = Path(artifact)
        try:
            artifact = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise ValueError(f"cannot read the artifact {path}: {exc}") from None
    if isinstance(artifact, Mapping):
        abi, bytecode = artifact.get("abi"), artifact.get("bytecode")
    else:
        abi, bytecode = getattr(artifact, "abi", None), getattr(artifact, "bytecode", None)
    if isinstance(bytecode, Mapping):  # Foundry: {"object": "0x…"}
        bytecode = bytecode.get("object")
    if abi is None or bytecode is None:
        raise ValueError("an artifact needs `abi` and `bytecode` (compile the contract first)")
    if isinstance(bytecode, str):
        if "__$" in bytecode:
            raise ValueError("the bytecode has unlinked library placeholders: link it first")
        bytecode = bytes.fromhex(bytecode.removeprefix("0x"))
    return list(abi), bytes(bytecode)


# --- the toolkit --------------------------------------------------------------------------


class DappMixin:
    """Transactions and contracts over a rollup's JSON-RPC; ``RollupClient`` inherits it."""

    # Replaceable in tests (an instance attribute wins over these).
    clock = staticmethod(time.monotonic)
    sleep = staticmethod(time.sleep)

    if TYPE_CHECKING:

        def request(self, method: str, *params: Any) -> Any: ...

        def chain_id(self) -> int: ...

    def balance(self, address: str, block: int | str = "latest") -> int:
        """``eth_getBalance`` in wei."""
        return _int(self.request("eth_getBalance", address, _block(block)))

    def call(
        self, to: str | None, data: bytes = b"", *, sender: str | None = None, value: int = 0,
        block: int | str = "latest", abi: Abi = (),
    ) -> bytes:  # fmt: skip
        """``eth_call``: the return data; ``ContractReverted`` (reason decoded, with the
        custom errors of ``abi``) when the call reverts. ``to=None`` runs ``data`` as
        creation code."""
        request: dict[str, Any] = {"data": _hex(data)}
        if to is not None:
            request["to"] = to
        if sender is not None:
            request["from"] = sender
        if value:
            request["value"] = hex(value)
        try:
            result = self.request("eth_call", request, _block(block))
        except RpcError as exc:
            raise _reverted(exc, abi) from None
        return bytes.fromhex(str(result)[2:])

    def send_transaction(
        self, account: Account_, to: str | None = None, data: bytes = b"", *, value: int = 0,
        gas: int | None = None, nonce: int | None = None, max_fee_per_gas: int | None = None,
        max_priority_fee_per_gas: int | None = None, abi: Abi = (),
    ) -> str:  # fmt: skip
        """Build, sign and send an EIP-1559 transaction; return its hash (0x-hex).

        Left out, ``nonce`` comes from the pending pool, ``gas`` from ``eth_estimateGas``
        (times ``GAS_MARGIN``; a revert during the estimate raises ``ContractReverted``),
        the tip from ``eth_maxPriorityFeePerGas`` and ``max_fee_per_gas`` is twice the
        latest base fee plus the tip. ``to=None`` deploys ``data``."""
        signer = _signer(account)
        request: dict[str, Any] = {"from": signer.address, "data": _hex(data), "value": hex(value)}
        if to is not None:
            request["to"] = to_checksum_address(to)
        if nonce is None:
            nonce = _int(self.request("eth_getTransactionCount", signer.address, "pending"))
        if gas is None:
            try:
                estimate = _int(self.request("eth_estimateGas", request))
            except RpcError as exc:
                raise _reverted(exc, abi) from None
            gas = int(estimate * GAS_MARGIN)
        if max_priority_fee_per_gas is None:
            max_priority_fee_per_gas = _int(self.request("eth_maxPriorityFeePerGas"))
        if max_fee_per_gas is None:
            latest = self.request("eth_getBlockByNumber", "latest", False)
            max_fee_per_gas = 2 * _int(latest["baseFeePerGas"]) + max_priority_fee_per_gas
        tx: dict[str, Any] = {
            "type": 2, "chainId": self.chain_id(), "nonce": nonce, "gas": gas, "value": value,
            "data": bytes(data), "maxFeePerGas": max_fee_per_gas,
            "maxPriorityFeePerGas": max_priority_fee_per_gas,
        }  # fmt: skip
        if to is not None:
            tx["to"] = request["to"]
        raw = bytes(signer.sign_transaction(tx).raw_transaction)
        return str(self.request("eth_sendRawTransaction", _hex(raw)))

    def wait_for_receipt(
        self, tx_hash: str, *, timeout: float = DEFAULT_TX_TIMEOUT, check: bool = True,
        abi: Abi = (), on_status: Callable[[str], None] | None = None,
    ) -> TransactionReceipt:  # fmt: skip
        """Wait until ``tx_hash`` is mined and return its receipt.

        Raises ``InferenceDropped`` (``.reason``) as soon as PIPE drops the transaction,
        ``TimeoutError`` (naming its last status) after ``timeout`` seconds, and, with
        ``check``, ``ContractReverted`` for a reverted transaction (``.receipt`` is set;
        the reason comes from replaying the call on the parent block's state).
        ``on_status`` hears each new PIPE status (parked, dispatched, ready, included)."""
        end = self.clock() + timeout
        seen = ""
        while True:
            raw = self.request("eth_getTransactionReceipt", tx_hash)
            if raw is not None:
                break
            status = self.request("neuro_getInferenceStatus", tx_hash)
            if on_status is not None and status is not None and status.get("status") != seen:
                seen = str(status.get("status"))
                on_status(seen)
            if status is not None and status.get("status") == "dropped":
                reason = str(status.get("reason") or "no reason given")
                raise InferenceDropped(
                    f"transaction {tx_hash} was dropped: {reason}", reason=reason
                )
            if self.clock() > end:
                state = status.get("status") if status is not None else "unknown to the node"
                raise TimeoutError(f"transaction {tx_hash} is still {state} after {timeout:g} s")
            self.sleep(RECEIPT_POLL_INTERVAL)
        if on_status is not None and seen != "included":
            on_status("included")
        receipt = parse_receipt(raw)
        if check and receipt.status != 1:
            data = self._replay(receipt)
            reason = _abi.revert_reason(data, abi) if data is not None else "reverted"
            raise ContractReverted(
                f"transaction {tx_hash} reverted in block {receipt.block_number}: {reason}",
                reason=reason, data=data or b"", receipt=receipt,
            )  # fmt: skip
        return receipt

    def transact(
        self, account: Account_, to: str | None, data: bytes = b"", *, value: int = 0,
        gas: int | None = None, nonce: int | None = None, timeout: float = DEFAULT_TX_TIMEOUT,
        check: bool = True, abi: Abi = (),
    ) -> TransactionReceipt:  # fmt: skip
        """``send_transaction`` then ``wait_for_receipt``."""
        tx_hash = self.send_transaction(
            account, to, data, value=value, gas=gas, nonce=nonce, abi=abi
        )
        return self.wait_for_receipt(tx_hash, timeout=timeout, check=check, abi=abi)

    def deploy(
        self, account: Account_, artifact: Any, *args: Any, value: int = 0,
        gas: int | None = None, timeout: float = DEFAULT_TX_TIMEOUT,
    ) -> Contract:  # fmt: skip
        """Deploy a compiled contract (see :func:`load_artifact`) with constructor ``args``;
        return it bound to its address (``.receipt`` is the deployment's receipt)."""
        abi, bytecode = load_artifact(artifact)
        if not bytecode:
            raise ValueError("the artifact has no bytecode: an interface or abstract contract")
        code = bytecode + _abi.encode_args(
            _abi.constructor(abi).get("inputs", ()), args, "the constructor"
        )
        receipt = self.transact(account, None, code, value=value, gas=gas, timeout=timeout, abi=abi)
        assert receipt.contract_address is not None  # a successful creation has one
        return Contract(self, receipt.contract_address, abi, receipt=receipt)

    def contract(self, address: str, artifact: Any) -> Contract:
        """The contract at ``address`` with the ABI of ``artifact`` (an artifact, or an ABI
        list)."""
        abi = artifact if isinstance(artifact, list) else load_artifact(artifact)[0]
        return Contract(self, address, abi)

    def _replay(self, receipt: TransactionReceipt) -> bytes | None:
        """The revert data of a mined, reverted transaction, from running it again on the
        state before its block (``None`` if it does not revert there)."""
        tx = self.request("eth_getTransactionByHash", receipt.transaction_hash)
        if tx is None:
            return None
        try:
            self.call(
                tx.get("to"), bytes.fromhex(tx["input"][2:]), sender=tx["from"],
                value=_int(tx["value"]), block=receipt.block_number - 1,
            )  # fmt: skip
        except ContractReverted as exc:
            return exc.data
        except RpcError:  # the replay itself failed: the reason stays unknown
            return None
        return None


class Contract:
    """A deployed contract bound to a client: call and transact by function name."""

    def __init__(
        self, client: DappMixin, address: str, abi: Abi,
        receipt: TransactionReceipt | None = None,
    ) -> None:  # fmt: skip
        self.client = client
        self.address = to_checksum_address(address)
        self.abi = list(abi)
        self.receipt = receipt  # of the deployment, when this client deployed it

    def __repr__(self) -> str:
        return f"Contract({self.address})"

    def encode(self, function: str, *args: Any) -> bytes:
        """The calldata of ``function(*args)``; ``function`` is a name or a signature."""
        return _abi.encode_call(_abi.find(self.abi, "function", function, len(args)), args)

    def call(
        self, function: str, *args: Any, sender: str | None = None, value: int = 0,
        block: int | str = "latest",
    ) -> Any:  # fmt: skip
        """``eth_call`` of ``function(*args)``, its outputs decoded (one value, a tuple of
        several, None for none)."""
        item = _abi.find(self.abi, "function", function, len(args))
        data = self.client.call(
            self.address, _abi.encode_call(item, args), sender=sender, value=value,
            block=block, abi=self.abi,
        )  # fmt: skip
        return _abi.decode_result(item, data)

    def send(
        self, account: Account_, function: str, *args: Any, value: int = 0,
        gas: int | None = None, nonce: int | None = None,
    ) -> str:  # fmt: skip
        """Send ``function(*args)`` as a transaction without waiting; its hash."""
        return self.client.send_transaction(
            account, self.address, self.encode(function, *args), value=value, gas=gas,
            nonce=nonce, abi=self.abi,
        )  # fmt: skip

    def transact(
        self, account: Account_, function: str, *args: Any, value: int = 0,
        gas: int | None = None, timeout: float = DEFAULT_TX_TIMEOUT, check: bool = True,
    ) -> TransactionReceipt:  # fmt: skip
        """Send ``function(*args)`` and wait for its receipt (see ``wait_for_receipt``)."""
        tx_hash = self.send(account, function, *args, value=value, gas=gas)
        return self.client.wait_for_receipt(tx_hash, timeout=timeout, check=check, abi=self.abi)

    def events(self, name: str, receipt: TransactionReceipt) -> list[Event]:
        """The ``name`` events this contract emitted in ``receipt``, decoded."""
        item = _abi.find(self.abi, "event", name)
        topic = _abi.event_topic(item)
        return [
            Event(
                name=item["name"],
                args=_abi.decode_event(item, log.topics, log.data),
                address=log.address,
                block_number=receipt.block_number,
                transaction_hash=receipt.transaction_hash,
                log_index=log.log_index,
            )
            for log in receipt.logs
            if log.address == self.address and log.topics and log.topics[0] == topic
        ]

    def logs(
        self, name: str, *, from_block: int | str = 0, to_block: int | str = "latest",
        **indexed: Any,
    ) -> list[Event]:  # fmt: skip
        """``eth_getLogs`` of event ``name`` from this contract; keyword arguments filter
        on indexed arguments (``pulse.logs("Alert", user=address)``)."""
        item = _abi.find(self.abi, "event", name)
        topics: list[str | None] = [_hex(_abi.event_topic(item))]
        for param in (i for i in item.get("inputs", ()) if i.get("indexed")):
            value = indexed.pop(param["name"], None)
            topics.append(None if value is None else _abi.topic_of(param, value))
        if indexed:
            raise ValueError(f"{name} has no indexed argument {', '.join(sorted(indexed))}")
        while topics and topics[-1] is None:
            topics.pop()
        raw = self.client.request("eth_getLogs", {
            "address": self.address, "fromBlock": _block(from_block),
            "toBlock": _block(to_block), "topics": topics,
        })  # fmt: skip
        return [
            Event(
                name=item["name"],
                args=_abi.decode_event(
                    item,
                    [bytes.fromhex(t[2:]) for t in entry["topics"]],
                    bytes.fromhex(entry["data"][2:]),
                ),
                address=to_checksum_address(entry["address"]),
                block_number=_int(entry["blockNumber"]),
                transaction_hash=entry.get("transactionHash"),
                log_index=_int(entry["logIndex"]),
            )
            for entry in raw
        ]


def _block(block: int | str) -> str:
    return hex(block) if isinstance(block, int) else block


def _reverted(exc: RpcError, abi: Abi) -> RpcError | ContractReverted:
    """A node's "execution reverted" (code 3, revert data in ``data``) as ContractReverted;
    any other error unchanged."""
    if exc.code != 3 and "execution reverted" not in exc.detail:
        return exc
    data = b""
    if isinstance(exc.data, str) and exc.data.startswith("0x"):
        data = bytes.fromhex(exc.data[2:])
    reason = _abi.revert_reason(data, abi) if data else exc.detail.split("reverted", 1)[-1]
    reason = reason.removeprefix(":").strip() or "no reason given"
    return ContractReverted(f"execution reverted: {reason}", reason=reason, data=data)
