"""The dApp toolkit of ``RollupClient`` against a scripted node (httpx MockTransport).

Transactions are really signed (``eth-account``) and decoded back here; ABIs are the
committed artifacts solc wrote. The same toolkit runs every example against a real devnet
(``examples/``) and the end-to-end tests (``tests/e2e``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from eth_abi import encode
from eth_account import Account
from eth_account.typed_transactions import TypedTransaction
from eth_utils import keccak, to_checksum_address
from hexbytes import HexBytes

from hub_client import (
    Contract,
    ContractReverted,
    InferenceDropped,
    RollupClient,
    RpcError,
    TransactionReceipt,
)
from neurostack.solidity import load_artifact

URL = "http://node.test"
CHAIN_ID = 4242
GWEI = 10**9
SENDER = Account.from_key(b"\x11" * 32)
TARGET = "0x" + "ab" * 20
TX_HASH = "0x" + "cd" * 32
BLOCK_HASH = "0x" + "ef" * 32


class Node:
    """A scripted JSON-RPC node: ``handlers[method](*params)``; every call is recorded."""

    def __init__(self, **handlers: Callable[..., Any]) -> None:
        self.calls: list[tuple[str, list[Any]]] = []
        self.handlers: dict[str, Callable[..., Any]] = {
            "neuro_chainInfo": lambda: {
                "chainId": CHAIN_ID, "name": "t", "blockTime": 1.0,
                "token": {"name": "T", "symbol": "T", "decimals": 18},
            },
            "eth_getTransactionCount": lambda address, tag: hex(7),
            "eth_estimateGas": lambda request: hex(100_000),
            "eth_maxPriorityFeePerGas": lambda: hex(GWEI),
            "eth_getBlockByNumber": lambda tag, full: {"baseFeePerGas": hex(10 * GWEI)},
            "eth_sendRawTransaction": lambda raw: TX_HASH,
            **handlers,
        }  # fmt: skip

    def client(self) -> RollupClient:
        def handle(request: httpx.Request) -> httpx.Response:
            body = json.loads(request.content)
            method, params = body["method"], body["params"]
            self.calls.append((method, params))
            try:
                result = self.handlers[method](*params)
            except RpcFailure as failure:
                return httpx.Response(200, json={"jsonrpc": "2.0", "id": body["id"],
                                                 "error": failure.error})  # fmt: skip
            return httpx.Response(200, json={"jsonrpc": "2.0", "id": body["id"], "result": result})

        return RollupClient(URL, transport=httpx.MockTransport(handle))

    def methods(self) -> list[str]:
        return [method for method, _ in self.calls]

    def raw_sent(self) -> bytes:
        (raw,) = [params[0] for method, params in self.calls if method == "eth_sendRawTransaction"]
        return bytes.fromhex(raw[2:])


class RpcFailure(Exception):
    def __init__(self, code: int, message: str, data: str | None = None) -> None:
        self.error: dict[str, Any] = {"code": code, "message": message}
        if data is not None:
            self.error["data"] = data


def reverting(data: bytes) -> Callable[..., Any]:
    def fail(*params: Any) -> Any:
        raise RpcFailure(3, "execution reverted", "0x" + data.hex())

    return fail


def error_string(message: str) -> bytes:
    return keccak(text="Error(string)")[:4] + encode(["string"], [message])


def receipt_json(**fields: Any) -> dict[str, Any]:
    return {
        "transactionHash": TX_HASH, "status": "0x1", "blockNumber": hex(12),
        "blockHash": BLOCK_HASH, "from": SENDER.address.lower(), "to": TARGET,
        "contractAddress": None, "gasUsed": hex(90_000), "effectiveGasPrice": hex(2 * GWEI),
        "logs": [], **fields,
    }  # fmt: skip


def decoded(raw: bytes) -> dict[str, Any]:
    return TypedTransaction.from_bytes(HexBytes(raw)).as_dict()  # type: ignore[no-any-return]


# --- sending ------------------------------------------------------------------------------


def test_send_transaction_fills_in_nonce_gas_and_fees_and_signs_locally() -> None:
    node = Node()
    with node.client() as rollup:
        tx_hash = rollup.send_transaction(SENDER, TARGET, b"\x01\x02", value=5)

    assert tx_hash == TX_HASH
    raw = node.raw_sent()
    assert Account.recover_transaction(raw) == SENDER.address
    tx = decoded(raw)
    assert raw[0] == 2  # EIP-1559
    assert (tx["chainId"], tx["nonce"], tx["gas"]) == (CHAIN_ID, 7, 120_000)  # estimate + 20 %
    assert (tx["maxPriorityFeePerGas"], tx["maxFeePerGas"]) == (GWEI, 21 * GWEI)  # 2·base + tip
    assert (tx["to"], bytes(tx["data"]), tx["value"]) == (bytes.fromhex("ab" * 20), b"\x01\x02", 5)
    (estimate,) = [p for m, p in node.calls if m == "eth_estimateGas"]
    assert estimate[0]["from"] == SENDER.address and estimate[0]["value"] == hex(5)


def test_given_gas_nonce_and_fees_are_used_as_they_are() -> None:
    node = Node()
    with node.client() as rollup:
        rollup.send_transaction(
            SENDER.key.hex(), None, b"\x60\x00", gas=50_000, nonce=3, max_fee_per_gas=9 * GWEI,
            max_priority_fee_per_gas=2 * GWEI,
        )  # fmt: skip

    assert node.methods() == ["neuro_chainInfo", "eth_sendRawTransaction"]
    tx = decoded(node.raw_sent())
    assert (tx["nonce"], tx["gas"], tx["maxFeePerGas"], tx["maxPriorityFeePerGas"]) == (
        3, 50_000, 9 * GWEI, 2 * GWEI,
    )  # fmt: skip
    assert not tx.get("to")  # a creation


def test_invalid_a_reverting_estimate_raises_before_anything_is_sent() -> None:
    node = Node(eth_estimateGas=reverting(error_string("Counter: always fails")))
    counter = Contract(node.client(), TARGET, load_artifact("Counter").abi)

    with pytest.raises(ContractReverted) as refused:
        counter.transact(SENDER, "failWithReason")

    assert refused.value.reason == "Counter: always fails"
    assert refused.value.receipt is None
    assert "eth_sendRawTransaction" not in node.methods()


def test_invalid_other_node_errors_pass_through_unchanged() -> None:
    def broke(request: Any) -> Any:
        raise RpcFailure(-32000, "insufficient funds for gas * price + value")

    node = Node(eth_estimateGas=broke)
    with node.client() as rollup, pytest.raises(RpcError, match="insufficient funds") as err:
        rollup.send_transaction(SENDER, TARGET)
    assert not isinstance(err.value, ContractReverted) and err.value.code == -32000


# --- deploying ----------------------------------------------------------------------------


def deployed_node() -> Node:
    created = receipt_json(to=None, contractAddress="0x" + "12" * 20)
    return Node(eth_getTransactionReceipt=lambda h: created)


def test_deploy_appends_the_encoded_constructor_arguments(tmp_path: Path) -> None:
    artifact = load_artifact("SimpleStorage")
    path = tmp_path / "SimpleStorage.json"
    path.write_text(json.dumps(artifact.to_artifact()))
    for given in (artifact, path, str(path), artifact.to_artifact()):
        node = deployed_node()
        with node.client() as rollup:
            storage = rollup.deploy(SENDER, given, 42)

        assert bytes(decoded(node.raw_sent())["data"]) == artifact.bytecode + encode(
            ["uint256"], [42]
        )
        assert storage.address == to_checksum_address("0x" + "12" * 20)
        assert storage.receipt is not None and storage.receipt.contract_address == storage.address


def test_invalid_artifacts_are_refused_with_what_to_do(tmp_path: Path) -> None:
    node = deployed_node()
    rollup = node.client()
    storage = load_artifact("SimpleStorage").to_artifact()
    with pytest.raises(ValueError, match="takes 1 argument"):
        rollup.deploy(SENDER, storage)
    with pytest.raises(ValueError, match="cannot encode"):
        rollup.deploy(SENDER, storage, "forty-two")
    with pytest.raises(ValueError, match="interface or abstract"):
        rollup.deploy(SENDER, load_artifact("INeuroInference"))
    with pytest.raises(ValueError, match="unlinked library"):
        rollup.deploy(SENDER, {**storage, "bytecode": "0x60__$abcdef$__"})
    with pytest.raises(ValueError, match="cannot read the artifact"):
        rollup.deploy(SENDER, tmp_path / "missing.json")
    with pytest.raises(ValueError, match="needs `abi` and `bytecode`"):
        rollup.deploy(SENDER, {"abi": []})
    assert "eth_sendRawTransaction" not in node.methods()


# --- reading ------------------------------------------------------------------------------


def test_call_decodes_outputs_and_checksums_addresses() -> None:
    owner = "0x" + "3c" * 20
    answer = encode(["bytes32", "address", "uint64", "uint16", "bool"],
                    [b"\x01" * 32, owner, 75_000, 500, True])  # fmt: skip
    node = Node(eth_call=lambda request, block: "0x" + answer.hex())
    registry = Contract(node.client(), TARGET, load_artifact("INeuroRegistry").abi)

    assert registry.call("modelOf", "bafkrei-model", block=5) == (
        b"\x01" * 32, to_checksum_address(owner), 75_000, 500, True,
    )  # fmt: skip
    ((request, block),) = [p for m, p in node.calls if m == "eth_call"]
    assert block == hex(5)
    assert request["data"] == "0x" + registry.encode("modelOf", "bafkrei-model").hex()


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (error_string("Counter: always fails"), "Counter: always fails"),
        (keccak(text="Panic(uint256)")[:4] + encode(["uint256"], [0x11]),
         "panic 0x11: arithmetic overflow or underflow"),
        (keccak(text="Underflow(uint256)")[:4] + encode(["uint256"], [0]), "Underflow(0)"),
        (b"\xde\xad\xbe\xef", "revert data 0xdeadbeef"),
        (keccak(text="Error(string)")[:4] + b"\x00" * 5, "revert data 0x08c379a0" + "00" * 5),
    ],
)  # fmt: skip
def test_invalid_reverts_are_decoded_with_the_contracts_errors(data: bytes, reason: str) -> None:
    node = Node(eth_call=reverting(data))
    counter = Contract(node.client(), TARGET, load_artifact("Counter").abi)

    with pytest.raises(ContractReverted) as refused:
        counter.call("decrement")

    assert refused.value.reason == reason
    assert refused.value.data == data


def test_invalid_function_names_say_what_the_abi_has() -> None:
    abi = [
        {"type": "function", "name": "f", "inputs": [{"name": "a", "type": "uint256"}]},
        {"type": "function", "name": "f",
         "inputs": [{"name": "a", "type": "uint256"}, {"name": "b", "type": "uint256"}]},
        {"type": "function", "name": "g", "inputs": [{"name": "a", "type": "uint256"}]},
        {"type": "function", "name": "g", "inputs": [{"name": "a", "type": "address"}]},
    ]  # fmt: skip
    contract = Contract(Node().client(), TARGET, abi)

    assert contract.encode("f", 1, 2)[:4] == keccak(text="f(uint256,uint256)")[:4]
    assert contract.encode("g(address)", TARGET)[:4] == keccak(text="g(address)")[:4]
    with pytest.raises(ValueError, match=r"overloaded \(g\(uint256\), g\(address\)\)"):
        contract.encode("g", 1)
    with pytest.raises(ValueError, match=r"no function 'h'; it has: f\(uint256\)"):
        contract.encode("h")


# --- waiting ------------------------------------------------------------------------------


def test_wait_for_receipt_follows_pipe_and_parses_the_receipt() -> None:
    statuses = iter(["parked", "parked", "ready"])
    answers = iter([None, None, None])
    sprinter = "0x" + "5a" * 20
    mined = receipt_json(
        logs=[{"address": TARGET, "topics": ["0x" + "01" * 32], "data": "0x0102",
               "logIndex": "0x0"}],
        inferences=[{"requestId": "0x" + "77" * 32, "modelCID": "bafkrei-m", "mode": "TEE",
                     "sprinter": sprinter, "modelGas": hex(50_000)}],
    )  # fmt: skip
    node = Node(
        eth_getTransactionReceipt=lambda h: next(answers, mined),
        neuro_getInferenceStatus=lambda h: {"status": next(statuses)},
    )
    rollup = node.client()
    rollup.sleep = lambda seconds: None  # type: ignore[method-assign]
    seen: list[str] = []

    receipt = rollup.wait_for_receipt(TX_HASH, on_status=seen.append)

    assert seen == ["parked", "ready", "included"]
    assert isinstance(receipt, TransactionReceipt)
    assert (receipt.status, receipt.block_number, receipt.gas_used) == (1, 12, 90_000)
    assert receipt.fee == 90_000 * 2 * GWEI
    assert receipt.sender == SENDER.address and receipt.to == to_checksum_address(TARGET)
    (log,) = receipt.logs
    assert (log.topics, log.data) == ((b"\x01" * 32,), b"\x01\x02")
    (call,) = receipt.inferences
    assert (call.mode, call.model_gas, call.sprinter) == ("TEE", 50_000,
                                                          to_checksum_address(sprinter))  # fmt: skip


def test_invalid_a_dropped_transaction_raises_at_once_with_the_reason() -> None:
    reason = "deadline passed: no inference result within 30 s"
    node = Node(
        eth_getTransactionReceipt=lambda h: None,
        neuro_getInferenceStatus=lambda h: {"status": "dropped", "reason": reason},
    )

    with pytest.raises(InferenceDropped) as dropped:
        node.client().wait_for_receipt(TX_HASH, timeout=3600)

    assert dropped.value.reason == reason
    assert node.methods().count("eth_getTransactionReceipt") == 1


def test_invalid_a_transaction_still_parked_times_out_naming_its_status() -> None:
    node = Node(
        eth_getTransactionReceipt=lambda h: None,
        neuro_getInferenceStatus=lambda h: {"status": "parked"},
    )
    rollup = node.client()
    now = [0.0]
    rollup.clock = lambda: now[0]  # type: ignore[method-assign]
    rollup.sleep = lambda seconds: now.__setitem__(0, now[0] + seconds)  # type: ignore[method-assign]

    with pytest.raises(TimeoutError, match="still parked after 5 s"):
        rollup.wait_for_receipt(TX_HASH, timeout=5)
    assert now[0] == pytest.approx(5.1)


def test_invalid_a_mined_revert_raises_with_the_receipt_and_the_replayed_reason() -> None:
    calls: list[Any] = []

    def replay(request: dict[str, Any], block: str) -> Any:
        calls.append((request, block))
        raise RpcFailure(3, "execution reverted", "0x" + error_string("nope").hex())

    node = Node(
        eth_getTransactionReceipt=lambda h: receipt_json(status="0x0"),
        eth_getTransactionByHash=lambda h: {"from": SENDER.address, "to": TARGET,
                                            "input": "0xabcd", "value": "0x0"},
        eth_call=replay,
    )  # fmt: skip
    rollup = node.client()

    with pytest.raises(ContractReverted, match="reverted in block 12: nope") as refused:
        rollup.wait_for_receipt(TX_HASH)
    assert refused.value.receipt is not None and refused.value.receipt.status == 0
    ((request, block),) = calls
    assert block == hex(11) and request["data"] == "0xabcd" and request["from"] == SENDER.address
    assert rollup.wait_for_receipt(TX_HASH, check=False).status == 0


# --- events -------------------------------------------------------------------------------


def test_events_and_logs_are_decoded_and_filtered_by_indexed_arguments() -> None:
    topic = "0x" + keccak(text="ValueChanged(address,uint256,uint256)").hex()
    by = "0x" + "00" * 12 + SENDER.address[2:].lower()
    entry = {"address": TARGET, "topics": [topic, by], "logIndex": "0x1", "blockNumber": "0xc",
             "transactionHash": TX_HASH, "data": "0x" + encode(["uint256", "uint256"], [1, 2]).hex()}  # fmt: skip
    other = {**entry, "address": "0x" + "99" * 20}
    filters: list[Any] = []
    node = Node(
        eth_getTransactionReceipt=lambda h: receipt_json(logs=[entry, other]),
        eth_getLogs=lambda f: filters.append(f) or [entry],
    )
    rollup = node.client()
    storage = rollup.contract(TARGET, load_artifact("SimpleStorage"))

    (event,) = storage.events("ValueChanged", rollup.wait_for_receipt(TX_HASH))
    assert dict(event.args) == {"by": SENDER.address, "oldValue": 1, "newValue": 2}
    assert event["newValue"] == 2 and event.log_index == 1

    (logged,) = storage.logs("ValueChanged", from_block=3, by=SENDER.address)
    assert logged.args == event.args and logged.block_number == 12
    (sent,) = filters
    assert sent["topics"] == [topic, by] and sent["fromBlock"] == hex(3)
    with pytest.raises(ValueError, match="no indexed argument newValue"):
        storage.logs("ValueChanged", newValue=2)


def test_invalid_a_reverted_deployment_is_replayed_as_a_creation() -> None:
    calls: list[Any] = []

    def replay(request: dict[str, Any], block: str) -> Any:
        calls.append(request)
        raise RpcFailure(3, "execution reverted", "0x" + error_string("bad constructor").hex())

    node = Node(
        eth_getTransactionReceipt=lambda h: receipt_json(status="0x0", to=None),
        eth_getTransactionByHash=lambda h: {"from": SENDER.address, "to": None,
                                            "input": "0x6000", "value": "0x0"},
        eth_call=replay,
    )  # fmt: skip

    with pytest.raises(ContractReverted, match="bad constructor"):
        node.client().deploy(SENDER, load_artifact("Counter"), gas=300_000)
    (request,) = calls
    assert "to" not in request and request["data"] == "0x6000"
