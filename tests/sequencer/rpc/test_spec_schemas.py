"""Every method of the execution-apis specification against a live node (real uvicorn, real
py-evm): each method the node serves is called with realistic parameters and its result is
validated against the spec's result schema; each spec method it does not serve answers its
documented error. The classification is checked against the node's own method table, so a
method added to the node (``eth_getProof`` from its own module, say) is covered at once.

The chain: a deployed contract with events, a block holding a legacy, an access-list and a
dynamic-fee transaction (the last one emitting a log), polled filters installed before them,
and a pending and a queued transaction left in the pool.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from eth_abi import encode
from eth_utils import keccak

from .conftest import Rpc, deploy_counter, sign
from .spec_schemas import methods, schema_errors

pytestmark = pytest.mark.slow

KEYLESS = {"eth_sign", "eth_signTransaction", "eth_sendTransaction"}
LATER_FORKS = {"eth_getBlockAccessList", "debug_getRawBlockAccessList"}  # EIP-7928, Amsterdam
NOT_EXPOSED_PREFIXES = ("engine_", "testing_")  # consensus-client interfaces (docs/rpc.md)
EXTENSIONS = {  # served, not in the spec: geth's or the project's own
    "web3_clientVersion", "web3_sha3", "net_listening", "net_peerCount", "eth_baseFee",
    "eth_subscribe", "eth_unsubscribe", "eth_getUncleCountByBlockHash",
    "eth_getUncleCountByBlockNumber", "neuro_chainInfo", "neuro_getInferenceStatus",
    "neuro_getInferenceWitness", "neuro_getInferenceProof", "neuro_syncStatus",
    "evm_mine", "evm_snapshot", "evm_revert", "evm_increaseTime",
}  # fmt: skip


@dataclass
class Chain:
    rpc: Rpc
    counter: str
    block: int  # the block with one transaction of each type
    block_hash: str
    tx_hashes: list[str]  # legacy, access list, dynamic fee (with a log)
    pending_sender: str
    filters: dict[str, str]
    unsent: str  # a signed transaction for eth_sendRawTransaction


@pytest.fixture(scope="module")
def chain(rpc_factory: Callable[..., Rpc], counter_artifact: dict[str, Any]) -> Chain:
    rpc = rpc_factory()
    filters = {
        "logs": rpc.request("eth_newFilter", [{"fromBlock": "0x1"}])["result"],
        "blocks": rpc.request("eth_newBlockFilter")["result"],
        "pending": rpc.request("eth_newPendingTransactionFilter")["result"],
        "spare": rpc.request("eth_newBlockFilter")["result"],
    }
    counter = deploy_counter(rpc, counter_artifact, 5)
    sender, other = rpc.accounts[0], rpc.accounts[1]
    increment = counter.encode_abi("increment", args=["spec"])
    hashes = []
    for account, tx_type, fields in (  # each signed once the previous one is pooled:
        (other, 0, {}),  # sign() takes the pending nonce
        (other, 1, {}),
        (sender, 2, {"to": counter.address, "value": 0, "data": increment}),
    ):
        raw = sign(rpc, account, tx_type, **fields)
        hashes.append(rpc.w3.eth.send_raw_transaction(raw).to_0x_hex())
    block = rpc.mine()
    receipts = [rpc.w3.eth.get_transaction_receipt(h) for h in hashes]
    assert [r["status"] for r in receipts] == [1, 1, 1] and len(receipts[2]["logs"]) == 1
    waiting = rpc.accounts[2]
    rpc.w3.eth.send_raw_transaction(sign(rpc, waiting, 2))  # pending
    nonce = rpc.w3.eth.get_transaction_count(waiting.address, "pending")
    rpc.w3.eth.send_raw_transaction(sign(rpc, waiting, 2, nonce=nonce + 1))  # queued: a gap
    return Chain(
        rpc,
        counter.address,
        block,
        rpc.w3.eth.get_block(block)["hash"].to_0x_hex(),
        hashes,
        waiting.address,
        filters,
        "0x" + sign(rpc, rpc.accounts[3], 2).hex(),
    )


def calldata(signature: str, *args: Any) -> str:
    types = signature[signature.index("(") + 1 : -1].split(",") if args else []
    return "0x" + (keccak(text=signature)[:4] + encode(types, list(args))).hex()


def cases(ch: Chain) -> dict[str, list[list[Any]]]:
    """Realistic parameter lists for every spec method the node serves (or will serve)."""
    accounts = ch.rpc.accounts
    a0, a1 = accounts[0].address, accounts[1].address
    number = hex(ch.block)
    call = {"from": a0, "to": ch.counter, "input": calldata("count()")}
    fail = {"from": a0, "to": ch.counter, "input": calldata("fail()")}
    increment = {"from": a0, "to": ch.counter, "input": calldata("increment(string)", "sim")}
    transfer = {"from": a1, "to": a0, "value": "0x1"}
    simulate = {
        "blockStateCalls": [
            {
                "stateOverrides": {a1: {"balance": "0xde0b6b3a7640000"}},
                "calls": [transfer, call, fail],
            },
            {"blockOverrides": {"number": hex(ch.block + 5)}, "calls": [increment]},
        ],
        "traceTransfers": True,
        "returnFullTransactions": True,
    }
    return {
        "debug_getBadBlocks": [[]],
        "debug_getRawBlock": [[number], ["latest"]],
        "debug_getRawHeader": [[number], [ch.block_hash]],
        "debug_getRawReceipts": [[number]],
        "debug_getRawTransaction": [[h] for h in ch.tx_hashes],
        "eth_accounts": [[]],
        "eth_blobBaseFee": [[]],
        "eth_blockNumber": [[]],
        "eth_call": [[call, "latest"], [call, {"blockHash": ch.block_hash}]],
        "eth_capabilities": [[]],
        "eth_chainId": [[]],
        "eth_coinbase": [[]],
        "eth_config": [[]],
        "eth_createAccessList": [[increment, "latest"], [fail], [transfer, "pending"]],
        "eth_estimateGas": [[increment], [transfer, "latest"]],
        "eth_feeHistory": [["0x4", "latest", [25, 75]], ["0x2", number, []]],
        "eth_gasPrice": [[]],
        "eth_getBalance": [[a0, "latest"], [a0, "pending"], [a0, "0x0"]],
        "eth_getBlockByHash": [[ch.block_hash, True], [ch.block_hash, False]],
        "eth_getBlockByNumber": [[number, True], ["latest", False], ["earliest", True]],
        "eth_getBlockReceipts": [[number], ["latest"], [ch.block_hash]],
        "eth_getBlockTransactionCountByHash": [[ch.block_hash]],
        "eth_getBlockTransactionCountByNumber": [[number], ["pending"]],
        "eth_getCode": [[ch.counter, "latest"], [a0, "latest"]],
        "eth_getFilterChanges": [
            [ch.filters["logs"]],
            [ch.filters["blocks"]],
            [ch.filters["pending"]],
        ],
        "eth_getFilterLogs": [[ch.filters["logs"]]],
        "eth_getLogs": [
            [{"fromBlock": "0x0", "toBlock": "latest"}],
            [{"blockHash": ch.block_hash}],
        ],
        "eth_getProof": [[ch.counter, ["0x0", "0x1"], "latest"], [a0, [], number]],
        "eth_getStorageAt": [[ch.counter, "0x0", "latest"]],
        "eth_getStorageValues": [[{ch.counter: ["0x0", "0x1"], a0: ["0x0"]}, "latest"]],
        "eth_getTransactionByBlockHashAndIndex": [[ch.block_hash, hex(i)] for i in range(3)],
        "eth_getTransactionByBlockNumberAndIndex": [[number, hex(i)] for i in range(3)],
        "eth_getTransactionByHash": [[h] for h in ch.tx_hashes],
        "eth_getTransactionCount": [[a0, "latest"], [a0, "pending"]],
        "eth_getTransactionReceipt": [[h] for h in ch.tx_hashes],
        "eth_maxPriorityFeePerGas": [[]],
        "eth_newBlockFilter": [[]],
        "eth_newFilter": [[{"address": ch.counter, "topics": [None]}]],
        "eth_newPendingTransactionFilter": [[]],
        "eth_sendRawTransaction": [[ch.unsent]],
        "eth_simulateV1": [[simulate, "latest"], [{"blockStateCalls": [{"calls": [call]}]}]],
        "eth_syncing": [[]],
        "eth_uninstallFilter": [[ch.filters["spare"]]],
        "net_version": [[]],
        "txpool_content": [[]],
        "txpool_contentFrom": [[ch.pending_sender]],
        "txpool_status": [[]],
    }


def served(rpc: Rpc) -> set[str]:
    return set(rpc.server.app.state.dispatcher.methods)


def test_every_spec_method_is_served_or_has_a_documented_answer(chain: Chain) -> None:
    table = served(chain.rpc)
    known = cases(chain)
    for name in methods():
        if name in KEYLESS | LATER_FORKS:
            assert name in table, f"{name} must answer its documented error, not -32601"
        elif name in table:
            assert name in known, f"{name} is served: give it a case in cases()"
        else:
            assert name in KEYLESS | LATER_FORKS or name.startswith(NOT_EXPOSED_PREFIXES), (
                f"{name} is in the spec but neither served nor documented as unsupported"
            )
    unclassified = table - set(methods()) - EXTENSIONS
    assert not unclassified, (
        f"served methods outside the spec, not listed as extensions: {unclassified}"
    )


ANSWERED = sorted(
    m
    for m in methods()
    if not m.startswith(NOT_EXPOSED_PREFIXES) and m not in KEYLESS | LATER_FORKS
)  # the rest answer errors: test_unsupported_methods_answer_their_documented_error


@pytest.mark.parametrize("method", ANSWERED)
def test_results_validate_against_the_spec(chain: Chain, method: str) -> None:
    assert method in served(chain.rpc), method
    for params in cases(chain)[method]:
        reply = chain.rpc.request(method, params)
        assert "error" not in reply, f"{method}{params}: {reply['error']}"
        assert schema_errors(method, reply["result"]) == [], (method, params, reply["result"])


def test_pending_transactions_validate_as_pending_transaction_info(chain: Chain) -> None:
    # eth_getTransactionByHash's schema only has mined transactions (TransactionInfo needs a
    # blockHash); a pending one is the spec's PendingTransactionInfo, as txpool shows it
    content = chain.rpc.request("txpool_content")["result"]
    pending = [tx for by_nonce in content["pending"].values() for tx in by_nonce.values()]
    assert pending and all(tx["blockTimestamp"] is None for tx in pending)
    by_hash = chain.rpc.request("eth_getTransactionByHash", [pending[0]["hash"]])["result"]
    assert by_hash == pending[0]


@pytest.mark.parametrize(
    ("method", "params", "code", "text"),
    [
        ("eth_sign", ["0x" + "11" * 20, "0xdeadbeef"], -32000, "unknown account"),
        ("eth_sendTransaction", [{"from": "0x" + "11" * 20, "to": "0x" + "22" * 20}], -32000, "unknown account"),
        ("eth_signTransaction", [{"from": "0x" + "11" * 20, "gas": "0x5208", "gasPrice": "0x1", "nonce": "0x0"}], -32000, "unknown account"),
        ("eth_signTransaction", [{"from": "0x" + "11" * 20}], -32000, "gas not specified"),
        ("eth_getBlockAccessList", ["latest"], -38005, "unsupported fork: eth_getBlockAccessList needs EIP-7928"),
        ("debug_getRawBlockAccessList", ["0x1"], -38005, "unsupported fork"),
        ("engine_newPayloadV4", [], -32601, "does not exist/is not available"),
        ("testing_buildBlockV1", [], -32601, "does not exist/is not available"),
    ],
)  # fmt: skip
def test_unsupported_methods_answer_their_documented_error(
    chain: Chain, method: str, params: list[Any], code: int, text: str
) -> None:
    error = chain.rpc.request(method, params)["error"]
    assert error["code"] == code and text in error["message"], error


def test_every_keyless_and_later_fork_method_is_answered(chain: Chain) -> None:
    for name in KEYLESS | LATER_FORKS:
        error = chain.rpc.request(name, [])["error"]
        # missing params are -32602; the method exists (not -32601)
        assert error["code"] == -32602, (name, error)
